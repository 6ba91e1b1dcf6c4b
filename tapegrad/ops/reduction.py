"""Reductions: sum, mean (the rest of the family lives beside them)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as D
from .._size import wrap_dim
from . import _registry as R
from ._registry import defop, dispatch, public
from ._samples import Sample, arr


def normalize_dims(dim: Any, ndim: int) -> tuple:
    """dim argument (None, int, or sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(ndim))
        axes = tuple(sorted(wrap_dim(d, ndim) for d in dim))
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
        return axes
    return (wrap_dim(dim, ndim),)


def _sum_dtype(a: np.ndarray, dtype: Any) -> Any:
    if dtype is not None:
        return D.to_numpy(dtype)
    if a.dtype.kind in "biu":
        return np.int64
    return a.dtype


def _sum(self, dim=None, keepdim=False, dtype=None):
    axes = normalize_dims(dim, self.ndim) if self.ndim else None
    return np.add.reduce(self, axis=axes, keepdims=keepdim, dtype=_sum_dtype(self, dtype))


def expand_reduced(grad: Any, shape: tuple, dim: Any, keepdim: bool) -> Any:
    """Broadcast a reduction's gradient back to the input shape."""
    if not keepdim and len(shape):
        for axis in normalize_dims(dim, len(shape)):
            grad = grad.unsqueeze(axis)
    return _expand_to(grad, shape)


def _sum_reduce_samples():
    yield Sample(arr(3, 4))
    yield Sample(arr())
    yield Sample(arr(0, 3))
    yield Sample(arr(2, 3, 4), 1)
    yield Sample(arr(2, 3, 4), (0, 2), True)
    yield Sample(arr(3, 4), -1, True)
    yield Sample(arr(2, 0), 1)


SUM = defop("sum.dim_IntList", _sum, node="SumBackward1", function=False, method=False,
            grads={"self": lambda grad, self_shape, dim, keepdim: expand_reduced(grad, self_shape, dim, keepdim)},
            samples=_sum_reduce_samples,
            jvps={"self": "linear"})
def _expand_to(grad: Any, shape: tuple) -> Any:
    return dispatch(R.OPS["expand"], (grad, shape))


SUM_ALL = defop("sum.all", lambda self, dtype=None: np.add.reduce(self, axis=None, dtype=_sum_dtype(self, dtype)),
                node="SumBackward0", function=False, method=False,
                grads={"self": lambda grad, self_shape: _expand_to(grad, self_shape)},
                samples=lambda: iter([Sample(arr(3, 4)), Sample(arr()), Sample(arr(0, 2))]),
                jvps={"self": "linear"})


@public("sum")
def sum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    """torch.sum over all elements, or over `dim`."""
    if dim is None and not keepdim:
        return dispatch(SUM_ALL, (input, dtype))
    return dispatch(SUM, (input, dim, keepdim, dtype))


def _mean_check(a: np.ndarray, dtype: Any) -> Any:
    if dtype is not None:
        return D.to_numpy(dtype)
    if a.dtype.kind not in "fc":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {D.from_numpy(a.dtype)._legacy}")
    return a.dtype


def _mean(self, dim=None, keepdim=False, dtype=None):
    out_dtype = _mean_check(self, dtype)
    axes = normalize_dims(dim, self.ndim) if self.ndim else None
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.mean(self, axis=axes, keepdims=keepdim, dtype=out_dtype)


def _count(shape: tuple, dim: Any) -> int:
    n = 1
    for axis in normalize_dims(dim, len(shape)):
        n *= shape[axis]
    return n


def _mean_dim_grad(grad: Any, self_shape: tuple, dim: Any, keepdim: bool) -> Any:
    # Divide the small reduced gradient, then expand (no full-size division). When a reduced dim
    # is empty the input has no elements, so the gradient is empty and there is nothing to divide
    # (dividing by 0 would put 0 * nan into double backward).
    n = _count(self_shape, dim)
    return expand_reduced(grad / n if n else grad, self_shape, dim, keepdim)


MEAN = defop("mean.dim", _mean, node="MeanBackward1", function=False, method=False,
             grads={"self": _mean_dim_grad},
             samples=_sum_reduce_samples,
             jvps={"self": "linear"})


def _mean_all(self, dtype=None):
    out_dtype = _mean_check(self, dtype)
    if not self.size:
        return np.array(np.nan, out_dtype)
    if out_dtype == np.float16:  # accumulate half precision in float32, as torch does
        return (np.add.reduce(self, axis=None, dtype=np.float32) / self.size).astype(np.float16)
    return np.add.reduce(self, axis=None, dtype=out_dtype) / self.size


MEAN_ALL = defop("mean.all", _mean_all, node="MeanBackward0", function=False, method=False,
                 grads={"self": lambda grad, self_shape: _expand_to(grad / max(math.prod(self_shape), 1), self_shape)},
                 samples=lambda: iter([Sample(arr(3, 4)), Sample(arr())]),
                 jvps={"self": "linear"})


@public("mean")
def mean(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    """torch.mean over all elements, or over `dim`."""
    if dim is None and not keepdim:
        return dispatch(MEAN_ALL, (input, dtype))
    return dispatch(MEAN, (input, dim, keepdim, dtype))
