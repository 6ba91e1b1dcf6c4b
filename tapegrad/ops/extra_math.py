"""Differentiable math users reach for beyond the core families: addcmul/addcdiv, trace, rot90,
cross, cdist, nansum, deg2rad/rad2deg, cummax/cummin, logcumsumexp, aminmax, block_diag, renorm
(entries with torch's grad_fn names). Composites of existing ops are in composites.py.
"""
from __future__ import annotations

import builtins
import math
from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from .. import return_types
from . import _registry as R
from ._registry import FUNCTIONS, METHODS, defop, dispatch, public
from ._inplace import make_inplace
from ._samples import Sample, arr, away
from .reduction import expand_reduced, normalize_dims
from .reduction_extra import warn_user, wrap_dim


def _const(a: Any) -> Any:
    return R._make(np.asarray(a), False, None, 0)


def _f(name: str) -> Any:
    return FUNCTIONS[name]


def _tensors_of(args: tuple) -> list:
    """A varargs call's tensors: f(a, b) and f([a, b]) alike."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return list(args[0])
    return list(args)


# ---------------------------------------------------------------------------------------
# addcmul / addcdiv

def _addcmul(self, tensor1, tensor2, value=1):
    return self + value * tensor1 * tensor2


_ADDCDIV_INT_ERROR = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
    "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
    "for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / "
    "tensor2), for all dtypes.")


def _addcdiv(self, tensor1, tensor2, value=1):
    return self + value * tensor1 / tensor2


def _check_addcdiv(tensor1: Any, tensor2: Any) -> None:
    def integral(t: Any) -> bool:
        return isinstance(t, R.Tensor) and t._data.dtype.kind in "biu"
    if integral(tensor1) and integral(tensor2):
        raise RuntimeError(_ADDCDIV_INT_ERROR)


def _ternary_samples():
    yield Sample(arr(3, 4), arr(3, 4), arr(3, 4))
    yield Sample(arr(3, 4), arr(4), arr(3, 1), value=0.5)
    yield Sample(arr(), arr(), arr())
    yield Sample(arr(0, 3), arr(3), arr(0, 1), value=2)


def _ternary_div_samples():
    yield Sample(arr(3, 4), arr(3, 4), away(3, 4))
    yield Sample(arr(3, 4), arr(4), away(3, 1), value=0.5)
    yield Sample(arr(), arr(), away())
    yield Sample(arr(0, 3), arr(3), away(0, 1), value=2)


ADDCMUL = defop("addcmul", _addcmul, node="AddcmulBackward0", promote="common", inplace="addcmul_",
                grads={"self": lambda grad: grad,
                       "tensor1": lambda grad, tensor2, value: grad * tensor2 * value,
                       "tensor2": lambda grad, tensor1, value: grad * tensor1 * value},
                samples=_ternary_samples)
ADDCDIV = defop("addcdiv", _addcdiv, node="AddcdivBackward0", promote="common", function=False, method=False,
                grads={"self": lambda grad: grad,
                       "tensor1": lambda grad, tensor2, value: grad * value / tensor2,
                       "tensor2": lambda grad, tensor1, tensor2, value: -grad * value * tensor1 / (tensor2 * tensor2)},
                samples=_ternary_div_samples)


_addcdiv_inplace = make_inplace(ADDCDIV, "addcdiv_")


@public("addcdiv")
def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: Any = 1, out: Any = None) -> Any:
    """input + value * tensor1 / tensor2 (integer tensor1 and tensor2 are refused, as in torch)."""
    _check_addcdiv(tensor1, tensor2)
    return dispatch(ADDCDIV, (input, tensor1, tensor2, value))


@public("addcdiv_", function=False)
def addcdiv_(self: Any, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Any:
    """In place: self += value * tensor1 / tensor2."""
    _check_addcdiv(tensor1, tensor2)
    return _addcdiv_inplace(self, tensor1, tensor2, value=value)


# ---------------------------------------------------------------------------------------
# trace, rot90, deg2rad / rad2deg

def _trace(self):
    if self.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {self.ndim}")
    out = np.trace(self)
    if self.dtype.kind in "biu":
        return np.asarray(out, np.int64)
    return np.asarray(out, self.dtype)


def _trace_backward(grad, self_shape):
    eye = np.eye(self_shape[0], self_shape[1], dtype=grad._data.dtype)
    return grad * _const(eye)


TRACE = defop("trace", _trace, node="TraceBackward0", grads={"self": _trace_backward},
              samples=lambda: iter([Sample(arr(3, 3)), Sample(arr(2, 4)), Sample(arr(4, 2)), Sample(arr(0, 3))]))


def _rot90_axes(ndim: int, k: int, dims: Sequence[int]) -> tuple:
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = (wrap_dim(d, ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return d0, d1


def _rot90(self, k=1, dims=(0, 1)):
    axes = _rot90_axes(self.ndim, k, dims)
    return np.ascontiguousarray(np.rot90(self, k, axes))


ROT90 = defop("rot90", _rot90, node="Rot90Backward0",
              grads={"self": lambda grad, k, dims: dispatch(ROT90, (grad, -k, dims))},
              samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(3, 4), 2), Sample(arr(2, 3, 4), -1, [2, 0]),
                                    Sample(arr(3, 4), 0), Sample(arr(0, 2), 3)]))

_DEG = math.pi / 180.0
DEG2RAD = defop("deg2rad", lambda self: self * np.asarray(_DEG, self.dtype), node="Deg2RadBackward0",
                promote="float", inplace="deg2rad_", grads={"self": lambda grad: grad * _DEG},
                samples=lambda: iter([Sample(arr(3, 4, low=-200, high=200)), Sample(arr()), Sample(arr(0))]))
RAD2DEG = defop("rad2deg", lambda self: self * np.asarray(1 / _DEG, self.dtype), node="Rad2DegBackward0",
                promote="float", inplace="rad2deg_", grads={"self": lambda grad: grad * (1 / _DEG)},
                samples=lambda: iter([Sample(arr(3, 4)), Sample(arr()), Sample(arr(0))]))


FUNCTIONS["deg2rad_"] = METHODS["deg2rad_"]
FUNCTIONS["rad2deg_"] = METHODS["rad2deg_"]


# torch's mul with a C++ double (MulBackward1); reused if another module declared it first
MUL_SCALAR = R.OPS.get("mul.Scalar") or defop(
    "mul.Scalar", lambda self, other: np.multiply(self, other), node="MulBackward1", promote="common",
    function=False, method=False, inputs=("self",), tensors=("self", "other"),
    grads={"self": lambda grad, other: grad * other},
    samples=lambda: iter([Sample(arr(3, 2), 2.5), Sample(arr(), -4.0), Sample(arr(0, 2), 3.0)]))


# ---------------------------------------------------------------------------------------
# cross

def _linalg_cross(self, other, dim=-1):
    if self.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions.")
    axis = wrap_dim(dim, builtins.max(self.ndim, 1))
    if self.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {self.shape[axis]} and "
                           f"{other.shape[axis]}")
    a, b = np.broadcast_arrays(self, other)
    return np.cross(a, b, axis=axis)


LINALG_CROSS = defop("linalg_cross", _linalg_cross, node="LinalgCrossBackward0", promote="common",
                     function=False, method=False,
                     grads={"self": lambda grad, other, dim: dispatch(LINALG_CROSS, (other, grad, dim)),
                            "other": lambda grad, self, dim: dispatch(LINALG_CROSS, (grad, self, dim))},
                     samples=lambda: iter([Sample(arr(4, 3), arr(4, 3)), Sample(arr(3, 5), arr(3, 1), 0),
                                           Sample(arr(3), arr(3)), Sample(arr(0, 3), arr(1, 3))]))


def linalg_cross(input: Any, other: Any, *, dim: int = -1) -> Any:
    """The cross product of 3-vectors along `dim` (broadcasting the other dims)."""
    return dispatch(LINALG_CROSS, (input, other, dim))


_CROSS_WARNING = ("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                  "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree with "
                  "that of linalg.cross in a future release.")


@public("cross")
def cross(input: Any, other: Any, dim: int | None = None) -> Any:
    """torch.cross: as linalg.cross; without `dim`, the first dimension of size 3 (deprecated)."""
    if dim is None:
        warn_user(_CROSS_WARNING)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return dispatch(LINALG_CROSS, (input, other, dim))


# ---------------------------------------------------------------------------------------
# cdist

def _cdist(x1, x2, p=2.0, compute_mode=None):
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (diff != 0).sum(-1).astype(x1.dtype)
    if p == math.inf:
        return diff.max(-1, initial=0.0) if diff.shape[-1] == 0 else diff.max(-1)
    if p == 1:
        return diff.sum(-1)
    if p == 2:
        return np.sqrt((diff * diff).sum(-1))
    return (diff ** p).sum(-1) ** (1.0 / p)


def _cdist_grad(grad, x1, x2, p, result, which):
    """d cdist / d x1 (which=1) or x2 (which=2): per pair, the gradient of the p-norm of x1_i - x2_j."""
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (..., P, R, M)
    g = grad.unsqueeze(-1)
    dist = result.unsqueeze(-1)
    if p == 0:
        pair = diff * 0
    elif p == 1:
        pair = diff.sign() * g
    elif p == math.inf:
        adiff = diff.abs()
        hit = (adiff == dist) & (dist != 0)
        pair = _f("where")(hit, diff.sign() * g, diff * 0)
    else:
        nonzero = dist != 0
        safe = _f("where")(nonzero, dist, dist * 0 + 1)
        if p == 2:
            pair = diff * g / safe
        else:
            pair = diff.sign() * diff.abs().pow(p - 1) * g / safe.pow(p - 1)
        pair = _f("where")(nonzero, pair, pair * 0)
    return pair.sum(-2) if which == 1 else -pair.sum(-3)


CDIST = defop("_cdist_forward", _cdist, node="CdistBackward0", promote="common", function=False, method=False,
              grads={"x1": lambda grad, x1, x2, p, result: _cdist_grad(grad, x1, x2, p, result, 1),
                     "x2": lambda grad, x1, x2, p, result: _cdist_grad(grad, x1, x2, p, result, 2)},
              samples=lambda: iter([Sample(arr(3, 4), arr(5, 4)), Sample(arr(2, 3, 2), arr(2, 4, 2), 1.0),
                                    Sample(arr(3, 2), arr(2, 2), 3.0), Sample(arr(3, 2), arr(2, 2), math.inf),
                                    Sample(arr(0, 2), arr(2, 2)), Sample(arr(3, 2), arr(2, 2), 0.0)]))


@public("cdist", method=False)
def cdist(x1: Any, x2: Any, p: float = 2.0, compute_mode: str | None = None) -> Any:
    """Pairwise p-norm distances between the rows of x1 and x2 (batched over leading dims)."""
    if x1.dim() > 2 or x2.dim() > 2:
        batch = tuple(np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2])))
        x1 = x1.expand(batch + tuple(x1.shape[-2:]))
        x2 = x2.expand(batch + tuple(x2.shape[-2:]))
    return dispatch(CDIST, (x1, x2, float(p), compute_mode))


# ---------------------------------------------------------------------------------------
# nansum / nanmean

def _nansum(self, dim=None, keepdim=False, dtype=None):
    axes = None if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0) else \
        normalize_dims(dim, self.ndim)
    out_dt = dtype.numpy if dtype is not None else (np.dtype(np.int64) if self.dtype.kind in "biu" else self.dtype)
    if self.ndim == 0:
        return np.asarray(np.nan_to_num(self, nan=0.0) if self.dtype.kind == "f" else self, out_dt)
    return np.asarray(np.nansum(self, axis=axes, keepdims=keepdim, dtype=out_dt), out_dt)


def _nansum_backward(grad, self, dim, keepdim):
    shape = tuple(self.shape)
    g = expand_reduced(grad, shape, dim if dim not in (None, [], ()) else tuple(range(len(shape))), keepdim)
    return g * self.isnan().logical_not()


NANSUM = defop("nansum", _nansum, node="NansumBackward0", grads={"self": _nansum_backward}, function=False,
               method=False, samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(3, 4), 1), Sample(arr(2, 3, 4), (0, 2), True),
                                                   Sample(arr()), Sample(arr(0, 3), 0)]))


@public("nansum")
def nansum(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    """Sum treating NaN as zero."""
    return dispatch(NANSUM, (input, dim, keepdim, dtype))


@public("nanmean")
def nanmean(input: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    """Mean of the non-NaN elements."""
    if not input.is_floating_point() and not input.is_complex() and dtype is None:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{input.dtype._legacy}")
    count = input.isnan().logical_not().sum(dim=dim, keepdim=keepdim) if dim is not None else \
        input.isnan().logical_not().sum()
    return nansum(input, dim, keepdim, dtype=dtype) / count


# ---------------------------------------------------------------------------------------
# cummax / cummin / logcumsumexp

def _cum_extreme(better):
    def forward(self, dim):
        axis = wrap_dim(dim, self.ndim)
        a = self.reshape(1) if self.ndim == 0 else self
        moved = np.moveaxis(a, axis, -1)
        values = np.empty_like(moved)
        indices = np.empty(moved.shape, np.int64)
        if moved.shape[-1]:
            values[..., 0] = moved[..., 0]
            indices[..., 0] = 0
            for i in range(1, moved.shape[-1]):
                cur = moved[..., i]
                prev = values[..., i - 1]
                take = better(cur, prev) | (cur == prev)
                if moved.dtype.kind in "fc":
                    take = take | np.isnan(cur)
                    take = take & ~(np.isnan(prev) & ~np.isnan(cur))
                values[..., i] = np.where(take, cur, prev)
                indices[..., i] = np.where(take, i, indices[..., i - 1])
        values = np.moveaxis(values, -1, axis).reshape(self.shape)
        indices = np.moveaxis(indices, -1, axis).reshape(self.shape)
        return values, indices
    return forward


def _cum_extreme_backward(grad, result, self, dim):
    if self.dim() == 0:
        return grad
    axis = wrap_dim(dim, self.dim())
    zeros = _const(np.zeros(tuple(self.shape), grad._data.dtype))
    return zeros.scatter_add(axis, result[1], grad)


def _cum_samples():
    yield Sample(away(3, 5), 1)
    yield Sample(away(4, 2), 0)
    yield Sample(away(), 0)
    yield Sample(away(0, 3), 1)


CUMMAX = defop("cummax", _cum_extreme(np.greater), node="CummaxBackward0", outputs=2, differentiable_outputs=1,
               return_type=return_types.cummax, grads={"self": _cum_extreme_backward}, samples=_cum_samples)
CUMMIN = defop("cummin", _cum_extreme(np.less), node="CumminBackward0", outputs=2, differentiable_outputs=1,
               return_type=return_types.cummin, grads={"self": _cum_extreme_backward}, samples=_cum_samples)


def _logcumsumexp(self, dim):
    if self.dtype.kind not in "fc":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{D.from_numpy(self.dtype)._legacy}'")
    axis = wrap_dim(dim, self.ndim)
    if self.ndim == 0:
        return self.copy()
    return np.logaddexp.accumulate(self, axis=axis) if self.shape[axis] else self.copy()


def _logcumsumexp_backward(grad, self, result, dim):
    """grad_i = sum_{j >= i} grad_j exp(self_i - result_j); every exponent is <= 0 (result_j covers self_i)."""
    if self.dim() == 0:
        return grad
    axis = wrap_dim(dim, self.dim())
    x = self.movedim(axis, -1)
    r = result.movedim(axis, -1)
    g = grad.movedim(axis, -1)
    n = x.shape[-1]
    upper = _const(np.triu(np.ones((n, n), dtype=bool)))
    expo = x.unsqueeze(-1) - r.unsqueeze(-2)
    expo = _f("where")(upper, expo, _const(np.asarray(-np.inf, expo._data.dtype)))
    out = (expo.exp() * g.unsqueeze(-2)).sum(-1)
    return out.movedim(-1, axis)


LOGCUMSUMEXP = defop("logcumsumexp", _logcumsumexp, node="LogcumsumexpBackward0",
                     grads={"self": _logcumsumexp_backward},
                     samples=lambda: iter([Sample(arr(3, 5), 1), Sample(arr(4, 2), 0), Sample(arr(), 0),
                                           Sample(arr(0, 3), 1), Sample(arr(2, 3, 2), -2)]))


# ---------------------------------------------------------------------------------------
# aminmax

def _aminmax(self, dim=None, keepdim=False):
    if self.size == 0:
        if dim is None:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
    if dim is None:
        if keepdim:
            return (np.asarray(np.min(self), self.dtype).reshape((1,) * self.ndim),
                    np.asarray(np.max(self), self.dtype).reshape((1,) * self.ndim))
        return np.asarray(np.min(self), self.dtype), np.asarray(np.max(self), self.dtype)
    axis = wrap_dim(dim, self.ndim)
    a = self.reshape(1) if self.ndim == 0 else self
    if a.shape[axis] == 0:
        raise IndexError(f"aminmax(): Expected reduction dim {axis} to have non-zero size.")
    lo = np.min(a, axis=axis, keepdims=keepdim)
    hi = np.max(a, axis=axis, keepdims=keepdim)
    return lo.reshape(lo.shape if self.ndim else ()), hi.reshape(hi.shape if self.ndim else ())


def _spread(grad, self, value, dim, keepdim):
    shape = tuple(self.shape)
    if dim is None:
        full = value.reshape(()).expand(shape) if keepdim else value.expand(shape)
        g = (grad.reshape(()) if keepdim else grad).expand(shape)
    else:
        full = expand_reduced(value, shape, dim, keepdim)
        g = expand_reduced(grad, shape, dim, keepdim)
    mask = self == full
    count = mask.sum() if dim is None else expand_reduced(mask.sum(dim, keepdim=keepdim), shape, dim, keepdim)
    return mask * g / count


def _aminmax_backward(grads, self, result, dim, keepdim):
    return _spread(grads[0], self, result[0], dim, keepdim) + _spread(grads[1], self, result[1], dim, keepdim)


AMINMAX = defop("aminmax", _aminmax, node="AminmaxBackward0", outputs=2, function=False, method=False, return_type=return_types.aminmax,
                grads={"self": _aminmax_backward},
                samples=lambda: iter([Sample(away(3, 4)), Sample(away(3, 4), dim=1), Sample(away(3, 4), dim=0, keepdim=True),
                                      Sample(away()), Sample(away(0, 3), dim=1)]))


@public("aminmax")
def aminmax(input: Any, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """(min, max) of all elements or along `dim`."""
    return dispatch(AMINMAX, (input, dim, keepdim))


# ---------------------------------------------------------------------------------------
# block_diag, renorm

def _block_diag(tensors):
    mats = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
        mats.append(t.reshape(1, -1) if t.ndim <= 1 and t.size else t.reshape(1, t.size) if t.ndim <= 1 else t)
    rows = builtins.sum(m.shape[0] for m in mats)
    cols = builtins.sum(m.shape[1] for m in mats)
    dt = np.result_type(*tensors) if tensors else np.float32
    out = np.zeros((rows, cols), dt)
    r = c = 0
    for m in mats:
        out[r:r + m.shape[0], c:c + m.shape[1]] = m
        r += m.shape[0]
        c += m.shape[1]
    return out


def _block_diag_backward(grad, tensors_shape):
    out = []
    r = c = 0
    for shape in tensors_shape:
        if len(shape) == 2:
            h, w = shape
        elif len(shape) == 1:
            h, w = (1, shape[0]) if shape[0] else (1, 0)
        else:
            h, w = 1, 1
        piece = grad.narrow(0, r, h).narrow(1, c, w)
        out.append(piece.reshape(shape))
        r += h
        c += w
    return out


BLOCK_DIAG = defop("block_diag.default", _block_diag, node="BlockDiagBackward0", list_input=True, promote="common",
                   method=False, function=False, inputs=("tensors",), grads={"tensors": _block_diag_backward},
                   samples=lambda: iter([Sample([arr(2, 3), arr(1, 2)]), Sample([arr(3), arr(), arr(2, 2)])]))


@public("block_diag", method=False)
def block_diag(*tensors: Any) -> Any:
    """A block-diagonal matrix from the given (at most 2-d) tensors."""
    return dispatch(BLOCK_DIAG, (list(tensors),))


def _renorm_check(p, dim, maxnorm, ndim):
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {ndim} dimensions")


def _renorm(self, p, dim, maxnorm):
    _renorm_check(p, dim, maxnorm, self.ndim)
    axis = wrap_dim(dim, self.ndim)
    others = tuple(i for i in range(self.ndim) if i != axis)
    a = np.abs(self)
    norm = a.max(axis=others, keepdims=True) if p == math.inf else (a ** p).sum(axis=others, keepdims=True) ** (1 / p)
    scale = np.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0).astype(self.dtype)
    return self * scale


def _renorm_backward(grad, self, p, dim, maxnorm):
    axis = wrap_dim(dim, self.dim())
    others = tuple(i for i in range(self.dim()) if i != axis)
    norm = _vector_norm(self, p, others)
    over = norm > maxnorm
    one = _const(np.asarray(1.0, self._data.dtype))
    scale = _f("where")(over, maxnorm / (norm + 1e-7), one)
    dscale = _f("where")(over, -maxnorm / ((norm + 1e-7) * (norm + 1e-7)), one * 0)
    gx = (grad * self).sum(others, keepdim=True)
    if p == math.inf:
        hit = self.abs() == norm
        dnorm = hit * self.sign() / hit.sum(others, keepdim=True)
    elif p == 1:
        dnorm = self.sign()
    else:
        safe = _f("where")(norm != 0, norm, one)
        dnorm = self.sign() * self.abs().pow(p - 1) / safe.pow(p - 1)
    return grad * scale + gx * dscale * dnorm


def _vector_norm(x: Any, p: float, dims: tuple) -> Any:
    from .norm import vector_norm
    return vector_norm(x, p, dims, True)


RENORM = defop("renorm", _renorm, node="RenormBackward0", inplace="renorm_", grads={"self": _renorm_backward},
               samples=lambda: iter([Sample(arr(3, 4), 2.0, 0, 1.0), Sample(arr(3, 4), 1.0, 1, 2.0),
                                     Sample(arr(2, 3, 2), 3.0, -1, 0.5), Sample(arr(3, 4), math.inf, 0, 1.0),
                                     Sample(arr(3, 4), 2.0, 0, 100.0)]))
