"""`torch.linalg`: norms (vector_norm, matrix_norm, norm).

Matrix norms that need singular values (ord 2, -2, 'nuc') are not available yet and raise
NotImplementedError.
"""
from __future__ import annotations

import math
from typing import Any

from .ops import _registry as R
from .ops.extra_math import linalg_cross as cross
from .ops.norm import vector_norm

__all__ = ["vector_norm", "matrix_norm", "norm", "cross"]

_SVD_ORDS = (2, -2, "nuc")


def _needs_2d(A: Any) -> None:
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")


def matrix_norm(A: Any, ord: Any = "fro", dim: Any = (-2, -1), keepdim: bool = False, *, dtype: Any = None,
                out: Any = None) -> Any:
    """Frobenius, max-abs-column-sum (1), max-abs-row-sum (inf) norms and their minima (-1, -inf) over dim."""
    if out is not None:
        raise NotImplementedError("torch.linalg.matrix_norm(out=...) is not supported by tapegrad")
    _needs_2d(A)
    if ord == "fro":
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if ord in _SVD_ORDS and not (isinstance(ord, float) and math.isnan(ord)):
        raise NotImplementedError(f"torch.linalg.matrix_norm(ord={ord!r}) needs a singular value decomposition, "
                                  "which tapegrad does not provide yet")
    if isinstance(ord, str) or ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (d % A.dim() for d in dim)
    if abs(ord) == 1:  # column sums (over d0), then the extreme over d1
        summed, over = d0, d1
    else:  # row sums (over d1), then the extreme over d0
        summed, over = d1, d0
    sums = R.FUNCTIONS["sum"](A.abs(), summed, keepdim=keepdim)
    if not keepdim and summed < over:
        over -= 1
    return R.FUNCTIONS["amax" if ord > 0 else "amin"](sums, over, keepdim=keepdim)


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *, out: Any = None,
         dtype: Any = None) -> Any:
    """A vector norm (1-D input or one dim) or a matrix norm (2-D input or two dims)."""
    if out is not None:
        raise NotImplementedError("torch.linalg.norm(out=...) is not supported by tapegrad")
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) != 2:
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.dim()}D.")
    if A.dim() == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if isinstance(ord, str):
        _needs_2d(A)
    return vector_norm(A, ord, None, keepdim, dtype=dtype)
