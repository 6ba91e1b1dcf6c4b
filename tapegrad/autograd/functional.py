"""torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp and hvp of a Python function.

Every function here takes `func` and its `inputs` (a Tensor or a tuple of Tensors), runs `func`
on fresh graph leaves (or on views of the inputs when `create_graph=True`, so the result stays
differentiable with respect to them) and returns results nested exactly as torch does: a tuple
level only where the user gave a tuple.

Note [Forward mode by double backward]
As torch's, `jvp` and `hvp` compute a Jacobian-vector product J v as the gradient, with respect
to a dummy cotangent u, of the vector-Jacobian product u^T J: that product is linear in u, so
d(u^T J v)/du = J v. `jacobian(strategy="forward-mode")` uses forward-mode AD itself.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..ops import _registry as R
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_STRATEGY_ERROR = ('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function has more '
                   'outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer to use '
                   '"reverse-mode".')


# ---------------------------------------------------------------------------------------
# argument handling

def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """Whether `inp` was a tuple, and `inp` as a tuple of Tensors (torch's TypeError otherwise)."""
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, R.Tensor):
            where = f"the value at index {i} has type {type(el)}" if is_tuple else \
                f"the given {arg_name} has type {type(el)}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                            f"{where}.")
    return is_tuple, items


def _unpack(res: tuple, to_unpack: Any) -> Any:
    """Undo the tupling of `_as_tuple`: one flag per nesting level (outer first)."""
    if isinstance(to_unpack, tuple):
        outer, inner = to_unpack
        if not inner:
            res = tuple(el[0] for el in res)
        return res if outer else res[0]
    return res if to_unpack else res[0]


def _prepare_inputs(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Leaves to differentiate with respect to: views of the inputs under create_graph (so the
    result stays connected to them), detached copies of the graph otherwise."""
    out = []
    for t in inputs:
        if create_graph and t._requires_grad:
            out.append(t.view_as(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(values: Any, create_graph: bool) -> Any:
    """Results leave the graph unless create_graph was asked for."""
    if isinstance(values, R.Tensor):
        return values if create_graph else values.detach()
    return tuple(_finish(v, create_graph) for v in values)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prefix = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {el_other.size()} but got {el_v.size()}.")


def _check_requires_grad(values: tuple, kind: str, strict: bool) -> None:
    """In strict mode, torch's error for a value that does not depend on the inputs."""
    if not strict:
        return
    for i, t in enumerate(values):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode.")
        if t._requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(f"The hessian of the user-provided function with respect to input {i} is independent "
                               "of the input. This is not allowed in strict mode. You should ensure that your "
                               "function is thrice differentiable and that the hessian depends on the inputs.")
        if kind == "jacobian":
            raise RuntimeError("While computing the hessian, found that the jacobian of the user-provided function "
                               f"with respect to input {i} is independent of the input. This is not allowed in "
                               "strict mode. You should ensure that your function is twice differentiable and that "
                               "the jacobian depends on the inputs (this would be violated by a linear function for "
                               "example).")
        if kind == "grad_inputs":
            raise RuntimeError(f"The gradient with respect to input {i} is independent of the inputs of the "
                               "user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The outputs must "
                           "be computed in a differentiable manner from the input when running in strict mode.")


_ZERO_GRAD_ERRORS = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
                  "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
                         "This is not allowed in strict mode as it prevents from using the double backward trick to "
                         "replace forward mode AD.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Zeros (shaped like `refs`) for missing gradients, or torch's strict-mode errors."""
    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_GRAD_ERRORS[stage].format(i=i))
            g = _zeros_like(ref)
        elif strict and create_graph and not g._requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)


def _zeros_like(t: Any, requires_grad: bool = False) -> Any:
    return R._make(np.zeros(t._data.shape, t._data.dtype), requires_grad, None, 0)


def _grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None, create_graph: bool = False,
          retain_graph: bool | None = None) -> tuple:
    """autograd.grad over the outputs that require grad; None for inputs they do not reach."""
    from . import grad as autograd_grad
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    outs, gouts = [], []
    for out, g in zip(outputs, grad_outputs):
        if out is not None and out._requires_grad:
            outs.append(out)
            gouts.append(g)
    if not outs:
        return (None,) * len(inputs)
    return autograd_grad(tuple(outs), inputs, tuple(gouts), allow_unused=True, create_graph=create_graph,
                         retain_graph=retain_graph)


_V_NONE_INPUTS = ("The vector v can only be None if the input to the user-provided function is a single Tensor with "
                  "a single element.")


def _leaf_inputs(inputs: Any, create_graph: bool, name: str) -> tuple[bool, tuple]:
    """Whether `inputs` was a tuple, and the inputs as a tuple of leaves to differentiate with respect to
    (see `_prepare_inputs`); torch's TypeError for anything but a Tensor or a tuple of Tensors."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    return is_inputs_tuple, _prepare_inputs(inputs, create_graph, need_graph=True)


def _call(func: Callable, inputs: tuple, strict: bool, name: str) -> tuple[bool, tuple]:
    """Run `func(*inputs)`: whether it returned a tuple, and its outputs as a tuple of Tensors (torch's
    TypeError otherwise; in strict mode, torch's error for an output that does not require grad)."""
    is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict)
    return is_outputs_tuple, outputs


def _prepare_v(v: Any, values: tuple, is_values_tuple: bool, create_graph: bool, name: str,
               none_message: str = _V_NONE_INPUTS) -> Any:
    """The vector `v` as a tuple of detached Tensors checked against `values` (the ones it multiplies), or
    None where that is allowed (a single one-element value); torch's errors, `none_message` for a bad None."""
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _prepare_inputs(v, create_graph, need_graph=False)
        _validate_v(v, values, is_values_tuple)
        return v
    if len(values) != 1 or values[0]._data.size != 1:
        raise RuntimeError(none_message)
    return None


def _last_backward(outs: tuple, wrt: tuple, v: Any, refs: tuple, strict: bool, create_graph: bool,
                   stage: str) -> tuple:
    """The final backward of vjp, jvp, vhp and hvp: the gradient of `outs` with respect to `wrt` against `v`,
    recorded under create_graph (or when grad mode is on), with gaps filled by `_fill_in_zeros`."""
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grads = _grad(outs, wrt, v, create_graph=create_graph)
        return _fill_in_zeros(grads, refs, strict, create_graph, stage)


def _results(outputs: tuple, is_outputs_tuple: bool, result: tuple, is_result_tuple: bool,
             create_graph: bool) -> tuple:
    """(func's outputs, the product), detached unless create_graph, each untupled as it was given."""
    return (_unpack(_finish(outputs, create_graph), is_outputs_tuple),
            _unpack(_finish(result, create_graph), is_result_tuple))


# ---------------------------------------------------------------------------------------
# public API

def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """`func(*inputs)` and the vector-Jacobian product v^T J (v may be None for a one-element output)."""
    with enable_grad():
        is_inputs_tuple, inputs = _leaf_inputs(inputs, create_graph, "vjp")
        is_outputs_tuple, outputs = _call(func, inputs, strict, "vjp")
        v = _prepare_v(v, outputs, is_outputs_tuple, create_graph, "vjp",
                       "The vector v can only be None if the user-provided function returns a single Tensor with a "
                       "single element.")
    result = _last_backward(outputs, inputs, v, inputs, strict, create_graph, "back")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """`func(*inputs)` and the Jacobian-vector product J v (see Note [Forward mode by double backward])."""
    with enable_grad():
        is_inputs_tuple, inputs = _leaf_inputs(inputs, create_graph, "jvp")
        v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, "jvp")
        is_outputs_tuple, outputs = _call(func, inputs, strict, "jvp")
        dummy = tuple(_zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _grad(outputs, inputs, dummy, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    result = _last_backward(grad_inputs, dummy, v, outputs, strict, create_graph, "back_trick")
    return _results(outputs, is_outputs_tuple, result, is_outputs_tuple, create_graph)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian of `func` at `inputs`: for output i and input j, a tensor of shape
    `outputs[i].shape + inputs[j].shape`, nested as the outputs and inputs were given.

    `vectorize=True` gives the same values with one backward vmapped over the basis cotangents;
    `strategy="forward-mode"` requires `vectorize=True` as in torch and vmaps forward-mode AD over
    the basis tangents (results in lists, as torch's).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(_STRATEGY_ERROR)
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` and "
                                      '`strategy="forward-mode"` are not supported together (yet). Please either set '
                                      '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `strategy=\"forward-mode\"` are "
                               "not supported together (yet). Please either set `strict=False` or "
                               '`strategy="reverse-mode"`.')
        _as_tuple(inputs, "inputs", "jacobian")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                      "only implemented for `vectorize=True`.")
        return _jacobian_forward(func, inputs)
    with enable_grad():
        is_inputs_tuple, inputs = _leaf_inputs(inputs, create_graph, "jacobian")
        is_outputs_tuple, outputs = _call(func, inputs, strict, "jacobian")
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        rows = _jacobian_rows_vmapped if vectorize and strategy == "reverse-mode" else _jacobian_rows
        result = tuple(rows(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
        result = _finish(result, create_graph)
    return _unpack(result, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_forward(func: Callable, inputs: Any) -> Any:
    """strategy="forward-mode": one forward pass vmapped over the standard basis of all the inputs
    (concatenated); nested in lists, as torch's."""
    from ..func._vmap import vmap
    from . import forward_ad as fw
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    numels = [t._data.size for t in inputs]
    total = sum(numels)
    dtype = np.result_type(*[t._data.dtype for t in inputs])
    eye = np.eye(total, dtype=dtype)
    tangents, start = [], 0
    for t, n in zip(inputs, numels):
        tangents.append(R._make(np.ascontiguousarray(eye[:, start:start + n]).astype(t._data.dtype, copy=False)
                                .reshape((total,) + t._data.shape), False, None, 0))
        start += n
    info: list = []

    def push(*ts: Any) -> tuple:
        with fw.dual_level():
            duals = tuple(fw.make_dual(x, t) for x, t in zip(inputs, ts))
            is_outputs_tuple, outs = _as_tuple(func(*duals), "outputs", "jacobian")
            info[:] = [is_outputs_tuple, [fw.unpack_dual(o).primal for o in outs]]
            return tuple(t if t is not None else _zeros_like(o)
                         for o, t in ((o, fw.unpack_dual(o).tangent) for o in outs))
    stacked = vmap(push)(*tangents)
    is_outputs_tuple, outputs = info
    result = []
    for jac, out in zip(stacked, outputs):
        row, start = [], 0
        for inp, n in zip(inputs, numels):
            part = jac.narrow(0, start, n)
            start += n
            row.append(part.permute(*range(1, part.dim()), 0).reshape(tuple(out.shape) + tuple(inp.shape)))
        result.append(row)
    if not is_inputs_tuple:
        result = [row[0] for row in result]
    return result if is_outputs_tuple else result[0]


def _jacobian_rows_vmapped(i: int, out: Any, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """d out / d inputs[j] for every j: one backward, vmapped over the basis cotangents."""
    from ..func._vmap import vmap
    n = out._data.size
    if n == 0 or not out._requires_grad:
        return _jacobian_rows(i, out, inputs, create_graph, strict)
    basis = R._make(np.eye(n, dtype=out._data.dtype).reshape((n,) + out._data.shape), False, None, 0)

    def one(ct: Any) -> tuple:
        grads = _grad((out,), inputs, (ct,), retain_graph=True, create_graph=create_graph)
        return tuple(_zeros_like(inp) if g is None else g for g, inp in zip(grads, inputs))
    rows = vmap(one)(basis)
    return tuple(r.reshape(tuple(out.shape) + tuple(inp.shape)) for r, inp in zip(rows, inputs))


def _jacobian_rows(i: int, out: Any, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """d out / d inputs[j] for every j, one backward per element of `out`."""
    from .. import stack
    rows: list[list] = [[] for _ in inputs]
    flat = out.reshape(-1)
    for k in range(out._data.size):
        grads = _grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (g, inp) in enumerate(zip(grads, inputs)):
            if g is not None:
                if strict and create_graph and not g._requires_grad:
                    raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                       "This is not allowed in strict mode when create_graph=True.")
                rows[j].append(g)
            else:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. This "
                                       "is not allowed in strict mode.")
                rows[j].append(_zeros_like(inp))
    return tuple(stack(r, 0).view(out.shape + inp.shape) for r, inp in zip(rows, inputs))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function: for inputs i and j a tensor of shape
    `inputs[i].shape + inputs[j].shape`, nested as the inputs were given."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp: Any) -> Any:
        return _scalar_output(func, inp, strict, "hessian")[1][0].squeeze()

    def jac_func(*inp: Any) -> Any:
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_output(func: Callable, inputs: tuple, strict: bool, name: str) -> tuple:
    """`_call`, then torch's errors unless `func` returned a single one-element Tensor."""
    is_outputs_tuple, outputs = _call(func, inputs, strict, name)
    if is_outputs_tuple or not isinstance(outputs[0], R.Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0]._data.size != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    return is_outputs_tuple, outputs


def _first_derivative(func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool, name: str) -> tuple:
    """What vhp and hvp share: (is_inputs_tuple, inputs as leaves, v checked against them, is_outputs_tuple,
    the one-element output, its gradient with respect to the inputs, kept differentiable)."""
    is_inputs_tuple, inputs = _leaf_inputs(inputs, create_graph, name)
    v = _prepare_v(v, inputs, is_inputs_tuple, create_graph, name)
    is_outputs_tuple, outputs = _scalar_output(func, inputs, strict, name)
    jac = _grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """`func(*inputs)` (a one-element tensor) and the vector-Hessian product v^T H."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _first_derivative(func, inputs, v, create_graph,
                                                                                       strict, "vhp")
    result = _last_backward(jac, inputs, v, inputs, strict, create_graph, "double_back")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """`func(*inputs)` (a one-element tensor) and the Hessian-vector product H v
    (see Note [Forward mode by double backward])."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _first_derivative(func, inputs, v, create_graph,
                                                                                       strict, "hvp")
        dummy = tuple(_zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _grad(jac, inputs, dummy, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    result = _last_backward(double_back, dummy, v, inputs, strict, create_graph, "double_back_trick")
    return _results(outputs, is_outputs_tuple, result, is_inputs_tuple, create_graph)
