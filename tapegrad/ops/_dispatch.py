"""dispatch: run an op-table entry on the arrays of its arguments and, when grad is on, record its node.

The common case (one output; tensor inputs of one dtype, Python scalars that do not widen it)
takes the fast path in `dispatch`; anything else goes through `_dispatch_general`. A visible vmap
level sends the call to func/_vmap.py, a visible forward-AD level to autograd/_forward_dispatch.py.
The entries themselves (OpDef, defop, OpNode) are in _registry.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .. import _dtype as D
from .._vmap_state import VM as _vm
from ..autograd import anomaly_mode as _anomaly
from ..autograd._forward_state import FW as _fw
from ..autograd.grad_mode import _state
from ..autograd.graph import Node, hooks_state as _hooks, pack_saved_tensor
from ._promotion import _cast_arrays, compute_dtype
from ._saved import SavedTensor, _save_input

Tensor: Any = None  # set by tapegrad._tensor once the class exists (import order)
_make: Any = None   # tapegrad._tensor.make(data, requires_grad, grad_fn, output_nr)

from ._registry import _SAVE_RESULT, _SAVE_TENSOR, _SAVE_VALUE  # noqa: E402  (_registry imports us last)

if TYPE_CHECKING:
    from ._registry import OpDef


def _edge(t: Any) -> tuple:
    fn = t._grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        return (t._get_accumulator(), 0)
    return (None, 0)


_NONE_EDGE = (None, 0)


_SCALAR_CATEGORY = {bool: 0, int: 1, float: 2, complex: 3}
_KIND_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def dispatch(op: OpDef, args: tuple) -> Any:
    """Run op's forward on the arrays of `args` and, when grad is on, record a node.

    The common case (one output; tensor inputs of one dtype, Python scalars that do not widen
    it) takes the fast path; anything else goes through `_dispatch_general`. While a forward-AD
    level is active, `_forward_dispatch.dispatch_dual` adds the outputs' tangents.
    """
    if _vm.active:
        return _dispatch_batched(op, args)
    if _fw.active:
        return _dispatch_dual(op, args)
    if op.general:
        return _dispatch_general(op, args)
    arrays = list(args)
    record = False
    dt = None
    mixed = False
    scalar_cat = -1
    for i in op.tensor_idx:
        a = args[i]
        if isinstance(a, Tensor):
            d = a._data
            arrays[i] = d
            if a._requires_grad:
                record = True
            if dt is None:
                dt = d.dtype
            elif d.dtype != dt:
                mixed = True
        else:
            c = _SCALAR_CATEGORY.get(a.__class__)
            if c is not None and c > scalar_cat:
                scalar_cat = c
    promote = op.promote
    target = None
    if promote != "none":
        if mixed or dt is None or scalar_cat > _KIND_CATEGORY[dt.kind] or \
                (promote != "common" and dt.kind not in "fc"):
            tdt = compute_dtype(op, args)
            _cast_arrays(op, arrays, tdt)
            target = tdt.numpy
        else:
            target = dt
    try:
        out = op.forward(*arrays)
    except ValueError as exc:
        raise _translate_forward_error(op, arrays, exc) from None
    if out.__class__ is not np.ndarray:
        out = np.asarray(out, dtype=None if op.float_output else target)
    return _single_result(op, args, out, record and _state.enabled)


def _single_result(op: OpDef, args: tuple, out: np.ndarray, record: bool) -> Any:
    """The output tensor of a one-output op: a view when the op is one, with its node when recorded."""
    if not record or not op.differentiable:
        result = _make(out, False, None, 0)
        if op.view:
            _mark_view(result, args, op)
        return result
    node = _record(op, args)
    result = _make(out, True, node, 0)
    if op.view:
        _mark_view(result, args, op)
    ctx = node._ctx
    if ctx is not None and ctx[op.nparams] is _RESULT:
        ctx[op.nparams] = (SavedTensor(None, out, result._version_counter, True, None, 0) if not _hooks.stack
                           else pack_saved_tensor(result, True, 0))
    return result


def _translate_forward_error(op: OpDef, arrays: list, exc: ValueError) -> Exception:
    """torch's message for a NumPy broadcasting failure; other errors pass through unchanged."""
    from .comparison import broadcast_shapes_or_raise
    shapes = [a.shape for i in op.tensor_idx for a in ([arrays[i]] if not op.list_input else arrays[i])
              if isinstance(a, np.ndarray)]
    out: tuple = ()
    try:
        for shape in shapes:
            out = broadcast_shapes_or_raise(out, shape)
    except RuntimeError as mismatch:
        return mismatch
    return exc


def _dispatch_general(op: OpDef, args: tuple) -> Any:
    """dispatch for list inputs, several outputs, or promotion over a subset of the inputs."""
    arrays = list(args)
    record = False
    grad_on = _state.enabled
    if op.list_input:
        i0 = op.tensor_idx[0]
        seq = args[i0]
        arrays[i0] = [t._data for t in seq]
        if grad_on:
            for t in seq:
                if t._requires_grad:
                    record = True
                    break
    else:
        for i in op.tensor_idx:
            a = args[i]
            if isinstance(a, Tensor):
                arrays[i] = a._data
                if grad_on and a._requires_grad:
                    record = True
    if op.promote != "none":
        target = compute_dtype(op, args)
        _cast_arrays(op, arrays, target)
    else:
        target = None
    try:
        out = op.forward(*arrays)
    except ValueError as exc:
        raise _translate_forward_error(op, arrays, exc) from None
    if op.outputs == 1:
        if out.__class__ is not np.ndarray:
            out = np.asarray(out, dtype=target.numpy if target is not None and not op.float_output else None)
        return _single_result(op, args, out, record)
    outs = tuple(o if o.__class__ is np.ndarray else np.asarray(o) for o in out)
    ndiff = op.differentiable_outputs if op.differentiable_outputs >= 0 else len(outs)
    if record and op.differentiable:
        node = _record(op, args)
        node._nout = ndiff
        results = [_make(o, i < ndiff, node if i < ndiff else None, i) for i, o in enumerate(outs)]
        ctx = node._ctx
        ctx[-1] = tuple((o.shape, o.dtype) for o in outs[:ndiff])
        if ctx[op.nparams] is _RESULT:
            ctx[op.nparams] = tuple(SavedTensor(None, r._data, r._version_counter, True, None, i)
                                    if not _hooks.stack else pack_saved_tensor(r, True, i)
                                    for i, r in enumerate(results))
    else:
        results = [_make(o, False, None, i) for i, o in enumerate(outs)]
    if op.view:
        for r in results:
            _mark_view(r, args, op, multi=True)
    return op.return_type(*results) if op.return_type is not None else tuple(results)


class _ResultMarker:
    __slots__ = ()


_RESULT = _ResultMarker()


def _record(op: OpDef, args: tuple) -> Node:
    """Create the node: input edges, input metadata, and what the needed formulas use.

    The context is a list with one slot per name in `op.ctx_names` plus a last slot for the
    output metadata of multi-output ops; the result slot is filled once the output exists.
    """
    if op.list_input:
        edges, meta, needs = _list_edges(args[op.input_idx[0]])
    else:
        edges = []
        meta = []
        need_list = []
        scalar_edges = op.scalar_edges
        for i in op.input_idx:
            t = args[i]
            if isinstance(t, Tensor):
                d = t._data
                if t._requires_grad:
                    fn = t._grad_fn
                    edges.append((fn, t._output_nr) if fn is not None else (t._get_accumulator(), 0))
                    need_list.append(True)
                else:
                    edges.append(_NONE_EDGE)
                    need_list.append(False)
                meta.append((d.shape, d.dtype))
            else:
                need_list.append(False)
                if scalar_edges:
                    edges.append(_NONE_EDGE)
                    meta.append(None)
        needs = tuple(need_list)
    plan = op.save_plan(needs)
    ctx = None
    saved_any = False
    if plan or op.outputs > 1:
        ctx = [None] * (len(op.ctx_names) + 1)
        for s, kind, index, what in plan:
            if kind == _SAVE_VALUE:
                ctx[s] = args[s]
            elif kind == _SAVE_TENSOR:
                v = args[s]
                if op.list_input and s == op.input_idx[0]:
                    ctx[s] = [_save_input(x) for x in v]
                else:
                    ctx[s] = _save_input(v)
                saved_any = True
            elif kind == _SAVE_RESULT:
                ctx[s] = _RESULT
                saved_any = True
            else:
                t = args[index]
                if op.list_input and isinstance(t, (list, tuple)):
                    ctx[s] = [_metadata(x._data, what) for x in t]
                else:
                    ctx[s] = _metadata(t._data, what)
    node = op.node_cls(tuple(edges), ctx, tuple(meta), saved_any)
    if _anomaly._enabled:
        _anomaly.record_forward_trace(node)
    return node


def _metadata(a: np.ndarray, what: str) -> Any:
    """`<param>_shape`, `<param>_dtype`, `<param>_transposed` (a matrix stored column-major, as
    the .t() of a contiguous one: see Note [Gradient layout])."""
    if what == "shape":
        return a.shape
    if what == "dtype":
        return D.from_numpy(a.dtype)
    return a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous


def _list_edges(tensors: Sequence[Any]) -> tuple:
    """Edges, metadata and the needs mask for an op over a list of tensors (cat, stack)."""
    edges = []
    meta = []
    for t in tensors:
        edges.append(_edge(t) if t._requires_grad else _NONE_EDGE)
        meta.append((t._data.shape, t._data.dtype))
    return edges, meta, (any(e[0] is not None for e in edges),)


def _mark_view(result: Any, args: tuple, op: OpDef, multi: bool = False) -> None:
    """Make `result` a view of the first tensor argument (shared version counter and _base)."""
    src = args[op.tensor_idx[0]]
    if result._data.base is None and result._data.size:
        return  # NumPy had to copy (e.g. reshape of a non-contiguous array): not a view
    base = src._base if src._base is not None else src
    result._base = base
    result._version_counter = base._version_counter
    rest = args[1:]
    parent_fn = src._view_fn

    def view_fn(root: Any, _op: OpDef = op, _rest: tuple = rest, _parent: Any = parent_fn, _nr: int = result._output_nr):
        t = _parent(root) if _parent is not None else root
        out = dispatch(_op, (t,) + _rest)
        return out[_nr] if isinstance(out, tuple) else out

    result._view_fn = view_fn
    result._view_multi = multi or getattr(src, "_view_multi", False)  # views of split()'s outputs inherit it
    result._view_created_no_grad = not _state.enabled


# ---------------------------------------------------------------------------------------
# declaring entries


def _dispatch_dual(op: OpDef, args: tuple) -> Any:
    """dispatch with the outputs' forward-mode tangents (see autograd/_forward_dispatch.py)."""
    global _dispatch_dual
    from ..autograd._forward_dispatch import dispatch_dual
    _dispatch_dual = dispatch_dual  # imported on first use (import order), then called directly
    return dispatch_dual(op, args)


def _dispatch_batched(op: OpDef, args: tuple) -> Any:
    """dispatch while a vmap level is visible (see func/_vmap.py)."""
    global _dispatch_batched
    from ..func._vmap import batched_dispatch
    _dispatch_batched = batched_dispatch
    return batched_dispatch(op, args)
