"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, mode.

Sorting is always stable (torch's CPU sort keeps the original order of ties too). NaN sorts as
the largest value, as in torch. Gradients go to the picked elements (Note [Selecting reductions]
in reduction_extra), except the whole-tensor median, which splits it among ties.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import return_types
from ._registry import defop, dispatch, public
from ._samples import Sample, away
from .reduction_extra import _check_nonempty, _INT64, _one_dim, evenly_distribute, select_backward


def stable_argsort(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Indices that sort `a` along axis, ties in their original order (NaN largest)."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    idx = np.argsort(np.flip(a, axis), axis=axis, kind="stable")
    return np.flip(n - 1 - idx, axis)


def _finish(self: np.ndarray, values: np.ndarray, idx: np.ndarray) -> tuple:
    if self.ndim == 0:
        return values.reshape(()), idx.reshape(()).astype(_INT64)
    return values, idx.astype(_INT64, copy=False)


def _sort(self, dim=-1, descending=False):
    a, axis = _one_dim(self, dim)
    idx = stable_argsort(a, axis, descending)
    return _finish(self, np.take_along_axis(a, idx, axis), idx)


def _picked_grad(grad, result, self_shape, dim):
    return select_backward(grad, result[1], self_shape, dim, True)


def _order_samples():
    yield Sample(away(3, 4))
    yield Sample(away(3, 4), 0, True)
    yield Sample(away(2, 3, 4), 1)
    yield Sample(away(), 0)
    yield Sample(away(0, 3), -1)


SORT = defop("sort", _sort, node="SortBackward0", outputs=2, differentiable_outputs=1, return_type=return_types.sort,
             function=False, method=False, grads={"self": _picked_grad}, samples=_order_samples)


def _sort_stable(self, stable, dim=-1, descending=False):
    return _sort(self, dim, descending)


SORT_STABLE = defop("sort.stable", _sort_stable, node="SortBackward1", outputs=2, differentiable_outputs=1,
                    return_type=return_types.sort, function=False, method=False,
                    grads={"self": _picked_grad},
                    samples=lambda: iter([Sample(away(3, 4), True), Sample(away(3, 4), False, 0, True)]))


@public("sort")
def sort(input: Any, dim: int = -1, descending: bool = False, *, stable: bool | None = None) -> Any:
    """(values, indices) sorted along dim; ties keep their order. Passing `stable` selects torch's sort.stable."""
    if stable is None:
        return dispatch(SORT, (input, dim, descending))
    return dispatch(SORT_STABLE, (input, stable, dim, descending))


def _argsort(self, dim=-1, descending=False, stable=False):
    return _sort(self, dim, descending)[1]


ARGSORT = defop("argsort", _argsort, tensors=("self",), differentiable=False, samples=_order_samples)


@public("msort")
def msort(input: Any) -> Any:
    """Sorted along dim 0 (values only)."""
    return dispatch(SORT, (input, 0, False))[0]


def _topk(self, k, dim=-1, largest=True, sorted=True):
    a, axis = _one_dim(self, dim)
    if not 0 <= k <= a.shape[axis]:
        raise RuntimeError("selected index k out of range")
    idx = stable_argsort(a, axis, largest)
    idx = np.take(idx, np.arange(k), axis=axis) if self.ndim else idx
    return _finish(self, np.take_along_axis(a, idx, axis), idx)


TOPK = defop("topk", _topk, node="TopkBackward0", outputs=2, differentiable_outputs=1, return_type=return_types.topk,
             grads={"self": _picked_grad},
             samples=lambda: iter([Sample(away(3, 5), 2), Sample(away(3, 5), 3, 0, False), Sample(away(6), 0),
                                   Sample(away(), 1), Sample(away(2, 4), 4, -1, True, True)]))


def _kthvalue(self, k, dim=-1, keepdim=False):
    a, axis = _one_dim(self, dim)
    _check_nonempty(a, (axis,), "kthvalue")
    if not 1 <= k <= a.shape[axis]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    idx = np.take(stable_argsort(a, axis, False), [k - 1], axis=axis)
    return _squeeze_pick(self, a, idx, axis, keepdim)


def _squeeze_pick(self: np.ndarray, a: np.ndarray, idx: np.ndarray, axis: int, keepdim: bool) -> tuple:
    values = np.take_along_axis(a, idx, axis)
    if not keepdim and self.ndim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
    return _finish(self, values, idx)


def _kept_grad(grad, result, self_shape, dim, keepdim):
    return select_backward(grad, result[1], self_shape, dim, keepdim)


KTHVALUE = defop("kthvalue", _kthvalue, node="KthvalueBackward0", outputs=2, differentiable_outputs=1,
                 return_type=return_types.kthvalue, grads={"self": _kept_grad},
                 samples=lambda: iter([Sample(away(3, 5), 2), Sample(away(3, 5), 3, 0, True), Sample(away(), 1)]))


def _median_all(self):
    flat = self.reshape(-1)
    if flat.size == 0 or np.isnan(flat).any():
        return np.asarray(np.nan, self.dtype) if self.dtype.kind == "f" else np.asarray(flat.min())
    return np.sort(flat)[(flat.size - 1) // 2]


MEDIAN = defop("median", _median_all, node="MedianBackward0", function=False, method=False,
               grads={"self": lambda grad, self, result: evenly_distribute(grad, self, result)},
               samples=lambda: iter([Sample(away(3, 4)), Sample(away(5)), Sample(away())]))


def _median_dim(self, dim, keepdim=False):
    a, axis = _one_dim(self, dim)
    _check_nonempty(a, (axis,), "median")
    n = a.shape[axis]
    order = stable_argsort(a, axis, False)
    nans = np.isnan(a).sum(axis=axis, keepdims=True) if a.dtype.kind == "f" else 0
    pos = np.where(nans > 0, n - nans, (n - 1) // 2) if a.dtype.kind == "f" else \
        np.full([1 if i == axis else s for i, s in enumerate(a.shape)], (n - 1) // 2)
    idx = np.take_along_axis(order, pos, axis)
    return _squeeze_pick(self, a, idx, axis, keepdim)


MEDIAN_DIM = defop("median.dim", _median_dim, node="MedianBackward1", function=False, method=False, outputs=2,
                   differentiable_outputs=1, return_type=return_types.median, grads={"self": _kept_grad},
                   samples=lambda: iter([Sample(away(3, 5), 1), Sample(away(3, 4), 0, True), Sample(away(), 0),
                                         Sample(away(0, 3), 1)]))


@public("median")
def median(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median of all elements, or (values, indices) along dim."""
    if dim is None:
        return dispatch(MEDIAN, (input,))
    return dispatch(MEDIAN_DIM, (input, dim, keepdim))


def _mode(self, dim=-1, keepdim=False):
    a, axis = _one_dim(self, dim)
    _check_nonempty(a, (axis,), "mode")
    moved = np.moveaxis(a, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    values = np.empty(rows.shape[0], a.dtype)
    indices = np.empty(rows.shape[0], _INT64)
    for r, row in enumerate(rows):
        order = np.argsort(row, kind="stable")
        srt = row[order]
        starts = np.flatnonzero(np.r_[True, srt[1:] != srt[:-1]])
        counts = np.diff(np.r_[starts, srt.size])
        best = int(np.argmax(counts))  # the smallest of the most frequent values
        values[r] = srt[starts[best]]
        indices[r] = order[starts[best]:starts[best] + counts[best]].max()  # its last occurrence
    shape = moved.shape[:-1]
    values = np.moveaxis(values.reshape(shape + (1,)), -1, axis)
    indices = np.moveaxis(indices.reshape(shape + (1,)), -1, axis)
    if not keepdim and self.ndim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return _finish(self, values, indices)


MODE = defop("mode", _mode, node="ModeBackward0", outputs=2, differentiable_outputs=1,
             return_type=return_types.mode, grads={"self": _kept_grad},
             samples=lambda: iter([Sample(away(3, 5)), Sample(away(3, 2), 0, True), Sample(away(), 0)]))
# (samples have no repeated values: a repeated mode is not differentiable; tests/ops/test_reduction_extra.py
# checks ties against torch)
