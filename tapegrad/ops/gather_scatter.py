"""Reading and writing along a dim with index tensors: gather, scatter, scatter_add, index_select,
index_add, index_fill, take, masked_fill, masked_select (and their in-place forms).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._size import wrap_dim as _wrap
from . import _registry as R
from ._inplace import apply_inplace
from ._registry import defop, dispatch, public
from ._samples import Sample, arr


def _shape_str(shape: tuple) -> str:
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _zeros(shape: tuple, dtype: np.dtype) -> Any:
    return R._make(np.zeros(shape, dtype), False, None, 0)


def _legacy(a: np.ndarray) -> str:
    from .. import _dtype as D
    return D.from_numpy(a.dtype)._legacy


_C_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
            "int8": "signed char", "uint8": "unsigned char", "float16": "c10::Half", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}


def _c_name(a: np.ndarray) -> str:
    """The C++ name torch's messages give a dtype (`float`, `long int`...)."""
    return _C_NAMES.get(a.dtype.name, a.dtype.name)


def _lift(a: np.ndarray) -> np.ndarray:
    """0-dim arrays act as 1-element vectors in the dim-wise ops, as in torch."""
    return a.reshape(1) if a.ndim == 0 else a


def _bounds(index: np.ndarray, size: int, dim: int, exc: type = RuntimeError, negative: bool = False) -> None:
    if index.size:
        low = -size if negative else 0
        bad = (index < low) | (index >= size)
        if bad.any():
            raise exc(f"index {index[bad].flat[0]} is out of bounds for dimension {dim} with size {size}")


def _coords(index: np.ndarray, dim: int) -> tuple:
    """Positions (as an advanced-index tuple) that `index` names along `dim`, the others running."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


# --- gather -------------------------------------------------------------------------------
def _gather(self, dim, index, sparse_grad=False):
    if index.dtype != np.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    a, idx = _lift(self), _lift(index)
    d = _wrap(dim, a.ndim)
    if idx.ndim != a.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(a.ndim):
        if k != d and idx.shape[k] > a.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {_shape_str(index.shape)} to be "
                               f"no larger than self {_shape_str(self.shape)} apart from dimension {d}")
    _bounds(idx, a.shape[d], d)
    return a[_coords(idx, d)].reshape(index.shape)


def _gather_grad(grad, self_shape, dim, index):
    return dispatch(SCATTER_ADD, (_zeros(self_shape, grad._data.dtype), dim, index, grad))


GATHER = defop("gather", _gather, node="GatherBackward0", tensors=("self", "index"),
               grads={"self": _gather_grad},
               samples=lambda: iter([Sample(arr(3, 4), 0, np.array([[0, 1, 2, 0], [2, 2, 1, 0]])),
                                     Sample(arr(3, 4), 1, np.array([[3], [0], [0]])),
                                     Sample(arr(3, 4), -1, np.array([[0, 0, 1]])),
                                     Sample(arr(), 0, np.array(0)), Sample(arr(3, 4), 0, np.zeros((0, 4), np.int64))]),
               jvps={"self": "linear"})


@public("take_along_dim")
def take_along_dim(input: Any, indices: Any, dim: Any = None) -> Any:
    """Values of input at `indices` along dim (indices broadcast against input), or of its flattening."""
    if dim is None:
        return dispatch(GATHER, (input.reshape(-1), 0, indices.reshape(-1), False))
    d = _wrap(dim, input.ndim)
    shape_i = list(input.shape)
    shape_x = list(indices.shape)
    shape_i[d] = shape_x[d] = 1
    from .comparison import broadcast_shapes_or_raise
    b = list(broadcast_shapes_or_raise(tuple(shape_i), tuple(shape_x)))
    bi = b.copy(); bi[d] = indices.shape[d]
    bx = b.copy(); bx[d] = input.shape[d]
    if tuple(bx) != tuple(input.shape):
        input = input.expand(bx)
    if tuple(bi) != tuple(indices.shape):
        indices = indices.expand(bi)
    return dispatch(GATHER, (input, d, indices, False))


# --- scatter / scatter_add ---------------------------------------------------------------------
def _scatter_checks(self: np.ndarray, dim: int, index: np.ndarray, src: Any, name: str) -> tuple:
    if index.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    is_src = isinstance(src, np.ndarray)
    if is_src and src.dtype != self.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    a, idx = _lift(self), _lift(index)
    d = _wrap(dim, a.ndim)
    if idx.ndim != a.ndim and index.size:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    s = _lift(src) if is_src else None
    too_big = any(k != d and idx.shape[k] > a.shape[k] for k in range(idx.ndim))
    if is_src and (too_big or any(idx.shape[k] > s.shape[k] for k in range(idx.ndim))):
        raise RuntimeError(f"Expected index {_shape_str(index.shape)} to be no larger than self "
                           f"{_shape_str(self.shape)} apart from dimension {d} and to be no larger size than src "
                           f"{_shape_str(src.shape)}")
    if too_big:
        raise RuntimeError(f"Expected index {_shape_str(index.shape)} to be no larger than self "
                           f"{_shape_str(self.shape)} apart from dimension {d}")
    _bounds(idx, a.shape[d], d)
    values = s[tuple(slice(0, n) for n in idx.shape)] if is_src else src
    return a.copy(), d, idx, values


def _scatter(self, dim, index, src, reduce=None):
    out, d, idx, values = _scatter_checks(self, dim, index, src, "scatter")
    if idx.size:
        coords = _coords(idx, d)
        if reduce is None:
            out[coords] = values
        elif reduce == "add":
            np.add.at(out, coords, values)
        elif reduce == "multiply":
            np.multiply.at(out, coords, values)
        else:
            raise RuntimeError("reduce argument must be either add or multiply.")
    return out.reshape(self.shape)


def _scatter_value(self, dim, index, value, reduce=None):
    return _scatter(self, dim, index, value, reduce)


def _scatter_self_grad(grad, dim, index):
    return dispatch(SCATTER_VALUE, (grad, dim, index, 0.0, None))


def _gather_src(grad, dim, index):
    return dispatch(GATHER, (grad, dim, index, False))


def _scatter_samples(value: bool, reduce: Any = None):
    def samples():
        idx = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])
        yield Sample(arr(3, 4), 0, idx, 1.5 if value else arr(2, 4), *([reduce] if reduce else []))
        yield Sample(arr(3, 4), 1, np.array([[3], [0], [1]]), -1.0 if value else arr(3, 1), *([reduce] if reduce else []))
        yield Sample(arr(), 0, np.array(0), 2.0 if value else arr(), *([reduce] if reduce else []))
        yield Sample(arr(3, 4), 0, np.zeros((0, 4), np.int64), 1.0 if value else arr(0, 4), *([reduce] if reduce else []))
    return samples


SCATTER = defop("scatter.src", _scatter, node="ScatterBackward0", function=False, method=False,
                tensors=("self", "index", "src"), inputs=("self", "src"),
                grads={"self": _scatter_self_grad, "src": _gather_src},
                samples=_scatter_samples(False), nondeterministic_samples=True)
SCATTER_VALUE = defop("scatter.value", _scatter_value, node="ScatterBackward1", function=False, method=False,
                      tensors=("self", "index"), inputs=("self",), grads={"self": _scatter_self_grad},
                      samples=_scatter_samples(True))


def _not_implemented(grad: Any) -> Any:
    raise RuntimeError("derivative for aten::scatter is not implemented")


# torch records a NotImplemented node for scatter with `reduce`: its backward raises.
SCATTER_REDUCE = defop("scatter.reduce", _scatter, node="NotImplemented", function=False, method=False,
                       tensors=("self", "index", "src"), inputs=("self", "src"),
                       grads={"self": _not_implemented, "src": _not_implemented},
                       samples=_scatter_samples(False, "add"))
SCATTER_VALUE_REDUCE = defop("scatter.value_reduce", _scatter_value, node="NotImplemented", function=False,
                             method=False, tensors=("self", "index"), inputs=("self",),
                             grads={"self": _not_implemented}, samples=_scatter_samples(True, "multiply"))

_REDUCE_WARNING = ("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in a future "
                   "PyTorch release. Use torch.scatter_reduce instead for more reduction options. (Triggered "
                   "internally at /pytorch/build/aten/src/ATen/native/TensorAdvancedIndexing.cpp:225.)")


def _scatter_op(src: Any, value: Any, reduce: Any) -> tuple:
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    v = src if src is not None else value
    is_tensor = isinstance(v, R.Tensor)
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if is_tensor:
            warnings.warn(_REDUCE_WARNING, UserWarning, stacklevel=3)
        return (SCATTER_REDUCE if is_tensor else SCATTER_VALUE_REDUCE), v
    return (SCATTER if is_tensor else SCATTER_VALUE), v


@public("scatter")
def scatter(input: Any, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: Any = None) -> Any:
    """A copy of input with src's values (or a scalar) written at `index` along dim."""
    op, v = _scatter_op(src, value, reduce)
    return dispatch(op, (input, dim, index, v, reduce))


@public("scatter_", function=False)
def scatter_(self: Any, dim: int, index: Any, src: Any = None, value: Any = None, *, reduce: Any = None) -> Any:
    """Write src's values (or a scalar) at `index` along dim, in place."""
    op, v = _scatter_op(src, value, reduce)
    return apply_inplace(op, (self, dim, index, v, reduce))


def _scatter_add(self, dim, index, src):
    out, d, idx, values = _scatter_checks(self, dim, index, src, "scatter_add")
    if idx.size:
        np.add.at(out, _coords(idx, d), values)
    return out.reshape(self.shape)


SCATTER_ADD = defop("scatter_add", _scatter_add, node="ScatterAddBackward0", tensors=("self", "index", "src"),
                    inputs=("self", "src"), inplace="scatter_add_",
                    grads={"self": lambda grad: grad, "src": _gather_src},
                    samples=lambda: iter([Sample(arr(3, 4), 0, np.array([[0, 1, 2, 0], [0, 0, 1, 1]]), arr(2, 4)),
                                          Sample(arr(3, 4), -1, np.array([[3, 3], [0, 1]]), arr(2, 2)),
                                          Sample(arr(), 0, np.array(0), arr())]))


# --- index_select / index_add / index_fill ------------------------------------------------------
def _vector_index(index: np.ndarray, name: str) -> np.ndarray:
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return index.reshape(-1)


def _index_select(self, dim, index):
    idx = _vector_index(index, "index_select")
    if self.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        _wrap(dim, 0)
        if idx[0] != 0:
            raise IndexError("index out of range in self")
        return self.copy()
    d = _wrap(dim, self.ndim)
    n = self.shape[d]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    return np.take(self, idx, axis=d)


INDEX_SELECT = defop("index_select", _index_select, node="IndexSelectBackward0", tensors=("self", "index"),
                     grads={"self": lambda grad, self_shape, dim, index:
                            dispatch(INDEX_ADD, (_zeros(self_shape, grad._data.dtype), dim, index, grad, 1))},
                     samples=lambda: iter([Sample(arr(3, 4), 0, np.array([0, 2, 2])),
                                           Sample(arr(3, 4), 1, np.array([3])),
                                           Sample(arr(3, 4), -1, np.zeros(0, np.int64)),
                                           Sample(arr(), 0, np.array([0]))]),
                     jvps={"self": "linear"})


def _index_add(self, dim, index, source, alpha=1):
    idx = _vector_index(index, "index_add_")
    a = _lift(self)
    d = _wrap(dim, a.ndim)
    src = _lift(source)
    if idx.size != src.shape[d if src.ndim > d else 0]:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                           f"({src.shape[d] if src.ndim > d else 1}), for dim: {d}")
    _bounds(idx, a.shape[d], d, negative=False)
    out = a.copy()
    np.add.at(out, (slice(None),) * d + (idx,), src * alpha if alpha != 1 else src)
    return out.reshape(self.shape)


def _index_add_source_grad(grad, dim, index, alpha):
    g = dispatch(INDEX_SELECT, (grad, dim, index))
    return g if alpha == 1 else g * alpha


INDEX_ADD = defop("index_add", _index_add, node="IndexAddBackward0", tensors=("self", "index", "source"),
                  inputs=("self", "source"), inplace="index_add_",
                  grads={"self": lambda grad: grad, "source": _index_add_source_grad},
                  samples=lambda: iter([Sample(arr(3, 4), 0, np.array([0, 2, 0]), arr(3, 4)),
                                        Sample(arr(3, 4), 1, np.array([1]), arr(3, 1), alpha=2.0),
                                        Sample(arr(), 0, np.array([0]), arr())]))


def _index_fill(self, dim, index, value):
    idx = _vector_index(index, "index_fill_")
    if isinstance(value, np.ndarray) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    a = _lift(self)
    d = _wrap(dim, a.ndim)
    _bounds(idx, a.shape[d], d, IndexError, negative=True)
    out = a.copy()
    out[(slice(None),) * d + (idx,)] = value
    return out.reshape(self.shape)


def _index_fill_self_grad(grad, dim, index):
    return dispatch(INDEX_FILL, (grad, dim, index, 0.0))


_index_fill_samples = lambda tensor: lambda: iter([  # noqa: E731
    Sample(arr(3, 4), 1, np.array([0, 2]), arr() if tensor else 1.5),
    Sample(arr(3, 4), 0, np.array([2]) if tensor else np.array([-1]), arr() if tensor else -2.0),
    Sample(arr(), 0, np.array([0]), arr() if tensor else 0.5)])
INDEX_FILL = defop("index_fill.int_Scalar", _index_fill, node="IndexFillBackward0", function=False, method=False,
                   tensors=("self", "index"), inputs=("self",), grads={"self": _index_fill_self_grad},
                   samples=_index_fill_samples(False))
INDEX_FILL_T = defop("index_fill.int_Tensor", _index_fill, node="IndexFillBackward1", function=False, method=False,
                     tensors=("self", "index", "value"), inputs=("self", "value"),
                     grads={"self": _index_fill_self_grad,
                            "value": lambda grad, dim, index: dispatch(INDEX_SELECT, (grad, dim, index)).sum()},
                     samples=_index_fill_samples(True))


@public("index_fill")
def index_fill(input: Any, dim: int, index: Any, value: Any) -> Any:
    """A copy of input with `value` written at the positions `index` names along dim."""
    return dispatch(INDEX_FILL_T if isinstance(value, R.Tensor) else INDEX_FILL, (input, dim, index, value))


@public("index_fill_", function=False)
def index_fill_(self: Any, dim: int, index: Any, value: Any) -> Any:
    """Write `value` at the positions `index` names along dim, in place."""
    return apply_inplace(INDEX_FILL_T if isinstance(value, R.Tensor) else INDEX_FILL, (self, dim, index, value))


# --- take -----------------------------------------------------------------------------------
def _take(self, index):
    if index.dtype != np.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_legacy(index)}")
    n = self.size
    if index.size and (index.min() < -n or index.max() >= n):
        bad = index[(index < -n) | (index >= n)].flat[0]
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return self.reshape(-1)[index]


def _take_grad(grad, self_shape, index):
    from .indexing import INDEX_PUT
    idx = index._data
    n = int(np.prod(self_shape))
    flat = dispatch(INDEX_PUT, (_zeros((n,), grad._data.dtype), (np.where(idx < 0, idx + n, idx),), grad, True))
    return flat.reshape(self_shape)


TAKE = defop("take", _take, node="TakeBackward0", tensors=("self", "index"), grads={"self": _take_grad},
             samples=lambda: iter([Sample(arr(3, 4), np.array([0, 5, 11, 5])), Sample(arr(3, 4), np.array([[-1, 2]])),
                                   Sample(arr(), np.array([0, 0])), Sample(arr(2), np.zeros(0, np.int64))]),
             jvps={"self": "linear"})


# --- masked_fill / masked_select ------------------------------------------------------------
def _masked_fill(self, mask, value):
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {_c_name(mask)}")
    if isinstance(value, np.ndarray) and value.ndim:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    from .comparison import broadcast_shapes_or_raise
    shape = broadcast_shapes_or_raise(self.shape, mask.shape)
    out = np.array(np.broadcast_to(self, shape))
    np.copyto(out, value, casting="unsafe", where=mask)
    return out


def _masked_self_grad(grad, mask):
    return dispatch(MASKED_FILL, (grad, mask, 0.0))


def _masked_value_grad(grad, mask):
    keep = R._make(np.logical_not(mask._data), False, None, 0)
    return dispatch(MASKED_FILL, (grad, keep, 0.0)).sum()


def _masked_fill_samples(tensor: bool):
    def samples():
        v = (lambda: arr()) if tensor else (lambda: 1.5)
        yield Sample(arr(3, 4), arr(3, 4) > 0, v())
        yield Sample(arr(3, 4), arr(4) > 0, v())
        yield Sample(arr(), np.array(True), v())
        yield Sample(arr(0, 3), np.zeros((0, 3), bool), v())
        yield Sample(arr(3), arr(2, 3) > 0, v())
    return samples


MASKED_FILL = defop("masked_fill.Scalar", _masked_fill, node="MaskedFillBackward0", function=False, method=False,
                    tensors=("self", "mask"), inputs=("self",), grads={"self": _masked_self_grad},
                    samples=_masked_fill_samples(False),
                    jvps={"self": "pointwise"})
MASKED_FILL_T = defop("masked_fill.Tensor", _masked_fill, node="MaskedFillBackward1", function=False, method=False,
                      tensors=("self", "mask", "value"), inputs=("self", "value"),
                      grads={"self": _masked_self_grad, "value": _masked_value_grad},
                      samples=_masked_fill_samples(True))


@public("masked_fill")
def masked_fill(input: Any, mask: Any, value: Any) -> Any:
    """A copy of input with `value` where mask is True (mask broadcasts)."""
    return dispatch(MASKED_FILL_T if isinstance(value, R.Tensor) else MASKED_FILL, (input, mask, value))


@public("masked_fill_", function=False)
def masked_fill_(self: Any, mask: Any, value: Any) -> Any:
    """Write `value` where mask is True, in place."""
    return apply_inplace(MASKED_FILL_T if isinstance(value, R.Tensor) else MASKED_FILL, (self, mask, value))


def _masked_select(self, mask):
    if mask.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    from .comparison import broadcast_shapes_or_raise
    shape = broadcast_shapes_or_raise(self.shape, mask.shape)
    return np.broadcast_to(self, shape)[np.broadcast_to(mask, shape)]


def _masked_select_grad(grad, self_shape, mask):
    from .indexing import INDEX_PUT
    shape = np.broadcast_shapes(self_shape, mask._data.shape)
    if shape == ():
        return grad.reshape(()) if mask._data else _zeros((), grad._data.dtype)
    where = np.nonzero(np.broadcast_to(mask._data, shape))
    return dispatch(INDEX_PUT, (_zeros(shape, grad._data.dtype), where, grad, False))


MASKED_SELECT = defop("masked_select", _masked_select, node="MaskedSelectBackward0", tensors=("self", "mask"),
                      inputs=("self",), grads={"self": _masked_select_grad},
                      samples=lambda: iter([Sample(arr(3, 4), arr(3, 4) > 0), Sample(arr(3, 4), arr(4) > 0),
                                            Sample(arr(4), arr(2, 4) > 0), Sample(arr(), np.array(True)),
                                            Sample(arr(0, 2), np.zeros(2, bool))]),
                      jvps={"self": "linear"})
