"""torch.autograd.gradcheck / gradgradcheck: analytical gradients against finite differences.

gradcheck builds, for each input requiring grad and each differentiable output, the numerical
Jacobian by central differences (each input element moved by ±eps in place) and the analytical
Jacobian row by row through `tapegrad.autograd.grad`, and compares them element by element
(|analytical - numerical| <= atol + rtol * |numerical|). Fast mode compares the single number
v^T J u for random unit vectors u, v instead. gradgradcheck runs gradcheck on the function that
returns the first gradients (with `create_graph=True`), so it checks second derivatives.

Jacobians are laid out as torch lays them: one row per input element, one column per output
element. The checks that use forward-mode AD and vmap (check_forward_ad, check_batched_grad,
check_batched_forward_grad) are in _gradcheck_extra.py. Complex inputs and outputs are not supported.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


_NONDET_NOTE = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""

_FAST_FAIL_SLOW_OK = """
Fast gradcheck failed but element-wise differences are small. This means that the
test might've passed in slow_mode!

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck:

If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `fast_mode=False` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_fast_mode=False`
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_fast_mode=False`
""".strip()

_UNDEFINED_GRAD_WARNING = (
    "Backwards compatibility: New undefined gradient support checking feature is enabled by default, but it may "
    "break existing callers of this function. If this is true for you, you can call this function with "
    '"check_undefined_grad=False" to disable the feature')


# ---------------------------------------------------------------------------------------
# small helpers

def _tensor_cls() -> type:
    from .._tensor import Tensor
    return Tensor


def _make(data: np.ndarray, requires_grad: bool = False) -> Any:
    from .._tensor import make
    return make(data, requires_grad, None, 0)


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_float_tensor(x: Any) -> bool:
    return isinstance(x, _tensor_cls()) and x._data.dtype.kind in "fc"


def _differentiable_outputs(x: Any) -> tuple:
    return tuple(o for o in _as_tuple(x) if o.requires_grad)


def _diff_inputs(inputs: tuple) -> list:
    Tensor = _tensor_cls()
    return [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]


def _check_inputs(inputs: tuple) -> None:
    """At least one input requires grad; warn on single precision; refuse overlapping memory."""
    Tensor = _tensor_cls()
    any_requires_grad = False
    for idx, inp in enumerate(inputs):
        if not (isinstance(inp, Tensor) and inp.requires_grad):
            continue
        if inp._data.dtype not in (np.float64, np.complex128):
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ", UserWarning, stacklevel=2)
        if inp._data.dtype.kind == "c":
            raise NotImplementedError("tapegrad's gradcheck does not support complex inputs yet")
        if inp._data.size and not all(st != 0 or sz <= 1 for st, sz in zip(inp._data.strides, inp._data.shape)):
            raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck only supports inputs "
                               "that are non-overlapping to be able to compute the numerical gradients correctly. "
                               "You should call .contiguous on the input before passing it to gradcheck.")
        any_requires_grad = True
    if not any_requires_grad:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _allclose(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    """torch.allclose(a, b): |a - b| <= atol + rtol * |b| everywhere, NaN never close."""
    dt = np.promote_types(a.dtype, b.dtype)
    a = a.astype(dt, copy=False)
    b = b.astype(dt, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(a - b) <= atol + rtol * np.abs(b)
        close |= (a == b)  # equal infinities
    return bool(np.all(close))


def _mismatch_message(analytical: np.ndarray, numerical: np.ndarray, output_idx: int, input_idx: int) -> str:
    return (f"Jacobian mismatch for output {output_idx:d} with respect to input {input_idx:d},\n"
            f"numerical:{_make(numerical)}\nanalytical:{_make(analytical)}\n")


def _shape_repr(shape: tuple) -> str:
    from .._size import Size
    return repr(Size(shape))


def _dtype_repr(dt: np.dtype) -> str:
    from .. import _dtype as D
    return str(D.from_numpy(dt))


# ---------------------------------------------------------------------------------------
# numerical side

def _evaluate(func: Callable, inputs: tuple) -> list:
    """func's outputs as copied arrays (None for non-tensors), so later perturbations cannot change them."""
    Tensor = _tensor_cls()
    return [np.array(o._data, copy=True) if isinstance(o, Tensor) else None for o in _as_tuple(func(*inputs))]


def _check_same_meta(a: np.ndarray, b: np.ndarray, eps: float, idx: Any) -> None:
    on_index = f"on index {idx} " if idx is not None else ""
    if a.shape != b.shape:
        raise AssertionError(f"Expected `func` to return outputs with the same shape when inputs are perturbed "
                             f"{on_index}by {eps}, but got: shapes {_shape_repr(a.shape)} and {_shape_repr(b.shape)}.")
    if a.dtype != b.dtype:
        raise AssertionError(f"Expected `func` to return outputs with the same dtype when inputs are perturbed "
                             f"{on_index}by {eps}, but got: dtypes {_dtype_repr(a.dtype)} and {_dtype_repr(b.dtype)}.")


def _float_positions(func_out: tuple) -> list:
    """Positions of the floating-point tensors among func's outputs."""
    return [k for k, o in enumerate(func_out) if _is_float_tensor(o)]


def _numerical_jacobians(func: Callable, inputs: tuple, func_out: tuple, eps: float) -> list:
    """jac[i][k]: Jacobian (input numel x output numel) of func_out[k] w.r.t. the i-th input requiring grad.

    Only floating outputs get a Jacobian (None for the others).
    """
    float_outputs = _float_positions(func_out)
    result = []
    for inp in _diff_inputs(inputs):
        data = inp._data
        jacs: list = [None] * len(func_out)
        for k in float_outputs:
            jacs[k] = np.zeros((data.size, func_out[k]._data.size), func_out[k]._data.dtype)
        for flat in range(data.size):
            idx = np.unravel_index(flat, data.shape)
            orig = data[idx].copy()
            data[idx] = orig - eps
            before = _evaluate(func, inputs)
            data[idx] = orig + eps
            after = _evaluate(func, inputs)
            data[idx] = orig
            for k in float_outputs:
                a, b = before[k], after[k]
                _check_same_meta(a, b, eps, tuple(int(i) for i in idx))
                jacs[k][flat] = ((b - a) / (2 * eps)).reshape(-1)
        result.append(jacs)
    return result


def _numerical_jvp(func: Callable, inputs: tuple, inp: Any, u: np.ndarray, eps: float) -> list:
    """J u for every output (as flat arrays), by central differences along the direction u."""
    data = inp._data
    orig = data.copy()
    step = (u * eps).reshape(data.shape).astype(data.dtype)
    data[...] = orig - step
    before = _evaluate(func, inputs)
    data[...] = orig + step
    after = _evaluate(func, inputs)
    data[...] = orig
    out = []
    for a, b in zip(before, after):
        if a is None or a.dtype.kind not in "fc":
            out.append(None)
            continue
        _check_same_meta(a, b, eps, None)
        out.append(((b - a) / (2 * eps)).reshape(-1))
    return out


# ---------------------------------------------------------------------------------------
# analytical side

def _vjp(output: Any, diff_inputs: list, grad_output: np.ndarray) -> tuple:
    from . import grad
    return grad(output, diff_inputs, _make(grad_output), retain_graph=True, allow_unused=True)


def _analytical_rows(output: Any, diff_inputs: list) -> list:
    """rows[i][j]: gradient of output element j w.r.t. diff input i (a Tensor or None)."""
    base = np.zeros(output._data.shape, output._data.dtype)
    flat = base.reshape(-1)
    rows: list = [[] for _ in diff_inputs]
    for j in range(flat.size):
        flat[:] = 0
        flat[j] = 1
        grads = _vjp(output, diff_inputs, base)
        for i, g in enumerate(grads):
            rows[i].append(None if g is None else np.array(g._data, copy=True))
    return rows


def _stack_rows(rows: list, diff_inputs: list, ncols: int) -> tuple:
    """The Jacobians (input numel x ncols) from the rows, and whether sizes and dtypes matched the inputs."""
    jacobians = []
    sizes_ok = types_ok = True
    for inp, inp_rows in zip(diff_inputs, rows):
        jac = np.zeros((inp._data.size, ncols), inp._data.dtype)
        for j, g in enumerate(inp_rows):
            if g is None:
                continue
            if g.shape != inp._data.shape:
                sizes_ok = False
            elif g.dtype != inp._data.dtype:
                types_ok = False
            if g.size != jac.shape[0]:
                raise GradcheckError("Analytical gradient has incorrect size")
            jac[:, j] = g.reshape(-1)
        jacobians.append(jac)
    return jacobians, sizes_ok, types_ok


def _check_attributes(diff_inputs: list, compute: Callable, ncols: int, nondet_tol: float,
                      check_grad_dtypes: bool) -> list:
    """Run the backward twice, check sizes, dtypes and determinism, and return the Jacobians."""
    jac1, sizes_ok, types_ok = _stack_rows(compute(), diff_inputs, ncols)
    jac2, _, _ = _stack_rows(compute(), diff_inputs, ncols)
    reentrant = all(a.size == 0 or np.max(np.abs(a - b)) <= nondet_tol for a, b in zip(jac1, jac2))
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and grad_output "
                             "multiple times gives different values, although analytical gradient matches "
                             f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}." + _NONDET_NOTE)
    return jac1


# ---------------------------------------------------------------------------------------
# the checks

def _check_no_differentiable_outputs(func: Callable, inputs: tuple, func_out: tuple, eps: float) -> None:
    for jacs in _numerical_jacobians(func, inputs, func_out, eps):
        for jac in jacs:
            if jac is not None and np.count_nonzero(jac):
                raise GradcheckError("Numerical gradient for function expected to be zero")


def _diff_positions(func_out: tuple) -> list:
    """Positions of the outputs requiring grad among func's outputs."""
    return [k for k, o in enumerate(func_out) if isinstance(o, _tensor_cls()) and o.requires_grad]


def _slow_check(func: Callable, inputs: tuple, func_out: tuple, outputs: tuple, eps: float, rtol: float,
                atol: float, nondet_tol: float, check_grad_dtypes: bool) -> None:
    numerical = _numerical_jacobians(func, inputs, func_out, eps)
    keep = _diff_positions(func_out)
    diff_inputs = _diff_inputs(inputs)
    for out_idx, o in enumerate(outputs):
        analytical = _check_attributes(diff_inputs, lambda: _analytical_rows(o, diff_inputs), o._data.size,
                                       nondet_tol, check_grad_dtypes)
        for in_idx, a in enumerate(analytical):
            n = numerical[in_idx][keep[out_idx]]
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(_mismatch_message(a, n, out_idx, in_idx))


def _unit_random(generator: Any, n: int, dtype: np.dtype) -> np.ndarray:
    """Uniform [0, 1) values in the default float dtype, cast to `dtype` and scaled to unit norm."""
    from .._random_factories import rand
    v = np.asarray(rand(n, generator=generator)._data).astype(dtype)
    norm = np.linalg.norm(v)
    return v / norm if norm else v


def _fast_check(func: Callable, inputs: tuple, func_out: tuple, outputs: tuple, eps: float, rtol: float,
                atol: float, nondet_tol: float, check_grad_dtypes: bool) -> None:
    from ..random import Generator
    rng = Generator()  # a fresh generator (torch's default seed), so the user's random stream is left alone
    diff_inputs = _diff_inputs(inputs)
    all_u = [_unit_random(rng, t._data.size, t._data.dtype) for t in diff_inputs]
    all_v = [_unit_random(rng, o._data.size, o._data.dtype) for o in outputs]
    out_positions = _diff_positions(func_out)
    numerical = []  # numerical[i][j] = v_j . (J_ij u_i)
    for inp, u in zip(diff_inputs, all_u):
        ju = _numerical_jvp(func, inputs, inp, u, eps)
        numerical.append([float(np.dot(v, ju[k])) if v.size else 0.0 for v, k in zip(all_v, out_positions)])
    for j, (o, v) in enumerate(zip(outputs, all_v)):
        def compute(o: Any = o, v: np.ndarray = v) -> list:
            grads = _vjp(o, diff_inputs, v.reshape(o._data.shape))
            return [[None if g is None else np.array(g._data, copy=True)] for g in grads]
        vjps = _check_attributes(diff_inputs, compute, 1, nondet_tol, check_grad_dtypes)
        for i, (vj, u) in enumerate(zip(vjps, all_u)):
            a = np.array(float(np.dot(vj[:, 0], u)) if u.size else 0.0)
            n = np.array(numerical[i][j])
            adjusted_atol = atol * float(u.sum()) * float(v.sum() if v.size else 1.0)
            if not _allclose(a, n, rtol, adjusted_atol):
                raise GradcheckError(_mismatch_message(a, n, j, i)
                                     + _slow_mode_report(func, inputs, func_out, o, i, j, rtol, atol, eps))


def _slow_mode_report(func: Callable, inputs: tuple, func_out: tuple, output: Any, input_idx: int, output_idx: int,
                      rtol: float, atol: float, eps: float) -> str:
    """Recompute the full Jacobians of one (output, input) pair for a readable fast-mode failure."""
    keep = _diff_positions(func_out)
    numerical = _numerical_jacobians(func, inputs, func_out, eps)[input_idx][keep[output_idx]]
    diff_inputs = _diff_inputs(inputs)
    analytical, _, _ = _stack_rows(_analytical_rows(output, diff_inputs), diff_inputs, output._data.size)
    analytical = analytical[input_idx]
    max_diff = np.max(np.abs(numerical - analytical)) if numerical.size else np.float64(0)
    msg = ("\nThe above quantities relating the numerical and analytical jacobians are computed \n"
           "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background \n"
           "about fast mode. Below, we recompute numerical and analytical jacobians in slow mode:\n\n"
           f"Numerical:\n {_make(numerical)}\n"
           f"Analytical:\n{_make(analytical)}\n\n"
           f"The max per-element difference (slow mode) is: {_make(np.asarray(max_diff))}.\n")
    if _allclose(analytical, numerical, rtol, atol):
        msg += _FAST_FAIL_SLOW_OK
    return msg


def _check_backward_mul_by_grad_output(outputs: tuple, inputs: tuple, masked: bool) -> None:
    """Zero output gradients must give zero input gradients of the inputs' sizes and dtypes."""
    from . import grad
    diff_inputs = _diff_inputs(inputs)
    if not diff_inputs:
        raise GradcheckError("no Tensors requiring grad found in input")
    zeros = [_make(np.zeros(o._data.shape, o._data.dtype)) for o in outputs]
    grads = grad(outputs, diff_inputs, zeros, allow_unused=True)
    for gi, di in zip(grads, diff_inputs):
        if gi is None:
            continue
        data = gi._data
        if masked:
            if not _allclose(data, np.zeros_like(data), 1e-05, 1e-08):
                raise GradcheckError("backward not multiplied by grad_output")
        elif np.count_nonzero(data != 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if data.dtype != di._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if data.shape != di._data.shape:
            raise GradcheckError("grad is incorrect size")


def _check_undefined_grad(func: Callable, inputs: tuple) -> None:
    """Backward must cope with outputs whose gradient is undefined, treating it as zero.

    An output left out of the `outputs` given to `grad` is such an output: its node receives no
    gradient for it. With several differentiable outputs each is left out in turn (the others get
    zero gradients); with all left out nothing runs, so that case holds trivially.
    """
    from . import grad
    diff_inputs = _diff_inputs(inputs)
    if not diff_inputs:
        raise GradcheckError("no Tensors requiring grad found in input")
    n = len(_differentiable_outputs(func(*inputs)))
    if n < 2:
        return
    for undefined in range(n):
        outs = [o for k, o in enumerate(_differentiable_outputs(func(*inputs))) if k != undefined]
        zeros = [_make(np.zeros(o._data.shape, o._data.dtype)) for o in outs]
        try:
            grads = grad(outs, diff_inputs, zeros, allow_unused=True)
        except RuntimeError as exc:
            warnings.warn(_UNDEFINED_GRAD_WARNING, UserWarning, stacklevel=2)
            raise GradcheckError('Expected backward function to handle undefined output grads. Please look at '
                                 '"Notes about undefined output gradients" in "tools/autograd/derivatives.yaml"'
                                 ) from exc
        for g in grads:
            if g is not None and np.count_nonzero(g._data != 0):
                warnings.warn(_UNDEFINED_GRAD_WARNING, UserWarning, stacklevel=2)
                raise GradcheckError('Expected all input grads to be undefined or zero when all output grads are '
                                     'undefined or zero. Please look at "Notes about undefined output gradients" in '
                                     '"tools/autograd/derivatives.yaml"')


def _gradcheck_helper(func: Callable, inputs: Any, eps: float, atol: float, rtol: float, nondet_tol: float,
                      check_undefined_grad: bool, check_grad_dtypes: bool, fast_mode: bool, masked: bool,
                      check_forward_ad: bool = False, check_backward_ad: bool = True, check_batched_grad: bool = False,
                      check_batched_forward_grad: bool = False) -> bool:
    from . import _gradcheck_extra as extra
    tupled = _as_tuple(inputs)
    _check_inputs(tupled)
    func_out = _as_tuple(func(*tupled))
    outputs = _differentiable_outputs(func_out)
    if any(o._data.dtype.kind == "c" for o in outputs):
        raise NotImplementedError("tapegrad's gradcheck does not support complex outputs yet")
    if not outputs:
        _check_no_differentiable_outputs(func, tupled, func_out, eps)
    else:
        if check_backward_ad:
            check = _fast_check if fast_mode else _slow_check
            check(func, tupled, func_out, outputs, eps, rtol, atol, nondet_tol, check_grad_dtypes)
        if check_forward_ad:  # after the backward check, as torch (fast_mode compares whole Jacobians too)
            extra.check_forward_ad(func, tupled, func_out, _numerical_jacobians(func, tupled, func_out, eps),
                                   rtol, atol)
    if check_batched_forward_grad:
        extra.check_batched_forward_grad(func, tupled)
    if not check_backward_ad:
        return True
    if check_batched_grad:
        for i, o in enumerate(outputs):
            extra.check_batched_grad(tupled, o, i)
    _check_backward_mul_by_grad_output(outputs, tupled, bool(masked))
    if check_undefined_grad:
        _check_undefined_grad(func, tupled)
    return True


# ---------------------------------------------------------------------------------------
# public API

def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-06, atol: float = 1e-05, rtol: float = 0.001,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the gradients of `func` at `inputs` against finite differences.

    Every input tensor with `requires_grad=True` is checked against every output that requires
    grad. Returns True when all checks pass; otherwise raises GradcheckError, or returns False
    when `raise_exception` is False. The defaults suit float64 inputs; other float inputs warn.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    try:
        return _gradcheck_helper(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                                 fast_mode, bool(masked), check_forward_ad, check_backward_ad, check_batched_grad,
                                 check_batched_forward_grad)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _random_grad_output(x: Any, noncontiguous: bool) -> Any:
    """Uniform values in [-1, 1) shaped like x (float64 for non-float x), requiring grad.

    Drawn from the default generator as torch.testing.make_tensor draws them, so a seeded run
    gets torch's values.
    """
    from .. import _dtype as D
    from .._creation import empty
    dtype = x.dtype if x.is_floating_point() else D.float64
    shape = tuple(x.shape)
    noncontiguous = noncontiguous and int(np.prod(shape)) > 1
    if noncontiguous:  # draw twice the last dim and keep every other element, from the second
        shape = shape[:-1] + (2 * shape[-1],)
    data = np.asarray(empty(shape, dtype=dtype).uniform_(-1, 1)._data)
    if noncontiguous:
        data = data[..., 1::2]
    return _make(data, requires_grad=True)


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-06,
                  atol: float = 1e-05, rtol: float = 0.001, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False) -> bool:
    """Check the second derivatives of `func` at `inputs` against finite differences of its gradients.

    The first gradients are taken with `create_graph=True` for `grad_outputs` (random in [-1, 1)
    and requiring grad when not given) and checked with gradcheck, with respect to both the
    inputs and the grad_outputs.
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    Tensor = _tensor_cls()
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _differentiable_outputs(func(*tupled_inputs))
        tupled_grad_outputs = tuple(_random_grad_output(o, gen_non_contig_grad_outputs) for o in outs)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(tupled_grad_outputs)
    diff_input_idx = {i for i, x in enumerate(tupled_inputs) if isinstance(x, Tensor) and x.requires_grad}
    diff_gout_idx = {i for i, g in enumerate(tupled_grad_outputs) if isinstance(g, Tensor) and g.requires_grad}

    def first_gradients(*args: Any) -> tuple:
        from . import grad
        input_args = args[:len(args) - num_outputs] if num_outputs else args
        gouts = args[len(args) - num_outputs:] if num_outputs else ()
        # the forward-mode check passes detached duals: they require grad again here, as in torch
        input_args = tuple(x.requires_grad_() if i in diff_input_idx and not x.requires_grad else x
                           for i, x in enumerate(input_args))
        gouts = tuple(g.requires_grad_() if i in diff_gout_idx and not g.requires_grad else g
                      for i, g in enumerate(gouts))
        outputs = _differentiable_outputs(func(*input_args))
        diff_args = tuple(x for i, x in enumerate(input_args) if i in diff_input_idx)
        grads = grad(outputs, diff_args, gouts, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_gradients, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, masked=masked)
