"""Vector norms (`linalg_vector_norm`, behind torch.norm, Tensor.norm and torch.linalg's norms)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as D
from ._registry import defop, dispatch, public
from ._samples import Sample, arr, away
from .comparison import where
from .reduction import expand_reduced, normalize_dims


def _ord_str(ord: float) -> str:
    if math.isinf(ord):
        return "inf" if ord > 0 else "-inf"
    return str(int(ord)) if float(ord).is_integer() else repr(float(ord))


def _check_dtypes(self: np.ndarray, dtype: Any) -> np.ndarray:
    legacy = D.from_numpy(self.dtype)._legacy
    if self.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {legacy}")
    if dtype is None:
        return self
    target = D.to_numpy(dtype)
    if target.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got {dtype._legacy}")
    if np.dtype(target).itemsize < self.dtype.itemsize and target.kind == self.dtype.kind:
        raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({legacy}) should be convertible without "
                           f"narrowing to the specified dtype ({dtype._legacy})")
    return self.astype(target)


def _vector_norm(self, ord=2, dim=None, keepdim=False, dtype=None):
    if isinstance(ord, str):
        raise TypeError("linalg_vector_norm(): argument 'ord' (position 2) must be Number, not str")
    a = _check_dtypes(self, dtype)
    whole = dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0)
    axes = normalize_dims(dim, a.ndim) if a.ndim else ()
    if a.size == 0 and (ord < 0 or math.isinf(ord)):
        if whole:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_str(ord)} norm on an empty tensor "
                               "because the operation does not have an identity")
        for axis in axes:
            if a.shape[axis] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_str(ord)} norm on the dimension "
                                   f"{axis}because this dimension is empty and the operation does not have an identity")
    x = np.abs(a)
    red = dict(axis=axes if a.ndim else None, keepdims=keepdim and a.ndim > 0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if ord == math.inf:
            out = np.max(x, **red)
        elif ord == -math.inf:
            out = np.min(x, **red)
        elif ord == 0:
            out = np.sum(x != 0, **red).astype(x.dtype)
        elif ord == 1:
            out = np.sum(x, **red)
        elif ord == 2:
            out = np.sqrt(np.sum(x * x, **red))
        else:
            out = np.sum(x ** ord, **red) ** (1.0 / ord)
    return np.asarray(out, dtype=x.dtype)


def _vector_norm_backward(grad, self, result, ord, dim, keepdim):
    if ord == 0:
        return None  # torch leaves the gradient undefined: the count of non-zeros is piecewise constant
    shape = tuple(self.shape)
    red_dim = None if not shape else dim
    g = expand_reduced(grad, shape, red_dim, keepdim)
    norm = expand_reduced(result, shape, red_dim, keepdim)
    if ord == 1:
        return self.sign() * g
    zero_norm = norm == 0
    safe_norm = where(zero_norm, 1.0, norm)  # no division by zero, even in double backward
    if ord == 2:
        return self * where(zero_norm, 0.0, g / safe_norm)
    if math.isinf(ord):
        mask = self.abs() == norm
        whole = red_dim is None or (isinstance(red_dim, (list, tuple)) and len(red_dim) == 0)
        count = mask.sum() if whole or not shape else mask.sum(normalize_dims(red_dim, len(shape)), keepdim=True)
        return self.sign() * ((g / count) * mask)
    if ord < 1:
        zero = self == 0
        scaled = self.sign() * where(zero, 0.0, where(zero, 1.0, self.abs()).pow(ord - 1))
        return scaled * g * norm.pow(1 - ord)
    scaled = self.sign() * self.abs().pow(ord - 1) if ord < 2 else self * self.abs().pow(ord - 2)
    return scaled * where(zero_norm, 0.0, g / safe_norm.pow(ord - 1))


def _norm_samples():
    yield Sample(arr(3, 4))
    yield Sample(arr(3, 4), 1)
    yield Sample(arr(3, 4), 2, 1)
    yield Sample(away(3, 4), float("inf"), 0, True)
    yield Sample(away(3, 4), -float("inf"))
    yield Sample(away(2, 3, 4), 3.0, (0, 2))
    yield Sample(away(5), 0.5)
    yield Sample(away(5), -1.5)
    yield Sample(arr(), 2)
    yield Sample(arr(0, 3), 2, 0)
    yield Sample(arr(3, 4), 1.5, -1, True)


VECTOR_NORM = defop("linalg_vector_norm", _vector_norm, node="LinalgVectorNormBackward0", function=False,
                    method=False, grads={"self": _vector_norm_backward}, samples=_norm_samples)


def _norm_dim_samples():
    yield Sample(arr(3, 4), 2.0, [1])
    yield Sample(away(3, 4), 1.0, [0], True)
    yield Sample(away(2, 3, 4), 3.0, [-1])
    yield Sample(away(3, 4), float("inf"), [1])
    yield Sample(arr(0, 3), 2.0, [1])


# torch's C++ code (F.pairwise_distance) calls the older norm(p, dim) overload, recorded as
# NormBackward1; the Python torch.norm goes through linalg_vector_norm.
NORM_DIM = defop("norm.ScalarOpt_dim", lambda self, p, dim, keepdim=False: _vector_norm(
                     self, 2 if p is None else p, dim, keepdim),
                 node="NormBackward1", function=False, method=False,
                 grads={"self": lambda grad, self, result, p, dim, keepdim: _vector_norm_backward(
                     grad, self, result, 2 if p is None else p, dim, keepdim)},
                 samples=_norm_dim_samples)


def vector_norm(x: Any, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    """torch.linalg.vector_norm: (sum |x|^ord)^(1/ord) over dim (all elements by default)."""
    return dispatch(VECTOR_NORM, (x, ord, dim, keepdim, dtype))


@public("norm")
def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, out: Any = None,
         dtype: Any = None) -> Any:
    """torch.norm: the vector p-norm over dim; 'fro' is the 2-norm."""
    if out is not None:
        raise NotImplementedError("torch.norm(out=...) is not supported by tapegrad")
    if p is None or p == "fro":
        return vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if isinstance(p, str):
        if p == "nuc":
            raise NotImplementedError("torch.norm(p='nuc') needs a singular value decomposition, which tapegrad "
                                      "does not provide yet")
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)
