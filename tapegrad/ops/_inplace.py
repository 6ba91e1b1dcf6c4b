"""In-place ops (`add_`, `x[i] = v`, `+=`): torch's checks, version bumps, and their gradients.

Note [In-place ops]
Without a graph to record, the op's result is written into the tensor's storage and its
version counter is bumped. With a graph, the result is computed out of place from a snapshot
of the old values (so formulas that need the old `self` see it), written into the storage,
and the tensor is rebound to the new node. When the tensor is a view, its base is rebound to
a CopySlices node: the base's gradient flows through unchanged outside the view's region and
through the op's formulas inside it, as torch's CopySlices does.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from ..autograd.grad_mode import _state
from ..autograd._forward_state import FW as _fw
from .._vmap_state import VM as _vm
from ..autograd.graph import Node
from . import _registry as R

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_ERROR = "a view of a leaf Variable that requires grad is being used in an in-place operation."
NO_GRAD_VIEW_ERROR = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use "
    "case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the "
    "inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if "
    "you want the inplace to be tracked).")
INFERENCE_ERROR = ("Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to "
                   "get a normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for "
                   "more details.")


def check_inplace_allowed(t: Any, recorded: bool = True) -> None:
    """torch's errors for an in-place change of `t` under the current grad mode."""
    if t._inference and not _state.inference:
        raise RuntimeError(INFERENCE_ERROR)
    if not _state.enabled:
        return
    if t._requires_grad and t._grad_fn is None and t._base is None:
        raise RuntimeError(LEAF_ERROR)
    base = t._base
    if base is not None and t._view_fn is not None:
        if base._requires_grad and base._grad_fn is None:
            raise RuntimeError(VIEW_OF_LEAF_ERROR)
        if getattr(t, "_view_multi", False) and (t._requires_grad or base._requires_grad):
            node = t._grad_fn
            name = node._op.forward_name() if node is not None and node._op is not None else "view"
            raise RuntimeError(
                f"Output {t._output_nr} of {name} is a view and is being modified inplace. This view is the output "
                "of a function that returns multiple views. Such functions do not allow the output views to be "
                "modified inplace. You should replace the inplace operation by an out-of-place one.")
        if getattr(t, "_view_created_no_grad", False) and base._requires_grad:
            raise RuntimeError(NO_GRAD_VIEW_ERROR)


def _can_cast(src: D.dtype, dst: D.dtype) -> bool:
    if src._category > dst._category and not (dst._category == 0 and False):
        return False
    if dst is D.bool_ and src is not D.bool_:
        return False
    return True


def apply_inplace(op: R.OpDef, args: tuple) -> Any:
    """Run `op` with args[0] as the output (see Note [In-place ops]); returns args[0]."""
    if _vm.active:  # batched operands: func/_vmap.py lines them up, then this runs on physical arrays
        from ..func._vmap import inplace_batched
        return inplace_batched(op, args, apply_inplace)
    self = args[0]
    check_inplace_allowed(self)
    target = R.compute_dtype(op, args)
    if target is not None and not _can_cast(target, self.dtype) and op.promote != "none":
        raise RuntimeError(f"result type {target._legacy} can't be cast to the desired output type "
                           f"{self.dtype._legacy}")
    record = _state.enabled and any(
        isinstance(a, R.Tensor) and a._requires_grad for a in _tensor_args(op, args))
    base = self._base if self._view_fn is not None else None
    if record and base is not None and not base._requires_grad and not self._requires_grad:
        pass  # base starts requiring grad through CopySlices
    if not record:
        prev = _state.enabled
        _state.enabled = False
        try:
            out = R.dispatch(op, args)
        finally:
            _state.enabled = prev
        if out._data.shape != self._data.shape:
            _broadcast_error(out._data.shape, self._data.shape)
        np.copyto(self._data, out._data, casting="unsafe")
        self._version_counter[0] += 1
        if _fw.active:
            _inplace_tangents(self, out)
        return self
    snapshot = R._make(self._data.copy(), self._requires_grad, self._grad_fn, self._output_nr)
    if _fw.active and getattr(self, "_fw_grads", None):
        snapshot._fw_grads = self._fw_grads
    if self._grad_fn is None and self._requires_grad:
        snapshot._grad_fn = None
        snapshot._accumulator = self._accumulator
    out = R.dispatch(op, (snapshot,) + tuple(args[1:]))
    if out._data.shape != self._data.shape:
        _broadcast_error(out._data.shape, self._data.shape)
    np.copyto(self._data, out._data, casting="unsafe")
    self._version_counter[0] += 1
    node = out._grad_fn
    if base is not None:
        _rebase_view(self, base, node)
    else:
        self._grad_fn = node
        self._output_nr = 0
        self._requires_grad = True
    if _fw.active:
        _inplace_tangents(self, out)
    return self


def _inplace_tangents(self: Any, out: Any) -> None:
    from ..autograd._forward_dispatch import inplace_tangents
    inplace_tangents(self, out)


def _tensor_args(op: R.OpDef, args: tuple) -> list:
    return [args[i] for i in op.tensor_idx]


def _broadcast_error(out_shape: tuple, self_shape: tuple) -> None:
    raise RuntimeError(f"output with shape [{', '.join(map(str, self_shape))}] doesn't match the broadcast shape "
                       f"[{', '.join(map(str, out_shape))}]")


class CopySlices(Node):
    """The base's node after an in-place op on one of its views."""

    __slots__ = ("_inner", "_view_fn")

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def apply(self, grads: tuple) -> list:
        grad = grads[0]
        region = self._view_fn(grad)
        inner = self._inner.apply((region,))
        inner_self = inner[0] if inner else None
        if inner_self is None:
            inner_self = R._make(np.zeros(region._data.shape, region._data.dtype), False, None, 0)
        grad_base = view_scatter(grad, inner_self, self._view_fn)
        return [grad_base] + list(inner[1:])

    def _release(self) -> None:
        self._inner._release()
        self._freed = self._inner._freed


def _rebase_view(view: Any, base: Any, node: Node | None) -> None:
    """Rebind `base` to a CopySlices node and `view` to a fresh view of the new base."""
    base_edge = R._edge(base) if base._requires_grad else R._NONE_EDGE
    inner_next = node._next if node is not None else ()
    copy = CopySlices(((base_edge,) + tuple(inner_next[1:])), None, ((base._data.shape, base._data.dtype),), False)
    copy._inner = node
    copy._view_fn = view._view_fn
    base._grad_fn = copy
    base._output_nr = 0
    base._requires_grad = True
    regenerated = _as_strided_of(view, base)
    view._grad_fn = regenerated._grad_fn
    view._output_nr = regenerated._output_nr
    view._requires_grad = True


def _as_strided_of(view: Any, base: Any) -> Any:
    """The view again, as torch regenerates it after an in-place op: as_strided of its base
    (AsStridedBackward0); a replay of the view ops when the base is not contiguous."""
    if not base._data.flags.c_contiguous or view._data.size == 0:
        return view._view_fn(base)
    return R.dispatch(R.OPS["as_strided"], (base, view.shape, view.stride(), view.storage_offset()))


def _view_scatter_forward(self: np.ndarray, src: np.ndarray, view_fn: Callable) -> np.ndarray:
    out = self.copy()
    prev = _state.enabled
    _state.enabled = False
    try:
        region = view_fn(R._make(out, False, None, 0))
    finally:
        _state.enabled = prev
    region._data[...] = src
    return out


VIEW_SCATTER = R.defop(
    "_view_scatter", _view_scatter_forward, node="CopySlices", function=False, method=False,
    grads={
        "self": lambda grad, src, view_fn: view_scatter(grad, _zeros_like(src), view_fn),
        "src": lambda grad, view_fn: view_fn(grad),
    })


def view_scatter(base: Any, src: Any, view_fn: Callable) -> Any:
    """A copy of `base` with the region `view_fn(base)` replaced by `src` (differentiable)."""
    return R.dispatch(VIEW_SCATTER, (base, src, view_fn))


def _zeros_like(t: Any) -> Any:
    return R._make(np.zeros(t._data.shape, t._data.dtype), False, None, 0)


def make_inplace(op: R.OpDef, name: str) -> Callable:
    """The Tensor method `name` (e.g. 'add_') running `op` in place."""
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        full = (self,) + args
        if kwargs or len(full) != op.nparams:
            full = op.callable_bind(full, kwargs)
        return apply_inplace(op, full)
    method.__name__ = name
    return method
