"""Matrix products: mm, mv, dot, bmm, addmm, outer, and matmul composed from them as torch does.

Note [matmul's graph]
torch.matmul is a composite: 1-d @ 1-d is dot, 2-d @ 2-d is mm, 1-d @ 2-d is mm of the
unsqueezed vector followed by a squeeze (SqueezeBackward4), 2-d @ 1-d is mv, and higher ranks
fold the batch into mm or bmm and reshape the result (UnsafeViewBackward0). Building it the
same way gives the same grad_fn names as torch.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from . import _registry as R
from ._registry import defop, dispatch, public
from ._samples import Sample, arr
from .comparison import broadcast_shapes_or_raise
from .shape import _expand


def _dt(a: np.ndarray) -> D.dtype:
    return D.from_numpy(a.dtype)


# the C++ spelling torch's messages use for each dtype
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
              "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _check_same_dtype(a: np.ndarray, b: np.ndarray) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_CPP_NAMES[_dt(a).name]} != "
                           f"{_CPP_NAMES[_dt(b).name]}")


def _mm(self, mat2):
    if self.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if self.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({self.shape[0]}x{self.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    _check_same_dtype(self, mat2)
    return np.matmul(self, mat2)


def mat2_grad(grad: Any, mat1: Any, transposed: bool) -> Any:
    """mat1.t() @ grad, laid out column-major when mat2 was (see Note [Gradient layout])."""
    if transposed:
        return grad.t().mm(mat1).t()
    return mat1.t().mm(grad)


MM = defop("mm", _mm, node="MmBackward0",
           grads={"self": lambda grad, mat2: grad.mm(mat2.t()),
                  "mat2": lambda grad, self, mat2_transposed: mat2_grad(grad, self, mat2_transposed)},
           samples=lambda: iter([Sample(arr(3, 4), arr(4, 5)), Sample(arr(1, 3), arr(3, 1)), Sample(arr(0, 3), arr(3, 2)),
                                 Sample(arr(2, 0), arr(0, 3))]),
           jvps={"self": "linear", "mat2": "linear"})


def _mv(self, vec):
    if self.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {self.ndim}, {vec.ndim}")
    if self.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({self.shape[0]}), mat ({self.shape[0]}x{self.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    _check_same_dtype(self, vec)
    return np.matmul(self, vec)


MV = defop("mv", _mv, node="MvBackward0",
           grads={"self": lambda grad, vec: grad.unsqueeze(1).mm(vec.unsqueeze(0)),
                  "vec": lambda grad, self: self.t().mv(grad)},
           samples=lambda: iter([Sample(arr(3, 4), arr(4)), Sample(arr(0, 2), arr(2))]),
           jvps={"self": "linear", "vec": "linear"})


def _dot(self, tensor):
    if self.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {self.ndim}D and {tensor.ndim}D tensors")
    if self.shape[0] != tensor.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{self.shape[0]}] and src [{tensor.shape[0]}] "
                           f"to have the same number of elements, but got {self.shape[0]} and {tensor.shape[0]} "
                           "elements respectively")
    if self.dtype != tensor.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {_dt(self)._legacy} and "
                           f"{_dt(tensor)._legacy}")
    return np.dot(self, tensor)


DOT = defop("dot", _dot, node="DotBackward0",
            grads={"self": lambda grad, tensor: grad * tensor,
                   "tensor": lambda grad, self: grad * self},
            samples=lambda: iter([Sample(arr(4), arr(4)), Sample(arr(0), arr(0))]),
            jvps={"self": "linear", "tensor": "linear"})


def _bmm(self, mat2):
    if self.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if mat2.shape[:2] != (self.shape[0], self.shape[2]):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{self.shape[0]}, {self.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _check_same_dtype(self, mat2)
    b, n, k = self.shape
    m = mat2.shape[2]
    if b > 1 and n * k * m:
        # Note [Broadcast batches]: vmap(grad(f)) gives each batch element a broadcast (stride 0)
        # copy of a weight; one GEMM then does the whole batch, and k == 1 is an outer product
        if k == 1:
            return self * mat2
        if mat2.strides[0] == 0:
            return (self.reshape(b * n, k) @ mat2[0]).reshape(b, n, m)
    return np.matmul(self, mat2)


BMM = defop("bmm", _bmm, node="BmmBackward0",
            grads={"self": lambda grad, mat2: grad.bmm(mat2.transpose(1, 2)),
                   "mat2": lambda grad, self: self.transpose(1, 2).bmm(grad)},
            samples=lambda: iter([Sample(arr(2, 3, 4), arr(2, 4, 5)), Sample(arr(0, 3, 4), arr(0, 4, 2))]),
            jvps={"self": "linear", "mat2": "linear"})


def _addmm(self, mat1, mat2, beta=1, alpha=1):
    # dtypes are checked before shapes, self against mat2 first (nn.Linear's message for a double input)
    for name, a in (("self", self), ("mat1", mat1)):
        if a.dtype != mat2.dtype:
            raise RuntimeError(f"{name} and mat2 must have the same dtype, but got {_dt(a)._legacy} and "
                               f"{_dt(mat2)._legacy}")
    half = mat2.dtype == np.float16  # half precision: accumulated in float32 and rounded once, as torch
    prod = _mm(mat1.astype(np.float32), mat2.astype(np.float32)) if half else _mm(mat1, mat2)
    _expand(self, prod.shape)  # self is expanded to the product's shape (torch's message when it cannot be)
    out = prod if alpha == 1 else prod * alpha
    if beta == 0:
        out = np.broadcast_to(out, np.broadcast_shapes(self.shape, prod.shape)).copy()
    else:
        inp = self.astype(np.float32) if half else self
        out = out + (inp if beta == 1 else inp * beta)
    return out.astype(np.float16) if half else out


def _scale(g: Any, k: Any) -> Any:
    return g if k == 1 else g * k


ADDMM = defop("addmm", _addmm, node="AddmmBackward0",
              grads={"self": lambda grad, beta: _scale(grad, beta),
                     "mat1": lambda grad, mat2, alpha: _scale(grad.mm(mat2.t()), alpha),
                     "mat2": lambda grad, mat1, alpha, mat2_transposed: _scale(mat2_grad(grad, mat1, mat2_transposed),
                                                                               alpha)},
              samples=lambda: iter([Sample(arr(3, 5), arr(3, 4), arr(4, 5)), Sample(arr(5), arr(3, 4), arr(4, 5)),
                                    Sample(arr(3, 5), arr(3, 4), arr(4, 5), beta=0.5, alpha=2.0)]),
              jvps={"self": lambda self_t, beta: self_t if beta == 1 else self_t * beta,
                    "mat1": lambda mat1_t, mat2, alpha: mat1_t.mm(mat2) if alpha == 1 else mat1_t.mm(mat2) * alpha,
                    "mat2": lambda mat2_t, mat1, alpha: mat1.mm(mat2_t) if alpha == 1 else mat1.mm(mat2_t) * alpha})


def _baddbmm(self, batch1, batch2, beta=1, alpha=1):
    prod = _bmm(batch1, batch2)
    out = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return np.broadcast_to(out, np.broadcast_shapes(self.shape, prod.shape)).copy()
    return out + (self if beta == 1 else self * beta)


BADDBMM = defop("baddbmm", _baddbmm, node="BaddbmmBackward0",
                grads={"self": lambda grad, beta: _scale(grad, beta),
                       "batch1": lambda grad, batch2, alpha: _scale(grad.bmm(batch2.transpose(1, 2)), alpha),
                       "batch2": lambda grad, batch1, alpha: _scale(batch1.transpose(1, 2).bmm(grad), alpha)},
                samples=lambda: iter([Sample(arr(2, 3, 5), arr(2, 3, 4), arr(2, 4, 5)),
                                      Sample(arr(5), arr(2, 3, 4), arr(2, 4, 5), beta=0.5, alpha=2.0)]),
                jvps={"self": lambda self_t, beta: self_t if beta == 1 else self_t * beta,
                      "batch1": lambda batch1_t, batch2, alpha: batch1_t.bmm(batch2) if alpha == 1 else batch1_t.bmm(batch2) * alpha,
                      "batch2": lambda batch2_t, batch1, alpha: batch1.bmm(batch2_t) if alpha == 1 else batch1.bmm(batch2_t) * alpha})


@public("outer")
def outer(input: Any, vec2: Any) -> Any:
    """Outer product of two vectors (torch builds it as input.view(-1, 1) * vec2)."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return input.view(-1, 1) * vec2


@public("ger")
def ger(input: Any, vec2: Any) -> Any:
    """Alias of outer."""
    return outer(input, vec2)


# --- matmul (see Note [matmul's graph]) --------------------------------------------------
@public("matmul")
def matmul(input: Any, other: Any) -> Any:
    """Matrix product with torch's rules for 1-d operands and batch broadcasting."""
    a, b = input, other
    da, db = a._data.ndim, b._data.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dispatch(DOT, (a, b))
    if da == 2 and db == 1:
        return dispatch(MV, (a, b))
    if da == 1 and db == 2:
        out = dispatch(MM, (a.unsqueeze(0), b))
        return dispatch(R.OPS["_squeeze_matmul"], (out, 0))
    if da == 2 and db == 2:
        return dispatch(MM, (a, b))
    if da >= 3 and db <= 2:
        # fold a's batch dims into the rows of one mm
        rows = a._data.shape[:-1]
        folded = a.reshape(-1, a._data.shape[-1])
        if db == 1:
            out = dispatch(MV, (folded, b))
            return dispatch(R.OPS["_unsafe_view"], (out, rows))
        out = dispatch(MM, (folded, b))
        return dispatch(R.OPS["_unsafe_view"], (out, rows + (b._data.shape[-1],)))
    # batched: broadcast the batch dims, then bmm
    a2 = a.unsqueeze(0) if da == 1 else a
    b2 = b.unsqueeze(-1) if db == 1 else b
    sa, sb = a2._data.shape, b2._data.shape
    batch = broadcast_shapes_or_raise(sa[:-2], sb[:-2])
    n, k, m = sa[-2], sa[-1], sb[-1]
    if sb[-2] != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{int(np.prod(batch))}, {k}] but got: [{int(np.prod(batch))}, {sb[-2]}].")
    bsz = int(np.prod(batch)) if batch else 1
    ea = a2.expand(batch + (n, k)).reshape(bsz, n, k)
    eb = b2.expand(batch + (k, m)).reshape(bsz, k, m)
    out = dispatch(BMM, (ea, eb))
    shape = batch + ((n,) if da > 1 else ()) + ((m,) if db > 1 else ())
    return dispatch(R.OPS["_unsafe_view"], (out, shape))
