"""torch.func's function transforms: grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd, hessian.

They take functions of tensors (which need not require grad), accept nested containers of
tensors (see _pytree), and compose: grad(grad(f)), jacfwd(jacrev(f)), jvp(grad(f)) ...

Note [Transform levels]
Reverse-mode transforms (grad, vjp, jacrev) run `func` on stand-ins of their inputs: a fresh
leaf requiring grad for an input outside any graph, an alias recorded on the tape for an input
that an enclosing transform (or the user) differentiates, so that gradients flow on outwards.
The backward keeps its graph (create_graph) only when the result depends on something outside
the transform (found by walking the recorded graph); otherwise results come back as plain
tensors, as torch.func returns them. Forward-mode transforms (jvp, jacfwd) open their own
forward-AD level (autograd/forward_ad.py), so nested forward transforms never confuse their
tangents (Note [Nested forward levels]). Stand-ins keep every tangent of their input, which is
what makes forward-over-reverse (jvp of grad, jacfwd of jacrev) work.

jacrev vmaps its vjp over the basis cotangents (one batched backward per output; see Note
[Masked levels] in _vmap.py), jacfwd its forward over the basis tangents (one batched forward
per input: tangent formulas are ops, so they batch).
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..autograd import forward_ad as _fw
from ..autograd._function_vmap import TRANSFORM_DEPTH
from ..autograd.graph import AccumulateGrad
from ..autograd.grad_mode import _state, enable_grad
from ..ops import _registry as R
from ._pytree import tree_flatten, tree_unflatten
from . import _vmap
from .._vmap_state import VM as _VM
from ..autograd._forward_state import FW as _FW_STATE

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian"]

# ---------------------------------------------------------------------------------------
# helpers

def _transformed(run: Callable) -> Any:
    """run() counted as code under a torch.func transform (custom Functions check it)."""
    TRANSFORM_DEPTH[0] += 1
    try:
        return run()
    finally:
        TRANSFORM_DEPTH[0] -= 1


def _check_tensor(x: Any) -> None:
    if not isinstance(x, R.Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")


def _check_argnums(argnums: Any, nargs: int) -> tuple:
    """The argnums as a tuple of non-negative positions (torch's errors)."""
    if isinstance(argnums, int):
        nums = (argnums,)
    elif isinstance(argnums, tuple):
        if len(argnums) == 0:
            raise RuntimeError("argnums must be non-empty")
        nums = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    out = []
    for n in nums:
        if not isinstance(n, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -nargs <= n < nargs:
            raise RuntimeError(f"Got argnum={n}, but only {nargs} positional inputs")
        out.append(n % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums must be unique, got {argnums}")
    return tuple(out)


def _stand_in(x: Any) -> Any:
    """An input as a transform differentiates it (Note [Transform levels])."""
    _check_tensor(x)
    if _VM.active:
        return _vmap.batched_stand_in(x)
    if x._requires_grad and _state.enabled:
        return R.dispatch(R.OPS["alias"], (x,))
    t = R._make(x._data, True, None, 0, x._version_counter)
    fw = getattr(x, "_fw_grads", None)
    if fw:
        t._fw_grads = dict(fw)
    return t


def _plain(t: Any) -> Any:
    """A graph-free alias of `t` keeping its forward-mode tangents (and vmap levels)."""
    if not isinstance(t, R.Tensor):
        return t
    out = _vmap.mark(R._make(_vmap.physical_data(t), False, None, 0, t._version_counter), _vmap.levels_of(t))
    fw = getattr(t, "_fw_grads", None)
    if fw:
        out._fw_grads = fw
    return out


def _reaches_outside(outputs: list, inside: list) -> bool:
    """Whether the graph of `outputs` reaches a leaf that is not one of the `inside` stand-ins."""
    inner = {id(t) for t in inside}
    stack = [o._grad_fn for o in outputs if isinstance(o, R.Tensor) and o._grad_fn is not None]
    for o in outputs:
        if isinstance(o, R.Tensor) and o._grad_fn is None and o._requires_grad and id(o) not in inner:
            return True
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.__class__ is AccumulateGrad:
            if id(node.variable) not in inner:
                return True
            continue
        for nxt, _ in node._next:
            if nxt is not None and nxt not in seen:
                stack.append(nxt)
    return False


def _zeros_like(t: Any) -> Any:
    d = _vmap.physical_data(t)
    return _vmap.mark(R._make(np.zeros(d.shape, d.dtype), False, None, 0), _vmap.levels_of(t))


def _split_aux(out: Any, api: str) -> tuple:
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


def _check_aux(aux: Any) -> None:
    for a in tree_flatten(aux)[0]:
        if not isinstance(a, R.Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(a)}")


def _autograd_grad(outputs: list, inputs: list, grad_outputs: list | None, create: bool, retain: bool) -> list:
    from ..autograd import grad as autograd_grad
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs or [None] * len(outputs)) if o._requires_grad]
    if not pairs:
        return [_zeros_like(x) for x in inputs]
    grads = autograd_grad([o for o, _ in pairs], inputs, None if grad_outputs is None else [g for _, g in pairs],
                          retain_graph=retain, create_graph=create, allow_unused=True)
    return [_zeros_like(x) if g is None else g for g, x in zip(grads, inputs)]


# ---------------------------------------------------------------------------------------
# reverse mode

def grad_and_value(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """A function returning (gradient of `func` w.r.t. the `argnums` inputs, value of `func`)."""
    api = "grad_and_value(f)(*args)"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _check_argnums(argnums, len(args))
        outer = _state.enabled
        with enable_grad():
            new_args = list(args)
            specs, inside = [], []
            for n in nums:
                leaves, spec = tree_flatten(args[n])
                stand = [_stand_in(x) for x in leaves]
                new_args[n] = tree_unflatten(stand, spec)
                specs.append((spec, len(stand)))
                inside.extend(stand)
            out = _transformed(lambda: func(*new_args, **kwargs))
            aux = None
            if has_aux:
                out, aux = _split_aux(out, api)
                _check_aux(aux)
            if not isinstance(out, R.Tensor):
                raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(out)}")
            if out.dim() != 0:
                raise RuntimeError(f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with "
                                   f"{out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            create = outer and _reaches_outside([out], inside)
            with _vmap.masked(_vmap.top_level()):  # Note [Masked levels] in _vmap.py
                seed = None if out.__class__ is R.Tensor else [R._make(np.ones_like(out._data), False, None, 0)]
                grads = _autograd_grad([out], inside, seed, create, retain=create)
            grads = [_vmap.mark_result(g, _vmap.levels_of(x)) if _vmap.levels_of(x) else g for g, x in zip(grads, inside)]
        if not create:
            grads = [_plain(g) for g in grads]
            out = _plain(out)
        if has_aux:
            aux = tree_unflatten([a if outer and _reaches_outside([a], inside) else _plain(a)
                                  for a in tree_flatten(aux)[0]], tree_flatten(aux)[1])
        structured, k = [], 0
        for spec, n in specs:
            structured.append(tree_unflatten(grads[k:k + n], spec))
            k += n
        g = structured[0] if isinstance(argnums, int) else tuple(structured)
        return (g, (out, aux)) if has_aux else (g, out)
    return wrapper


def grad(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar-valued `func` w.r.t. its `argnums` inputs (and aux if has_aux)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(func(*primals), vjp_fn[, aux]); vjp_fn(cotangents) gives one gradient per primal."""
    outer = _state.enabled
    with enable_grad():
        flat, spec = tree_flatten(primals)
        inside = [_stand_in(x) for x in flat]
        rec = _vmap.top_level()  # the vmap levels this graph was recorded at (Note [Masked levels])
        out = _transformed(lambda: func(*tree_unflatten(inside, spec)))
        aux = None
        if has_aux:
            out, aux = _split_aux(out, "vjp(f, *primals)")
            _check_aux(aux)
    out_flat, out_spec = tree_flatten(out)
    for o in out_flat:
        if not isinstance(o, R.Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {type(o)}")
    create = outer and _reaches_outside(out_flat, inside)

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: bool | None = None) -> tuple:
        ct_flat, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of outputs "
                               f"to the function. cotangents: {ct_spec}, primal output: {out_spec}")
        make_graph = create if create_graph is None else create_graph
        if _state.enabled and any(isinstance(c, R.Tensor) and c._requires_grad for c in ct_flat):
            make_graph = True
        same_level = _VM.active and _vmap.top_level() == rec
        if _VM.active:  # the graph is physical at its own levels: cotangents must span them
            ct_flat = [_vmap.full_like_levels(c, o) for c, o in zip(ct_flat, out_flat)]
        with enable_grad() if make_graph else _nullcontext(), _vmap.masked(rec):
            grads = _autograd_grad(out_flat, inside, list(ct_flat), make_graph, retain=True)
        if same_level:
            grads = [_vmap.mark_result(g, _vmap.levels_of(x)) for g, x in zip(grads, inside)]
        if not make_graph:
            grads = [_plain(g) for g in grads]
        return tree_unflatten(grads, spec)

    value = out if create else tree_unflatten([_plain(o) for o in out_flat], out_spec)
    if has_aux:
        aux_leaves, aux_spec = tree_flatten(aux)
        return value, vjp_fn, tree_unflatten([a if create else _plain(a) for a in aux_leaves], aux_spec)
    return value, vjp_fn


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _first(t: Any) -> Any:
    """One element of `t` at the innermost vmap level if it is batched there (it is the same for all)."""
    if not isinstance(t, R.Tensor):
        return t
    lv = _vmap.levels_of(t)
    if not lv or lv[0] != _vmap.top_level():
        return t
    with _vmap.physical(), _vmap.no_forward():
        first = R.FUNCTIONS["select"](t, 0, 0)
    return _vmap.mark(first, lv[1:])


def _basis(shape: tuple, dtype: Any, index: int) -> Any:
    e = np.zeros(int(np.prod(shape)) if shape else 1, dtype)
    e[index] = 1
    return R._make(e.reshape(shape), False, None, 0)


def _stack(rows: list, out_shape: tuple, in_shape: tuple, like: Any) -> Any:
    """rows (one per element of out_shape, each of in_shape) as one tensor of out_shape + in_shape."""
    full = tuple(out_shape) + tuple(in_shape)
    if not rows:
        return R._make(np.zeros(full, like._data.dtype), False, None, 0)
    return R.FUNCTIONS["stack"](rows, 0).reshape(full)


def _jacrev_vmapped(vjp_fn: Callable, out_flat: list, out_spec: Any, k: int, in_flat: list,
                    chunk_size: int | None) -> list:
    """The rows of output `k`'s Jacobian: one batched backward over all basis cotangents."""
    o = out_flat[k]
    n = o.numel()
    shape = tuple(o.shape)
    basis = R._make(np.eye(n, dtype=o._data.dtype).reshape((n,) + shape), False, None, 0)

    def one(ct: Any) -> Any:
        cts = [ct if j == k else _zeros_like(p) for j, p in enumerate(out_flat)]
        return tuple(tree_flatten(vjp_fn(tree_unflatten(cts, out_spec)))[0])
    rows = _vmap.vmap(one, chunk_size=chunk_size)(basis)
    return [r.reshape(shape + tuple(x.shape)) for r, x in zip(rows, in_flat)]


def jacrev(func: Callable, argnums: Any = 0, *, has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False) -> Callable:
    """The Jacobian of `func` w.r.t. its `argnums` inputs by reverse mode.

    One batched backward per output (vmap over the basis cotangents; a loop over them while a
    forward-AD level is open, as in hessian); `chunk_size` bounds the batch of one backward.
    """
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _check_argnums(argnums, len(args))

        def selected(*sel: Any) -> Any:
            new_args = list(args)
            for n, v in zip(nums, sel):
                new_args[n] = v
            return func(*new_args, **kwargs)
        res = vjp(selected, *[args[n] for n in nums], has_aux=has_aux)
        out, vjp_fn = res[0], res[1]
        out_flat, out_spec = tree_flatten(out)
        in_flat, in_spec = tree_flatten(tuple(args[n] for n in nums))
        per_output = []
        for k, o in enumerate(out_flat):
            if o.numel() and not _FW_STATE.active:
                jacs = _jacrev_vmapped(vjp_fn, out_flat, out_spec, k, in_flat, chunk_size)
                structured = tree_unflatten(jacs, in_spec)
                per_output.append(structured[0] if isinstance(argnums, int) else structured)
                continue
            rows: list = [[] for _ in in_flat]
            for i in range(o._data.size):
                cts = [_basis(p._data.shape, p._data.dtype, i) if j == k else _zeros_like(p)
                       for j, p in enumerate(out_flat)]
                g_flat = tree_flatten(vjp_fn(tree_unflatten(cts, out_spec)))[0]
                for r, g in zip(rows, g_flat):
                    r.append(g)
            jacs = [_stack(r, o._data.shape, x._data.shape, x) for r, x in zip(rows, in_flat)]
            structured = tree_unflatten(jacs, in_spec)
            per_output.append(structured[0] if isinstance(argnums, int) else structured)
        jac = tree_unflatten(per_output, out_spec)
        return (jac, res[2]) if has_aux else jac
    return wrapper


# ---------------------------------------------------------------------------------------
# forward mode

def _forward(func: Callable, primals: tuple, tangents: list, spec: Any, has_aux: bool, api: str) -> tuple:
    """Run func on dual inputs at a fresh level: (output leaves, tangent leaves, out spec, aux)."""
    flat = tree_flatten(primals)[0]
    lid = _fw._enter_level()
    try:
        duals = []
        for p, t in zip(flat, tangents):
            _check_tensor(p)
            if t is None:
                duals.append(p)
                continue
            _check_tensor(t)
            if t._data.shape != p._data.shape:
                raise RuntimeError(
                    "Trying to set a forward gradient that has a different size than that of the original Tensor, "
                    f"this is not supported. Tensor is of size [{', '.join(map(str, p._data.shape))}] while the "
                    f"given forward gradient is of size [{', '.join(map(str, t._data.shape))}].")
            duals.append(_fw._make_dual(p, t, lid))
        out = _transformed(lambda: func(*tree_unflatten(duals, spec)))
        aux = None
        if has_aux:
            out, aux = _split_aux(out, api)
            _check_aux(aux)
        out_flat, out_spec = tree_flatten(out)
        values, out_tangents = [], []
        for o in out_flat:
            if not isinstance(o, R.Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(o)}")
            primal, t = _fw._unpack_dual(o, lid)
            values.append(primal)
            out_tangents.append(t if t is not None else _zeros_like(o))
        if has_aux:
            aux_leaves, aux_spec = tree_flatten(aux)
            aux = tree_unflatten([_fw._unpack_dual(a, lid)[0] for a in aux_leaves], aux_spec)
    finally:
        _fw._exit_level(lid)
    return values, out_tangents, out_spec, aux


def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> tuple:
    """(func(*primals), the Jacobian of func at primals times tangents[, aux]) by forward mode."""
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    if not isinstance(tangents, tuple):
        raise RuntimeError(f"{api}: Expected tangents to be a tuple. E.g. it should be valid to call f(*primals).")
    p_flat, p_spec = tree_flatten(primals)
    t_flat, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python structure. For example, if "
                           f"primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    values, out_t, out_spec, aux = _forward(func, primals, t_flat, p_spec, has_aux, api)
    result = (tree_unflatten(values, out_spec), tree_unflatten(out_t, out_spec))
    return result + (aux,) if has_aux else result


def linearize(func: Callable, *primals: Any) -> tuple:
    """(func(*primals), jvp_fn) where jvp_fn(*tangents) is the jvp at primals.

    jvp_fn reruns the forward with the tangents (there is no graph compilation); the values are
    those of `jvp`.
    """
    out = func(*primals)

    def jvp_fn(*tangents: Any) -> Any:
        return jvp(func, primals, tangents)[1]
    return tree_unflatten([_plain(o) for o in tree_flatten(out)[0]], tree_flatten(out)[1]), jvp_fn


def jacfwd(func: Callable, argnums: Any = 0, has_aux: bool = False, *, randomness: str = "error") -> Callable:
    """The Jacobian of `func` w.r.t. its `argnums` inputs by forward mode.

    One forward per input, vmapped over the basis tangents; `randomness` is vmap's.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _check_argnums(argnums, len(args))
        sel = tuple(args[n] for n in nums)
        in_flat, in_spec = tree_flatten(sel)
        for x in in_flat:
            _check_tensor(x)

        def selected(*values: Any) -> Any:
            new_args = list(args)
            for n, v in zip(nums, values):
                new_args[n] = v
            return func(*new_args, **kwargs)
        return _jacfwd_body(selected, sel, in_flat, in_spec)

    def _jacfwd_body(selected: Callable, sel: tuple, in_flat: list, in_spec: Any) -> Any:
        columns: list = [None] * len(in_flat)   # per input leaf: per output leaf, its stacked tangents
        out_flat = out_spec = aux = None
        api = "jacfwd(f, argnums, has_aux)"
        for j, x in enumerate(in_flat):
            if not x.numel():
                continue
            n = x.numel()  # one forward, vmapped over the basis tangents
            basis = R._make(np.eye(n, dtype=x._data.dtype).reshape((n,) + tuple(x.shape)), False, None, 0)
            spec_box: list = []

            def one(t: Any, j: int = j) -> tuple:
                tangents = [t if m == j else None for m in range(len(in_flat))]
                values, out_t, o_spec, aux_i = _forward(selected, sel, tangents, in_spec, has_aux, api)
                spec_box.append(o_spec)
                aux_leaves, aux_spec = tree_flatten(aux_i)
                spec_box.append(aux_spec)
                # values are batched too when a reverse-mode transform inside spread the primals
                return tuple(out_t), tuple(_first(v) for v in values), tuple(_first(a) for a in aux_leaves)
            out_t, values, aux_leaves = _vmap.vmap(one, out_dims=(0, None, None), randomness=randomness)(basis)
            if out_flat is None:
                out_flat, out_spec = list(values), spec_box[0]
                aux = tree_unflatten(list(aux_leaves), spec_box[1]) if has_aux else None
            columns[j] = [t.movedim(0, -1) for t in out_t]
        if out_flat is None:  # every input is empty: one plain run for the output structure
            values, _, out_spec, aux = _forward(selected, sel, [None] * len(in_flat), in_spec, has_aux, "jacfwd")
            out_flat = values
        per_output = []
        for k, o in enumerate(out_flat):
            jacs = []
            for j, x in enumerate(in_flat):
                full = tuple(o._data.shape) + tuple(x._data.shape)
                if columns[j] is None:
                    jacs.append(R._make(np.zeros(full, o._data.dtype), False, None, 0))
                else:
                    jacs.append(columns[j][k].reshape(full))
            structured = tree_unflatten(jacs, in_spec)
            per_output.append(structured[0] if isinstance(argnums, int) else structured)
        jac = tree_unflatten(per_output, out_spec)
        return (jac, aux) if has_aux else jac
    return wrapper


def hessian(func: Callable, argnums: Any = 0) -> Callable:
    """The Hessian of a scalar `func` w.r.t. its `argnums` inputs: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)
