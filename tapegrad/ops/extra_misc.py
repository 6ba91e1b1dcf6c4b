"""Utilities users reach for beyond the core families: unique, bincount, histc, count_nonzero,
searchsorted/bucketize (not differentiable), nanmedian, index_copy, masked_scatter, put, and the
in-place methods that change a tensor's shape (unsqueeze_, squeeze_, t_, transpose_, resize_) or
run Python callables (apply_, map_).

Note [In-place shape methods]
unsqueeze_/squeeze_/t_/transpose_ cannot go through `apply_inplace` (which copies a same-shape
result into the storage): they rebind the tensor to a view of its own storage, after torch's
in-place checks, bump the version, and record the out-of-place entry's node under the in-place
overload's name (UnsqueezeBackward1, SqueezeBackward3/4/5, TBackward1, TransposeBackward1).
"""
from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .. import return_types
from ..autograd.grad_mode import _state
from . import _registry as R
from ._inplace import check_inplace_allowed
from ._registry import FUNCTIONS, METHODS, OPS, defop, dispatch, public
from ._samples import Sample, arr, away
from .reduction_extra import evenly_distribute, wrap_dim
from .sorting import _kept_grad, _squeeze_pick, stable_argsort


def _make(a: Any) -> Any:
    return R._make(np.asarray(a), False, None, 0)


def _legacy(a: np.ndarray) -> str:
    return D.from_numpy(a.dtype)._legacy


def _data(t: Any) -> np.ndarray:
    return t._data if isinstance(t, R.Tensor) else np.asarray(t)


# ---------------------------------------------------------------------------------------
# unique / unique_consecutive

def _unique_along(a: np.ndarray, dim: int | None, consecutive: bool) -> tuple:
    """(values, inverse, counts) of the elements (or slices along dim) of `a`, sorted unless consecutive."""
    if dim is None:
        flat = a.reshape(-1)
        if consecutive:
            if flat.size == 0:
                return flat.copy(), np.zeros(0, np.int64), np.zeros(0, np.int64)
            starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
            counts = np.diff(np.r_[starts, flat.size])
            inverse = np.repeat(np.arange(starts.size), counts)
            return flat[starts], inverse.reshape(a.shape), counts
        values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
        return values, inverse.reshape(a.shape), counts
    axis = wrap_dim(dim, a.ndim)
    moved = np.moveaxis(a, axis, 0)
    rows = moved.reshape(moved.shape[0], -1)
    if consecutive:
        if rows.shape[0] == 0:
            return a.copy(), np.zeros(0, np.int64), np.zeros(0, np.int64)
        change = np.r_[True, (rows[1:] != rows[:-1]).any(axis=1)]
        starts = np.flatnonzero(change)
        counts = np.diff(np.r_[starts, rows.shape[0]])
        inverse = np.repeat(np.arange(starts.size), counts)
        picked = starts
    else:
        _, picked, inverse, counts = np.unique(rows, axis=0, return_index=True, return_inverse=True,
                                               return_counts=True)
        inverse = inverse.reshape(-1)
    values = np.moveaxis(moved[picked], 0, axis)
    return values, inverse, counts


def _unique_result(values: np.ndarray, inverse: np.ndarray, counts: np.ndarray, return_inverse: bool,
                   return_counts: bool) -> Any:
    out = [_make(values)]
    if return_inverse:
        out.append(_make(inverse.astype(np.int64)))
    if return_counts:
        out.append(_make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


@public("unique")
def unique(input: Any, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> Any:
    """The distinct elements (or slices along dim), sorted, with optional inverse indices and counts."""
    return _unique_result(*_unique_along(input._data, dim, False), return_inverse, return_counts)


@public("unique_consecutive")
def unique_consecutive(input: Any, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Each run of equal consecutive elements (or slices along dim) collapsed to one."""
    return _unique_result(*_unique_along(input._data, dim, True), return_inverse, return_counts)


# ---------------------------------------------------------------------------------------
# bincount, histc, count_nonzero, searchsorted, bucketize

@public("bincount")
def bincount(input: Any, weights: Any = None, minlength: int = 0) -> Any:
    """How often each non-negative integer occurs in a 1-d tensor (weighted sums with `weights`)."""
    a = input._data
    if a.dtype.kind not in "iub":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{D.from_numpy(a.dtype)._legacy}'")
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _make(np.bincount(a, minlength=minlength).astype(np.int64))
    w = _data(weights)
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out_dt = np.float32 if w.dtype == np.float32 else np.float64
    return _make(np.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(out_dt))


@public("histc")
def histc(input: Any, bins: int = 100, min: float = 0, max: float = 0) -> Any:
    """Histogram of the elements in `bins` equal-width bins over [min, max] (the data's range if equal)."""
    a = input._data
    if a.dtype.kind not in "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{D.from_numpy(a.dtype)._legacy}'")
    if bins <= 0:
        raise RuntimeError("torch.histc(): bins must be > 0, but got 0 for dim 0" if bins == 0 else
                           f"torch.histc(): bins must be > 0, but got {bins} for dim 0")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc(): max must be larger than min")
    vals = a.reshape(-1).astype(np.float64)
    vals = vals[(vals >= lo) & (vals <= hi)]
    idx = np.minimum(((vals - lo) * bins / (hi - lo)).astype(np.int64), bins - 1)
    return _make(np.bincount(idx, minlength=bins).astype(a.dtype))


@public("count_nonzero")
def count_nonzero(input: Any, dim: Any = None) -> Any:
    """Number of non-zero elements, over all elements or over dim(s)."""
    a = input._data
    if dim is None:
        return _make(np.asarray(np.count_nonzero(a), np.int64))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    axes = tuple(wrap_dim(d, a.ndim) for d in dims)
    if a.ndim == 0:
        return _make(np.asarray(np.count_nonzero(a), np.int64))
    return _make(np.count_nonzero(a, axis=axes).astype(np.int64))


def _search(sorted_seq: np.ndarray, values: np.ndarray, right: bool) -> np.ndarray:
    side = "right" if right else "left"
    if sorted_seq.ndim <= 1:
        return np.searchsorted(sorted_seq, values, side=side)
    if sorted_seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(sorted_seq.shape)} and input value tensor {list(values.shape)}")
    rows = sorted_seq.reshape(-1, sorted_seq.shape[-1])
    vals = values.reshape(rows.shape[0], -1)
    out = np.stack([np.searchsorted(r, v, side=side) for r, v in zip(rows, vals)]) if rows.shape[0] else \
        np.zeros(vals.shape, np.int64)
    return out.reshape(values.shape)


@public("searchsorted", method=False)
def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, out: Any = None, sorter: Any = None) -> Any:
    """Indices where `input` would be inserted into the innermost dim of `sorted_sequence` to keep it sorted."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    if sorter is not None:
        seq = np.take_along_axis(seq, _data(sorter), axis=-1)
    scalar = not isinstance(input, R.Tensor)
    vals = np.asarray(input) if scalar else input._data
    res = _search(seq, vals, right)
    return _make(np.asarray(res, np.int32 if out_int32 else np.int64))


@public("bucketize", method=False)
def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False, right: bool = False, out: Any = None) -> Any:
    """The bucket of each element of `input` given 1-d sorted `boundaries`."""
    b = boundaries._data
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    vals = np.asarray(input) if not isinstance(input, R.Tensor) else input._data
    return _make(np.asarray(np.searchsorted(b, vals, side="right" if right else "left"),
                            np.int32 if out_int32 else np.int64))


# ---------------------------------------------------------------------------------------
# nanmedian

def _nanmedian_all(self):
    flat = self.reshape(-1)
    if flat.dtype.kind == "f":
        flat = flat[~np.isnan(flat)]
    if flat.size == 0:
        return np.asarray(np.nan, self.dtype)
    return np.sort(flat)[(flat.size - 1) // 2]


def _nanmedian_dim(self, dim, keepdim=False):
    axis = wrap_dim(dim, self.ndim)
    a = self.reshape(1) if self.ndim == 0 else self
    if a.shape[axis] == 0:
        raise IndexError(f"nanmedian(): Expected reduction dim {axis} to have non-zero size.")
    order = stable_argsort(a, axis, False)
    valid = (~np.isnan(a)).sum(axis=axis, keepdims=True) if a.dtype.kind == "f" else \
        np.full([1 if i == axis else s for i, s in enumerate(a.shape)], a.shape[axis])
    pos = np.maximum(valid - 1, 0) // 2
    idx = np.take_along_axis(order, pos, axis)
    return _squeeze_pick(self, a, idx, axis, keepdim)


NANMEDIAN_TYPE = getattr(return_types, "nanmedian", None) or return_types._structseq("nanmedian",
                                                                                       ("values", "indices"))
NANMEDIAN = defop("nanmedian", _nanmedian_all, node="NanmedianBackward0", function=False, method=False,
                  grads={"self": lambda grad, self, result: evenly_distribute(grad, self, result)},
                  samples=lambda: iter([Sample(away(3, 4)), Sample(away(5)), Sample(away())]))
NANMEDIAN_DIM = defop("nanmedian.dim", _nanmedian_dim, node="NanmedianBackward1", function=False, method=False,
                      outputs=2, differentiable_outputs=1, return_type=NANMEDIAN_TYPE, grads={"self": _kept_grad},
                      samples=lambda: iter([Sample(away(3, 5), 1), Sample(away(3, 4), 0, True), Sample(away(), 0)]))


@public("nanmedian")
def nanmedian(input: Any, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median ignoring NaN, of all elements or (values, indices) along dim."""
    if dim is None:
        return dispatch(NANMEDIAN, (input,))
    return dispatch(NANMEDIAN_DIM, (input, dim, keepdim))


# ---------------------------------------------------------------------------------------
# index_copy, masked_scatter, put

def _index_copy(self, dim, index, source):
    if self.dtype != source.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_legacy(self)} and (source) {_legacy(source)}")
    axis = wrap_dim(dim, builtins.max(self.ndim, 1))
    out = self.copy()
    if self.ndim == 0:
        out[...] = source.reshape(())
        return out
    idx = index.reshape(-1)
    if idx.size != (source.shape[axis] if source.ndim else 1):
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                         f"({source.shape[axis] if source.ndim else 1})")
    moved = np.moveaxis(out, axis, 0)
    moved[idx] = np.moveaxis(source.reshape(source.shape if source.ndim else (1,)), axis, 0)
    return out


INDEX_COPY = defop("index_copy", _index_copy, node="IndexCopyBackward0", promote="none", inplace="index_copy_",
                   tensors=("self", "index", "source"), inputs=("self", "source"),
                   grads={"self": lambda grad, dim, index: grad.index_fill(dim, index, 0),
                          "source": lambda grad, dim, index, source_shape:
                          grad.index_select(dim, index).reshape(source_shape)},
                   samples=lambda: iter([Sample(arr(4, 3), 0, np.array([2, 0]), arr(2, 3)),
                                         Sample(arr(3, 4), 1, np.array([3, 1, 0]), arr(3, 3)),
                                         Sample(arr(3, 4), -1, np.array([], np.int64), arr(3, 0))]))


def _masked_scatter(self, mask, source):
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{D.from_numpy(mask.dtype)._legacy}")
    if self.dtype != source.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_legacy(self)} and {_legacy(source)}")
    m = np.broadcast_to(mask, np.broadcast_shapes(self.shape, mask.shape))
    out = np.broadcast_to(self, m.shape).copy()
    k = int(m.sum())
    src = source.reshape(-1)
    if src.size < k:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    out[m] = src[:k]
    return out


def _masked_scatter_source_grad(grad, mask, source_shape):
    picked = grad.masked_select(mask)
    numel = int(np.prod(source_shape))
    pad = R._make(np.zeros(numel - picked.shape[0], grad._data.dtype), False, None, 0)
    return FUNCTIONS["cat"]([picked, pad]).reshape(source_shape)


MASKED_SCATTER = defop("masked_scatter", _masked_scatter, node="MaskedScatterBackward0", inplace="masked_scatter_",
                       tensors=("self", "mask", "source"), inputs=("self", "source"),
                       grads={"self": lambda grad, mask: grad.masked_fill(mask, 0),
                              "source": _masked_scatter_source_grad},
                       samples=lambda: iter([Sample(arr(3, 4), arr(3, 4) > 0, arr(3, 4)),
                                             Sample(arr(3, 4), arr(4) > 0, arr(20)),
                                             Sample(arr(), np.array(True), arr(2)),
                                             Sample(arr(0, 2), arr(2) > 0, arr(1))]))


def _put(self, index, source, accumulate=False):
    if self.dtype != source.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_legacy(self)} and source.dtype = {_legacy(source)}")
    out = self.copy()
    flat = out.reshape(-1)
    idx = index.reshape(-1)
    if idx.size != source.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source.size}, index.numel() = {idx.size}")
    if idx.size and (idx.max() >= flat.size or idx.min() < -flat.size):
        bad = idx.max() if idx.max() >= flat.size else idx.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {flat.size} elements.")
    if accumulate:
        np.add.at(flat, idx, source.reshape(-1))
    else:
        flat[idx] = source.reshape(-1)
    return out


def _put_self_grad(grad, index, source, accumulate):
    if accumulate:
        return grad
    return grad.put(index, R._make(np.zeros(source.shape, grad._data.dtype), False, None, 0), False)


PUT = defop("put", _put, node="PutBackward0", inplace="put_", tensors=("self", "index", "source"),
            inputs=("self", "source"),
            grads={"self": _put_self_grad,
                   "source": lambda grad, index, source_shape: grad.take(index).reshape(source_shape)},
            samples=lambda: iter([Sample(arr(3, 4), np.array([0, 5, 11]), arr(3)),
                                  Sample(arr(3, 4), np.array([[1, 1], [-1, 2]]), arr(2, 2), True),
                                  Sample(arr(), np.array([0]), arr(1)),
                                  Sample(arr(2, 2), np.array([], np.int64), arr(0))]))


# ---------------------------------------------------------------------------------------
# in-place shape methods (Note [In-place shape methods])

def _renamed(op_name: str, node_name: str) -> type:
    base = OPS[op_name].node_cls
    return type(node_name, (base,), {"__slots__": ()})


_NODES: dict[str, type] = {}


def _node(op_name: str, node_name: str) -> type:
    cls = _NODES.get(node_name)
    if cls is None:
        cls = _NODES[node_name] = _renamed(op_name, node_name)
    return cls


def _rebind(self: Any, op_name: str, node_name: str, args: tuple) -> Any:
    check_inplace_allowed(self)
    op = OPS[op_name]
    out = dispatch(op, (self,) + args)
    self._data = out._data
    self._version_counter[0] += 1
    if out._grad_fn is not None:
        out._grad_fn.__class__ = _node(op_name, node_name)
        self._grad_fn = out._grad_fn
        self._output_nr = 0
        self._requires_grad = True
    if self._view_fn is not None:
        parent = self._view_fn

        def view_fn(root: Any, _parent: Callable = parent, _op: Any = op, _args: tuple = args) -> Any:
            return dispatch(_op, (_parent(root),) + _args)
        self._view_fn = view_fn
    return self


def _method(name: str, fn: Callable) -> Callable:
    fn.__name__ = name
    if name in METHODS:
        raise ValueError(f"method {name} declared twice")
    METHODS[name] = fn
    return fn


def unsqueeze_(self: Any, dim: int) -> Any:
    """In place: a new dimension of size one at `dim`."""
    return _rebind(self, "unsqueeze", "UnsqueezeBackward1", (dim,))


def squeeze_(self: Any, dim: Any = None) -> Any:
    """In place: remove dimensions of size one (all, or those in dim)."""
    if dim is None:
        return _rebind(self, "squeeze.all", "SqueezeBackward3", ())
    if isinstance(dim, (list, tuple)):
        return _rebind(self, "squeeze.dims", "SqueezeBackward5", (tuple(dim),))
    return _rebind(self, "squeeze.dim", "SqueezeBackward4", (dim,))


def t_(self: Any) -> Any:
    """In place: transpose a tensor of at most 2 dimensions."""
    return _rebind(self, "t", "TBackward1", ())


def transpose_(self: Any, dim0: int, dim1: int) -> Any:
    """In place: swap dims dim0 and dim1."""
    return _rebind(self, "transpose", "TransposeBackward1", (dim0, dim1))


for _name, _fn in (("unsqueeze_", unsqueeze_), ("squeeze_", squeeze_), ("t_", t_), ("transpose_", transpose_)):
    _method(_name, _fn)


def resize_(self: Any, *sizes: Any, memory_format: Any = None) -> Any:
    """Give the tensor a new shape, keeping its leading elements; growing moves it to new storage."""
    if self._requires_grad and _state.enabled:
        raise RuntimeError("cannot resize variables that require grad")
    shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(shape)}: {list(shape)}")
    numel = int(np.prod(shape))
    old = self._data
    if numel <= old.size and old.flags.c_contiguous:
        self._data = old.reshape(-1)[:numel].reshape(shape)
    else:
        new = np.zeros(numel, old.dtype)
        n = builtins.min(numel, old.size)
        new[:n] = old.reshape(-1)[:n]
        self._data = new.reshape(shape)
    self._version_counter[0] += 1
    return self


_method("resize_", resize_)


def fill_diagonal_(self: Any, fill_value: Any, wrap: bool = False) -> Any:
    """In place: fill the main diagonal (of a 2-d or all-equal-dims tensor) with `fill_value`."""
    shape = tuple(self.shape)
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    strides = self.stride()
    step = builtins.sum(strides)
    count = builtins.min(shape)
    if wrap and len(shape) == 2 and shape[0] > shape[1] + 1 and self._data.flags.c_contiguous:
        count = (shape[0] * shape[1] - 1) // step + 1
    if count == 0:
        return self
    diag = self.as_strided((count,), (step,), self.storage_offset())
    diag.fill_(fill_value)
    return self


_method("fill_diagonal_", fill_diagonal_)


def _no_grad_check(self: Any, name: str, *others: Any) -> None:
    if any(t._requires_grad for t in (self,) + others if isinstance(t, R.Tensor)):
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")


def apply_(self: Any, callable: Callable) -> Any:
    """In place: replace every element by callable(element) (CPU, no autograd)."""
    _no_grad_check(self, "apply_")
    values = [callable(v.item()) for v in self._data.reshape(-1)]
    if values:
        self._data[...] = np.asarray(values, self._data.dtype).reshape(self._data.shape)
    return self  # torch does not bump the version here


def map_(self: Any, tensor: Any, callable: Callable) -> Any:
    """In place: self[i] = callable(self[i], tensor[i]), with `tensor` broadcast to self (no autograd)."""
    _no_grad_check(self, "map_", tensor)
    other = np.broadcast_to(_data(tensor), self._data.shape)
    values = [callable(a.item(), b.item()) for a, b in zip(self._data.reshape(-1), other.reshape(-1))]
    if values:
        self._data[...] = np.asarray(values, self._data.dtype).reshape(self._data.shape)
    return self


_method("apply_", apply_)
_method("map_", map_)
