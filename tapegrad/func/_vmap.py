"""torch.func.vmap's machinery (the transform itself is in _vmap_transform.py): runs a function once
over a whole batch, one array op per op.

A batched tensor is an ordinary Tensor whose class is `BatchedTensor` and whose `_levels` name
the vmap levels its leading physical dimensions belong to, innermost level first; its logical
shape (what `shape`, `dim()`, `size()` report inside vmap) is the physical shape without them.
`dispatch` reads one flag (`VM.active`); while it is set, calls reach `batched_dispatch`, which
applies the op's batching rule (func/_batch_rules.py) to get one op on the physical arrays, or
loops over the batch with torch's performance warning when the op has no rule.

Note [Masked levels]
Autograd runs on physical tensors. A reverse-mode transform inside vmap (vmap(grad(f))) makes
its inputs batched copies at every visible level, so the physical graph computes each batch
element on its own copy, and the gradient of the summed output is exactly the per-sample
gradient; its backward runs with the levels masked (`VM.floor`), so batched tensors look
physical there. A vjp whose graph was recorded outside a vmap (jacrev's vmap over basis
cotangents) masks only the levels its graph saw: the newer levels stay visible and its
backward formulas batch like any other op.

Note [Forward mode under vmap]
A tangent (tensor._fw_grads[level]) is a tensor with vmap levels of its own. Wherever a dual
tensor is made or computed inside vmap (make_dual, an op's output, a transform's stand-in, a
tensor moved in by vmap) its tangent is spread (as a broadcast view) to at least its primal's
visible levels; it may have more (vmap over tangents, jacfwd's basis). An op with dual
arguments then takes one of two paths in `batched_dispatch`:
- every tangent has exactly its primal's levels: the batching rule runs with forward AD on, so
  the physical ops it runs (aligning, reshaping, the op itself) carry the tangents physically,
  and the nodes they record save tensors that carry tangents: forward-over-reverse (hessian,
  jvp of grad) under vmap sees every term. Outputs' tangents are marked like the outputs.
- otherwise: the primal by the batching rule with forward AD off, then each level's tangent by
  the op's jvp formula on the logical tensors (its ops batch themselves).
Both give the Jacobian-vector product of each batch element, whatever the order in which vmap
and the forward levels were opened, so vmap(jvp), jvp(vmap), vmap(jacfwd) and vmap(hessian)
need no level bookkeeping between the two kinds of transform. vmap moves tangents in and out
with their primals (`carry_tangents`).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from .._vmap_state import VM
from ..autograd._forward_dispatch import dispatch_dual as _dispatch_dual
from ..autograd._forward_state import FW as _FW
from ..ops import _registry as R

__all__ = ["vmap", "BatchedTensor", "batched_dispatch"]


_DATA = R.Tensor.__dict__["_data"]  # the slot holding the physical array
_get_physical = _DATA.__get__


def physical_data(t: Any) -> Any:
    """The whole array of `t`, batch dims included, whatever the vmap state."""
    return _get_physical(t)


def _nvis(t: Any) -> int:
    floor = VM.floor
    live = VM.live
    n = 0
    for lv in t._levels:
        if lv <= floor or lv not in live:
            break
        n += 1
    return n


class _Lane(np.ndarray):
    """The logical view of a batched tensor (one batch element), remembering the tensor: wrapping
    it as a Tensor again (detach, .data, make_dual, ...) gives back the whole batch."""

    def __array_finalize__(self, obj: Any) -> None:
        self._src = None  # arrays computed from a view are plain values

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        """A converted lane is the lane of the converted batch (index arrays cast to int64 stay batched)."""
        out = np.ndarray.astype(self, dtype, *args, **kwargs)
        src = self._src
        if src is None or out is self:
            return out
        whole = R._make(_get_physical(src).astype(dtype), False, None, 0)
        return _logical_data(mark(whole, src._levels)) if VM.active else out

    def nonzero(self) -> Any:
        if self._src is not None and VM.active and _nvis(self._src):
            raise RuntimeError("vmap: We do not support batching operators that can support dynamic shape. "
                               "Attempting to batch over indexing with a boolean mask.")
        return np.ndarray.nonzero(self.view(np.ndarray))


def _lane_src(x: Any) -> Any:
    """The batched tensor behind a lane (an index array read from a batched tensor), else None."""
    return x._src if x.__class__ is _Lane else None


def _unlane(a: Any) -> Any:
    """A list argument with lanes replaced by the batched tensors they were read from."""
    return type(a)(x._src if x.__class__ is _Lane and x._src is not None else x for x in a)


def _lane_make(data: Any, requires_grad: bool, grad_fn: Any, output_nr: int, counter: Any, cls: type) -> Any:
    from .. import _tensor
    src = data._src
    if src is None:
        return _tensor.make(data.view(np.ndarray), requires_grad, grad_fn, output_nr, counter, cls)
    t = _tensor.make(_get_physical(src), requires_grad, grad_fn, output_nr, counter, cls)
    return mark(t, src._levels) if cls is R.Tensor or cls is BatchedTensor else t


def _install_lanes() -> None:
    from .. import _tensor
    _tensor._LANE = _Lane
    _tensor._lane_make = _lane_make


def _logical_data(self: Any) -> Any:
    """`_data` of a batched tensor: inside vmap, one batch element (a view with the logical shape),
    so composite functions that read shapes from the array see logical shapes; the physical
    array otherwise (dispatch reads it with vmap's flag off). See Note [Logical view]."""
    d = _get_physical(self)
    if VM.active:
        n = _nvis(self)
        if n:
            if 0 in d.shape[:n]:
                v = np.broadcast_to(np.empty((), d.dtype), d.shape[n:]).view(_Lane)
            else:
                v = d[(0,) * n + (Ellipsis,)].view(_Lane)
            v._src = self
            return v
    return d


class BatchedTensor(R.Tensor):
    """A Tensor with vmap batch dimensions in front (see module docstring).

    Note [Logical view]
    Inside vmap, `_data` (and so shape, dim(), size(), numel()) is one element of the batch;
    ops never compute on it: `dispatch` sends batched tensors to `batched_dispatch`, which turns
    vmap's flag off, so the rules and the ops they run see whole physical arrays.
    """

    __slots__ = ()
    _data = property(_logical_data, _DATA.__set__)

    def item(self) -> Any:
        if VM.active and _nvis(self):
            raise RuntimeError(_ITEM_ERROR)
        return R.Tensor.item(self)

    def __float__(self) -> float:
        if VM.active and _nvis(self):
            raise RuntimeError(_ITEM_ERROR)
        return R.Tensor.__float__(self)

    def __int__(self) -> int:
        if VM.active and _nvis(self):
            raise RuntimeError(_ITEM_ERROR)
        return R.Tensor.__int__(self)

    def __bool__(self) -> bool:
        if VM.active and _nvis(self):
            raise RuntimeError(_CONTROL_FLOW_ERROR)
        return R.Tensor.__bool__(self)

    def numpy(self, *, force: bool = False) -> Any:
        if VM.active and _nvis(self):
            raise RuntimeError(_NO_STORAGE_ERROR)
        return R.Tensor.numpy(self, force=force)

    def tolist(self) -> Any:
        if VM.active and _nvis(self):
            raise RuntimeError(_NO_STORAGE_ERROR)
        return R.Tensor.tolist(self)

    def data_ptr(self) -> int:
        if VM.active and _nvis(self):
            raise RuntimeError(_NO_STORAGE_ERROR)
        return R.Tensor.data_ptr(self)

    def __repr__(self) -> str:
        n = _nvis(self) if VM.active else 0
        if not n:
            return R.Tensor.__repr__(self)
        d = _get_physical(self)  # batch dims outermost level first, as torch lays them out
        core = R._make(d.transpose(tuple(range(n - 1, -1, -1)) + tuple(range(n, d.ndim))), False, None, 0)
        with physical():
            text = R.Tensor.__repr__(core)
        positions = {lv: k + 1 for k, (lv, _, _) in enumerate(VM.stack)}  # torch numbers levels from 1, outermost
        for lv in reversed(self._levels[:n]):  # the outermost level nests innermost in the text, as torch's
            inner = "\n".join("    " + line for line in text.splitlines())
            text = f"BatchedTensor(lvl={positions.get(lv, lv)}, bdim=0, value=\n{inner}\n)"
        return text


_ITEM_ERROR = ("vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() on "
               "a Tensor, please try to rewrite what you're doing with other operations. If error is occurring "
               "somewhere inside PyTorch internals, please file a bug report.")
_CONTROL_FLOW_ERROR = ("vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We "
                       "don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues .")
_NO_STORAGE_ERROR = "Cannot access data pointer of Tensor that doesn't have storage"


_install_lanes()


def _plain(t: Any) -> Any:
    return R._make(_get_physical(t), False, None, 0, t._version_counter)


def mark(t: Any, levels: tuple) -> Any:
    """Make `t` batched at `levels` (a fresh tensor from an op; plain again when levels is empty)."""
    if levels:
        t.__class__ = BatchedTensor
        t._levels = levels
    elif t.__class__ is BatchedTensor:
        t.__class__ = R.Tensor
    return t


def mark_result(t: Any, levels: tuple) -> Any:
    """`mark` for a result computed physically by a masked backward: its tangents (computed alike,
    so with its physical layout) are marked too."""
    mark(t, levels)
    for tan in (getattr(t, "_fw_grads", None) or {}).values():
        if tan.__class__ is R.Tensor:
            mark(tan, levels)
    return t


def levels_of(t: Any) -> tuple:
    return t._levels if t.__class__ is BatchedTensor else ()


def visible_levels(t: Any) -> tuple:
    """The levels of `t` above the floor (a prefix of its levels)."""
    if t.__class__ is not BatchedTensor:
        return ()
    floor = VM.floor
    live = VM.live
    out = []
    for lv in t._levels:
        if lv <= floor or lv not in live:
            break
        out.append(lv)
    return tuple(out)


def batch_size_of(level: int) -> int:
    for lv, size, _ in VM.stack:
        if lv == level:
            return size
    raise RuntimeError(f"vmap: level {level} is not active")


class physical:
    """Context: batched tensors look physical and dispatch runs plain ops."""

    def __enter__(self) -> None:
        self.prev = VM.active
        VM.active = False

    def __exit__(self, *exc: Any) -> None:
        VM.active = self.prev


class masked:
    """Context: levels up to `floor` are masked (Note [Masked levels])."""

    def __init__(self, floor: int) -> None:
        self.floor = floor

    def __enter__(self) -> None:
        self.prev = VM.floor
        VM.floor = max(self.prev, self.floor)
        VM.refresh()

    def __exit__(self, *exc: Any) -> None:
        VM.floor = self.prev
        VM.refresh()


def top_level() -> int:
    return VM.stack[-1][0] if VM.stack else 0


def batched_dispatch(op: Any, args: tuple) -> Any:
    """Run `op` on arguments of which some may be batched at visible levels."""
    from ._batch_rules import rule_of
    vis: set = set()
    masked_lv: set = set()
    floor = VM.floor
    live = VM.live
    Tensor = R.Tensor
    for k, a in enumerate(args):
        items = a if isinstance(a, (list, tuple)) else (a,)  # lists of tensors too (cat, index)
        if items is a and any(x.__class__ is _Lane and x._src is not None for x in a):
            items = _unlane(a)  # index arrays read from batched tensors
            args = args[:k] + (items,) + args[k + 1:]
        for t in items:
            if t.__class__ is BatchedTensor:
                seen = True
                for lv in t._levels:
                    seen = seen and lv > floor and lv in live
                    (vis if seen else masked_lv).add(lv)
    if not vis:
        if _FW.active:  # tangents may be batched: their formulas are ops that batch
            return _dispatch_dual(op, args)
        VM.active = False
        try:
            return R.dispatch(op, args)
        finally:
            VM.active = True
    physical_tangents = False
    if _FW.active:  # Note [Forward mode under vmap]
        physical_tangents = _tangent_layouts(args)
        if physical_tangents is None:
            return _dispatch_dual(op, args)
    VM.active = False
    try:
        union = tuple(sorted(vis, reverse=True))
        rule = rule_of(op)
        out = None
        if rule is not None:
            out = rule(op, args, union)
        if out is None:
            out = fallback(op, args, union)
    finally:
        VM.active = True
    levels = union + tuple(sorted(masked_lv, reverse=True))
    put = mark_result if physical_tangents else mark
    if isinstance(out, Tensor):
        return put(out, levels)
    for o in out:
        if isinstance(o, Tensor):
            put(o, levels)
    return out


def _tangent_layouts(args: tuple) -> bool | None:
    """Whether some argument has a tangent at a visible forward level (False: none), and None when one
    of those tangents is batched otherwise than its primal (Note [Forward mode under vmap])."""
    visible = _FW.visible
    found = False
    for a in args:
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            fw = getattr(t, "_fw_grads", None)
            if not fw:
                continue
            mine = None
            for lv, tan in fw.items():
                if lv not in visible:
                    continue
                found = True
                if mine is None:
                    mine = visible_levels(t)
                if visible_levels(tan) != mine:
                    return None
    return found


class no_forward:
    """Context: forward AD off (physical bookkeeping ops must not propagate tangents)."""

    def __enter__(self) -> None:
        self.prev = _FW.active
        _FW.active = False

    def __exit__(self, *exc: Any) -> None:
        _FW.active = self.prev


def _tangents_of(x: Any) -> dict:
    """The tangents of `x` at the visible forward levels."""
    fw = getattr(x, "_fw_grads", None) if _FW.active else None
    if not fw:
        return {}
    visible = _FW.visible
    return {lv: t for lv, t in fw.items() if lv in visible and isinstance(t, R.Tensor)}


def carry_tangents(new: Any, old: Any, move: Callable) -> Any:
    """Give `new` (computed from `old` with forward AD off) old's tangents, each passed through `move`
    at the forward levels older than its own (Note [Nested forward levels])."""
    tangents = _tangents_of(old)
    if not tangents:
        return new
    visible = _FW.visible
    fw = dict(getattr(new, "_fw_grads", None) or {})
    for lv, t in tangents.items():
        _FW.set_visible(tuple(v for v in visible if v < lv))
        try:
            fw[lv] = move(t)
        finally:
            _FW.set_visible(visible)
    new._fw_grads = fw
    return new


_FALLBACK_WARNING = ("There is a performance drop because we have not yet implemented the batching rule for "
                     "aten::{}. Please file us an issue on GitHub so that we can prioritize its implementation.")


def fallback(op: Any, args: tuple, union: tuple) -> Any:
    """A Python loop over the batch (with torch's warning): correct, not fast."""
    from ._batch_rules import align, expand_to
    warnings.warn(_FALLBACK_WARNING.format(op.name), UserWarning, stacklevel=4)
    sizes = tuple(batch_size_of(lv) for lv in union)

    def prep(a: Any) -> Any:
        if a.__class__ is BatchedTensor and visible_levels(a):
            return expand_to(align(a, union, None), sizes)
        return None
    prepared = {}
    for i, a in enumerate(args):
        if isinstance(a, R.Tensor):
            prepared[i] = prep(a)
        elif isinstance(a, (list, tuple)) and any(isinstance(x, R.Tensor) for x in a):
            prepared[i] = [prep(x) if isinstance(x, R.Tensor) else None for x in a]
    results = []
    for idx in np.ndindex(*sizes):
        call = list(args)
        for i, p in prepared.items():
            if isinstance(p, list):
                call[i] = type(args[i])(x if pp is None else pp[idx] for x, pp in zip(args[i], p))
            elif p is not None:
                call[i] = p[idx]
        results.append(R.dispatch(op, tuple(call)))
    stack = R.FUNCTIONS["stack"]
    if isinstance(results[0], R.Tensor):
        s = stack(results, 0)
        return s.reshape(sizes + tuple(s._data.shape[1:]))
    outs = []
    for k in range(len(results[0])):
        s = stack([r[k] for r in results], 0)
        outs.append(s.reshape(sizes + tuple(s._data.shape[1:])))
    first = results[0]
    return type(first)(*outs) if hasattr(first, "_fields") else tuple(outs)


_INPLACE_ERROR = ("vmap: {0}(self, *extra_args) is not possible because there exists a Tensor `other` in extra_args "
                  "that has more elements than `self`. This happened due to `other` being vmapped over but `self` not "
                  "being vmapped over in a vmap. Please try to use out-of-place operators instead of {0}. If said "
                  "operator is being called inside the PyTorch framework, please file a bug report instead.")


def inplace_batched(op: Any, args: tuple, apply: Callable) -> Any:
    """An in-place op inside vmap: `self` must carry every batch dim in play (torch's error); the op's
    batching rule says how the operands line up with self (`rule.inplace`, func/_batch_rules_nn.py)."""
    from ._batch_rules import rule_of
    vis: set = set()
    for a in args:
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            src = _lane_src(t)
            vis.update(visible_levels(t if src is None else src))
    self = args[0]
    if not vis:
        with physical():
            return apply(op, args)
    mine = visible_levels(self)
    if set(mine) != vis:
        name = getattr(getattr(rule_of(op), "inplace", None), "torch_name", None)
        if name is not None:
            raise RuntimeError(_INPLACE_ERROR.format(name))
        shape = tuple(self.shape)
        bshape = tuple(np.broadcast_shapes(*(tuple(_get_physical(t).shape) for t in args
                                             if isinstance(t, R.Tensor))))
        raise RuntimeError(f"output with shape [{', '.join(map(str, shape))}] doesn't match the broadcast shape "
                           f"[{', '.join(map(str, bshape))}]")
    prepare = getattr(rule_of(op), "inplace", None)  # a rule that batches the in-place form too
    if prepare is None:
        raise NotImplementedError(f"vmap: the in-place op {op.name} has no batching rule yet; use its out-of-place "
                                  f"form inside vmap")
    with physical():
        op2, new = prepare(op, args, mine)
        return apply(op2, new)


# ---------------------------------------------------------------------------------------
# reverse-mode transforms inside vmap (Note [Masked levels])

def _visible_stack_levels() -> tuple:
    return tuple(lv for lv, _, _ in reversed(VM.stack) if lv > VM.floor)


def batched_stand_in(x: Any) -> Any:
    """A transform's stand-in for `x` inside vmap: its own copy per batch element."""
    from ._batch_rules import _full
    from ..autograd.grad_mode import _state
    union = _visible_stack_levels()
    rest = levels_of(x)[len(visible_levels(x)):]
    with physical(), no_forward():
        full = _full(x, union)
        if x._requires_grad and _state.enabled:
            t = R.dispatch(R.OPS["clone"], (full, None))
        else:
            t = R._make(full._data, True, None, 0)  # a broadcast view: copies share the input's memory
    t = mark(t, union + rest)
    return carry_tangents(t, x, lambda tan: full_like_levels(tan, t))



def per_sample_zeros(like: Any, requires_grad: bool) -> Any:
    """A zero leaf shaped like `like` with its own copy per element of every visible batch level: what
    differentiating per sample inside vmap takes (Note [Masked levels])."""
    union = _visible_stack_levels()
    d = _get_physical(like)
    nvis = len(visible_levels(like))
    sizes = tuple(batch_size_of(lv) for lv in union)
    t = R._make(np.zeros(sizes + d.shape[nvis:], d.dtype), requires_grad, None, 0)
    return mark(t, union + levels_of(like)[nvis:])


def full_like_levels(c: Any, like: Any) -> Any:
    """`c` (a cotangent or tangent) materialised as a view over the visible batch levels of `like` and
    its own, so that it has like's physical layout there."""
    from ._batch_rules import _full
    if not isinstance(c, R.Tensor):
        return c
    union = tuple(sorted(set(visible_levels(like)) | set(visible_levels(c)), reverse=True))
    if not union or visible_levels(c) == union:
        return c
    with physical(), no_forward():
        t = _full(c, union)
    return mark(t, union + levels_of(c)[len(visible_levels(c)):])


from ._vmap_transform import vmap  # noqa: E402  (the transform itself; it uses the machinery above)
