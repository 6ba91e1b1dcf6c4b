"""Subscripts: `Tensor.__getitem__` / `__setitem__`, decomposed into the ops torch records, and
the advanced-indexing entries beneath them (index, index_put, alias, copy_, fill_, zero_).

Note [Decomposing a subscript]
torch turns `x[i, a:b, None, ..., idx]` into a chain of views applied left to right: an int is
`select` (it removes the dim), a slice is `slice` (skipped inside a tuple when it covers the whole
dim), None or a Python bool is `unsqueeze`, Ellipsis skips the unnamed dims. Tensors, lists and
bool masks are collected by position and applied last by one `index` (a copy, IndexBackward0)
with NumPy's rule for where the indexed dims go. Because ints are applied first as `select`,
`x[0, :, [1, 2]]` has shape (x.size(1), 2) in torch, not NumPy's (2, x.size(1)).
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from . import _registry as R
from ._inplace import apply_inplace, check_inplace_allowed
from ._registry import defop, dispatch, public
from ._samples import Sample, arr, ints

_INT_TYPES = (int, np.integer)
_SCALAR_TYPES = (int, float, bool, complex, np.number, np.bool_)


def _shape_str(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _zeros(shape: tuple, dtype: np.dtype) -> Any:
    return R._make(np.zeros(shape, dtype), False, None, 0)


def _zeros_like(t: Any) -> Any:
    return _zeros(t._data.shape, t._data.dtype)


# --- index arrays -----------------------------------------------------------------------
def _key(indices: Sequence[Any]) -> tuple:
    return tuple(slice(None) if i is None else i for i in indices)


def _arrays(indices: Sequence[Any]) -> list:
    """Index entries as arrays (the entries may hold tensors when called from outside a subscript)."""
    return [i._data if isinstance(i, R.Tensor) else i for i in indices]


def check_indices(shape: tuple, indices: Sequence[Any]) -> None:
    """torch's errors for index arrays that do not broadcast or fall out of range."""
    if len(indices) > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    defined = [i for i in indices if i is not None]
    if len(defined) > 1:
        try:
            np.broadcast_shapes(*[i.shape for i in defined])
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(_shape_str(i.shape) for i in defined)) from None
    k = 0
    for pos, idx in enumerate(indices):
        if idx is None:
            continue
        n = shape[pos]
        if idx.size and (idx.max() >= n or idx.min() < -n):
            bad = idx[(idx >= n) | (idx < -n)].flat[0]
            raise IndexError(f"index {bad} is out of bounds for dimension {k} with size {n}")
        k += 1


def index_result_shape(shape: tuple, indices: Sequence[Any]) -> tuple:
    """Shape of `a[indices]` for NumPy/torch advanced indexing, without computing it."""
    positions = [p for p, i in enumerate(indices) if i is not None]
    if not positions:
        return tuple(shape)
    bshape = np.broadcast_shapes(*[indices[p].shape for p in positions])
    rest = [s for p, s in enumerate(shape) if p not in positions]
    first = positions[0]
    if positions == list(range(first, positions[-1] + 1)):
        return tuple(shape[:first]) + tuple(bshape) + tuple(rest[first:])
    return tuple(bshape) + tuple(rest)


def _index(self, indices):
    indices = _arrays(indices)
    check_indices(self.shape, indices)
    return self[_key(indices)]


def _index_grad(grad, indices, self_shape):
    return dispatch(INDEX_PUT, (_zeros(self_shape, grad._data.dtype), indices, grad, True))


INDEX = defop("index.Tensor", _index, node="IndexBackward0", function=False, method=False,
              grads={"self": _index_grad},
              samples=lambda: iter([
                  Sample(arr(4, 3), [np.array([0, 2, 2, 3])]),
                  Sample(arr(3, 4), [None, np.array([[1, 0], [3, 3]])]),
                  Sample(arr(3, 4, 2), [np.array([0, 2]), None, np.array([1, 0])]),
                  Sample(arr(3, 4), [np.array([], dtype=np.int64)]),
                  Sample(arr(3, 4), [np.array([-1, 0]), np.array(2)])]),
              jvps={"self": "linear"})


def _index_put(self, indices, values, accumulate=False):
    indices = _arrays(indices)
    check_indices(self.shape, indices)
    target = index_result_shape(self.shape, indices)
    if not _broadcastable(values.shape, target) or np.broadcast_shapes(values.shape, target) != target:
        raise RuntimeError(f"shape mismatch: value tensor of shape {_shape_str(values.shape)} cannot be broadcast "
                           f"to indexing result of shape {_shape_str(target)}")
    out = self.copy()
    key = _key(indices)
    if accumulate:
        np.add.at(out, key, np.broadcast_to(values, target))
    else:
        out[key] = values
    return out


def _broadcastable(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _index_put_self_grad(grad, indices, accumulate):
    if accumulate:
        return grad
    return dispatch(INDEX_PUT, (grad, indices, _zeros((), grad._data.dtype), False))


INDEX_PUT = defop("index_put", _index_put, node="IndexPutBackward0", function=False, method=False,
                  tensors=("self", "values"),
                  grads={"self": _index_put_self_grad,
                         "values": lambda grad, indices: dispatch(INDEX, (grad, indices))},
                  samples=lambda: iter([
                      Sample(arr(4, 3), [np.array([0, 2])], arr(2, 3)),
                      Sample(arr(4, 3), [np.array([0, 2, 0])], arr(3), True),
                      Sample(arr(3, 4), [np.array([2, 1]), np.array([1, 3])], arr()),
                      Sample(arr(3, 4), [np.array([0, 1]), np.array([2, 3])], arr(2), False)]))


def _index_dtype_error() -> IndexError:
    return IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _as_index_array(obj: Any) -> np.ndarray:
    """An index tensor, list or array as int64 positions or a bool mask (torch's dtype rules)."""
    if isinstance(obj, R.Tensor):
        a = obj._data
        if a.dtype == np.uint8:
            warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                          "instead.", UserWarning, stacklevel=4)
            return a.astype(bool)
        if a.dtype.kind == "b" or a.dtype in (np.int64, np.int32):
            return a
        raise _index_dtype_error()
    a = obj if isinstance(obj, np.ndarray) else np.asarray(obj)  # keeps a vmap lane (func/_vmap.py)
    if a.dtype.kind in "bi":
        return a
    if a.size == 0 or a.dtype.kind in "uf":
        return a.astype(np.int64)
    raise _index_dtype_error()


def _expand_masks(shape: tuple, entries: list) -> list:
    """Replace bool masks by the int positions of their True elements, one array per mask dim."""
    out: list = []
    for entry in entries:
        if entry is None or entry.dtype.kind != "b":
            out.append(entry)
            continue
        start = len(out)
        k = entry.ndim
        for j in range(k):
            if start + j >= len(shape) or entry.shape[j] != shape[start + j]:
                raise IndexError(f"The shape of the mask {_shape_str(entry.shape)} at index {j} does not match the "
                                 f"shape of the indexed tensor {_shape_str(shape)} at index {start + j}")
        out.extend(np.nonzero(entry))
        if k == 0:  # a 0-dim mask is an unsqueezed dim indexed by [0] or []
            out.append(np.zeros(1 if entry else 0, np.int64))
    return out


def prepare_indices(shape: tuple, indices: Sequence[Any]) -> tuple:
    """Index tensors / lists / masks as a tuple of int arrays or None, checked against `shape`."""
    entries = [None if i is None else _as_index_array(i) for i in indices]
    entries = _expand_masks(shape, entries)
    out = tuple(None if e is None else e.astype(np.int64, copy=False) for e in entries)
    check_indices(shape, out)
    return out


# --- alias ------------------------------------------------------------------------------
ALIAS = defop("alias", lambda self: self.view(), node="AliasBackward0", view=True, function=False, method=False,
              grads={"self": lambda grad: grad}, samples=lambda: iter([Sample(arr(3, 2)), Sample(arr())]),
              jvps={"self": "linear"})


# --- parsing a subscript (see Note [Decomposing a subscript]) --------------------------------
_BAD_INDEX = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
              "(got {})")


def _is_int(obj: Any) -> bool:
    return isinstance(obj, _INT_TYPES) and not isinstance(obj, (bool, np.bool_))


def _select(t: Any, dim: int, index: int, real_dim: int) -> Any:
    size = t._data.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {real_dim} with size {size}")
    return dispatch(R.OPS["select"], (t, dim, index))


def _slice(t: Any, dim: int, s: slice, optimize: bool) -> Any:
    if t._data.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    step = 1 if s.step is None else int(s.step)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    length = t._data.shape[dim]
    if optimize and step == 1 and (s.start is None or int(s.start) == 0) and (s.stop is None or int(s.stop) >= length):
        return t
    start, stop, _ = slice(s.start, s.stop, step).indices(length)
    return dispatch(R.OPS["slice"], (t, dim, start, max(stop, start), step))


def _unsqueeze(t: Any, dim: int) -> Any:
    return dispatch(R.OPS["unsqueeze"], (t, dim))


def _treat_as_tuple(seq: list) -> bool:
    """torch reads a list holding slices, None, Ellipsis, sequences or tensors as a tuple (deprecated)."""
    if len(seq) >= 32:
        return False
    return any(isinstance(o, (slice, list, tuple, R.Tensor, np.ndarray)) or o is None or o is Ellipsis
               for o in seq)


def _count_dims(index: tuple) -> int:
    count = 0
    for obj in index:
        if isinstance(obj, R.Tensor):
            count += obj._data.ndim if obj._data.dtype in (np.bool_, np.uint8) else 1
        elif obj is not None and obj is not Ellipsis and obj is not True and obj is not False:
            count += 1
    return count


def _apply_subscript(self: Any, index: tuple) -> tuple:
    """Apply the basic parts of `index`; return the view and the collected index entries by dim."""
    ndim = self._data.ndim
    specified = _count_dims(index)
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    result = self
    dim = 0
    real_dim = 0
    entries: list = []

    def record(entry: Any) -> None:
        entries.extend([None] * (dim - len(entries)))
        entries.append(entry)

    for obj in index:
        if _is_int(obj):
            result = _select(result, dim, int(obj), real_dim)
            real_dim += 1
        elif isinstance(obj, slice):
            result = _slice(result, dim, obj, True)
            dim += 1
            real_dim += 1
        elif obj is Ellipsis:
            dim += ndim - specified
            real_dim += ndim - specified
        elif obj is None:
            result = _unsqueeze(result, dim)
            dim += 1
        elif obj is True or obj is False or isinstance(obj, np.bool_):
            result = _unsqueeze(result, dim)
            record(np.zeros(1 if obj else 0, np.int64))
            dim += 1
        elif isinstance(obj, R.Tensor):
            a = obj._data
            if a.ndim == 0 and a.dtype.kind in "iu" and a.dtype != np.uint8:
                result = _select(result, dim, int(a), real_dim)
                real_dim += 1
            elif a.ndim == 0 and a.dtype.kind == "b" or a.dtype == np.uint8 and a.ndim == 0:
                result = _unsqueeze(result, dim)
                record(np.zeros(1 if a else 0, np.int64))
                dim += 1
            else:
                arr_ = _as_index_array(obj)
                record(arr_)
                step = arr_.ndim if arr_.dtype.kind == "b" else 1
                dim += step
                real_dim += step
        elif isinstance(obj, (list, tuple, np.ndarray)):
            arr_ = _as_index_array(obj)
            record(arr_)
            dim += 1
            real_dim += 1
        else:
            raise IndexError(_BAD_INDEX.format(type(obj).__name__))
    return result, entries


def _normalize(index: Any) -> tuple:
    if isinstance(index, tuple):
        return index
    if isinstance(index, list) and _treat_as_tuple(index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
                      "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted "
                      "as tensor index, x[torch.tensor(seq)], which will result either in an error or a different "
                      "result", UserWarning, stacklevel=3)
        return tuple(index)
    return (index,)


def _check_index_type(index: Any) -> None:
    if isinstance(index, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(index).__name__}'")


@public("__getitem__", function=False)
def getitem(self: Any, index: Any) -> Any:
    """`x[index]`: views for ints, slices, None and Ellipsis; a copy when tensors or lists index."""
    if _is_int(index):
        if self._data.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        return _select(self, 0, int(index), 0)
    if isinstance(index, slice):
        return _slice(self, 0, index, False)
    if index is None:
        return _unsqueeze(self, 0)
    if index is Ellipsis:
        return dispatch(ALIAS, (self,))
    _check_index_type(index)
    result, entries = _apply_subscript(self, _normalize(index))
    if not entries:
        return dispatch(ALIAS, (self,)) if result is self else result
    return dispatch(INDEX, (result, prepare_indices(result._data.shape, entries)))


# --- __setitem__ --------------------------------------------------------------------------
def _value_tensor(self: Any, value: Any) -> Any:
    if isinstance(value, R.Tensor):
        return value
    if isinstance(value, _SCALAR_TYPES):
        return R._make(np.array(value).astype(self._data.dtype), False, None, 0)
    raise TypeError(f"can't assign a {type(value).__name__} to a {self.type()}")


def _strip_leading_ones(value: Any) -> Any:
    shape = value._data.shape
    k = 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return dispatch(R.OPS["view"], (value, shape[k:])) if k else value


def copy_to(dst: Any, src: Any) -> None:
    """Write `src` into `dst` as torch's setitem does: copy_, fill_ for a 0-dim src, or expand then copy_."""
    if dst._data.shape == src._data.shape:
        dst.copy_(src)
        return
    if src._data.ndim == 0:
        dst.fill_(src)
        return
    src = _strip_leading_ones(src)
    if src._data.shape != dst._data.shape:
        src = dispatch(R.OPS["expand"], (src, dst._data.shape))
    dst.copy_(src)


@public("__setitem__", function=False)
def setitem(self: Any, index: Any, value: Any) -> None:
    """`x[index] = value`: an in-place write through views (CopySlices) or index_put_."""
    value = _value_tensor(self, value)
    if index is False:
        return
    if index is Ellipsis:
        return copy_to(self, value)
    if index is None or index is True:
        return copy_to(_unsqueeze(self, 0), value)
    if _is_int(index):
        if self._data.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        return copy_to(_select(self, 0, int(index), 0), value)
    if isinstance(index, slice):
        return copy_to(_slice(self, 0, index, True), value)
    _check_index_type(index)
    sliced, entries = _apply_subscript(self, _normalize(index))
    if not entries:
        return copy_to(sliced, value)
    indices = prepare_indices(sliced._data.shape, entries)
    if value._data.dtype != sliced._data.dtype:
        raise RuntimeError(_index_put_dtype_message(sliced, value))
    apply_inplace(INDEX_PUT, (sliced, indices, _strip_leading_ones(value), False))


def _index_put_dtype_message(self: Any, values: Any) -> str:
    return (f"Index put requires the source and destination dtypes match, got {self.dtype._legacy} for the "
            f"destination and {values.dtype._legacy} for the source.")


def _index_put_args(self: Any, indices: Any, values: Any) -> tuple:
    if not isinstance(indices, (tuple, list)):
        raise TypeError("index_put(): argument 'indices' must be tuple of Tensors")
    values = _value_tensor(self, values)
    if values._data.dtype != self._data.dtype:
        raise RuntimeError(_index_put_dtype_message(self, values))
    return prepare_indices(self._data.shape, list(indices)), values


@public("index_put")
def index_put(input: Any, indices: Any, values: Any, accumulate: bool = False) -> Any:
    """A copy of input with `values` written (or added) at the positions `indices` name."""
    idx, values = _index_put_args(input, indices, values)
    return dispatch(INDEX_PUT, (input, idx, values, accumulate))


@public("index_put_", function=False)
def index_put_(self: Any, indices: Any, values: Any, accumulate: bool = False) -> Any:
    """Write (or add) `values` at the positions `indices` name, in place."""
    idx, values = _index_put_args(self, indices, values)
    return apply_inplace(INDEX_PUT, (self, idx, values, accumulate))


# --- copy_ / fill_ / zero_ ----------------------------------------------------------------
def _copy(self, src, non_blocking=False):
    if isinstance(src, np.ndarray) and src.shape != self.shape:
        from .comparison import broadcast_shapes_or_raise
        broadcast_shapes_or_raise(self.shape, src.shape)
    out = np.empty_like(self)
    np.copyto(out, src, casting="unsafe")
    return out


COPY = defop("copy_", _copy, node="CopyBackwards", function=False, method=False, scalar_edges=True,
             tensors=("self", "src"),
             grads={"self": lambda grad: _zeros_like(grad), "src": lambda grad: grad},
             samples=lambda: iter([Sample(arr(3, 4), arr(3, 4)), Sample(arr(3, 4), arr(4)), Sample(arr(), arr()),
                                   Sample(arr(0, 2), arr(2))]))


@public("copy_", function=False)
def copy_(self: Any, src: Any, non_blocking: bool = False) -> Any:
    """Copy src's values (broadcast, converted to self's dtype) into self."""
    if not isinstance(src, R.Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    return apply_inplace(COPY, (self, src, non_blocking))


def _fill(self, value):
    if isinstance(value, np.ndarray) and value.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                           "dimensions.")
    out = np.empty_like(self)
    np.copyto(out, value, casting="unsafe")
    return out


_FILL_SELF = {"self": lambda grad: _zeros_like(grad)}
_FILL_BOTH = {"self": lambda grad: _zeros_like(grad), "value": lambda grad: grad.sum()}
_fill_samples = lambda: iter([Sample(arr(3, 4), 1.5), Sample(arr(), -2.0), Sample(arr(0, 3), 1.0)])  # noqa: E731
_fill_t_samples = lambda: iter([Sample(arr(3, 4), arr()), Sample(arr(), arr()), Sample(arr(0, 3), arr())])  # noqa: E731
FILL = defop("fill.Scalar", _fill, node="FillBackward0", function=False, method=False, tensors=("self",),
             grads=_FILL_SELF, samples=_fill_samples)
FILL_T = defop("fill.Tensor", _fill, node="FillBackward1", function=False, method=False, tensors=("self", "value"),
               grads=_FILL_BOTH, samples=_fill_t_samples)
FILL_ = defop("fill_.Scalar", _fill, node="FillBackward2", function=False, method=False, tensors=("self",),
              grads=_FILL_SELF, samples=_fill_samples)
FILL_T_ = defop("fill_.Tensor", _fill, node="FillBackward3", function=False, method=False,
                tensors=("self", "value"), grads=_FILL_BOTH, samples=_fill_t_samples)


@public("fill")
def fill(input: Any, value: Any) -> Any:
    """A tensor of input's shape and dtype filled with value (a number or a 0-dim tensor)."""
    return dispatch(FILL_T if isinstance(value, R.Tensor) else FILL, (input, value))


@public("fill_")
def fill_(self: Any, value: Any) -> Any:
    """Fill self with value (a number or a 0-dim tensor), in place."""
    return apply_inplace(FILL_T_ if isinstance(value, R.Tensor) else FILL_, (self, value))


ZERO_ = defop("zero", lambda self: np.zeros_like(self), node="ZeroBackward0", function=False, method=False,
              grads={"self": lambda grad: _zeros_like(grad)},
              samples=lambda: iter([Sample(arr(3, 4)), Sample(arr())]))


@public("zero_")
def zero_(self: Any) -> Any:
    """Fill self with zeros, in place."""
    if not R._state.enabled or not self._requires_grad:
        check_inplace_allowed(self)
        self._data[...] = 0
        self._version_counter[0] += 1
        return self
    return apply_inplace(ZERO_, (self,))


from . import gather_scatter  # noqa: E402,F401  (masked_fill, gather, scatter ... declared beside)
