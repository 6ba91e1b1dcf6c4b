"""Reductions beyond sum/mean: prod, max/min/amax/amin/argmax/argmin, var/std, logsumexp, cumsum/cumprod,
vector norms. softmax/log_softmax live in `softmax.py`; sorting and order statistics live in `sorting.py` (imported below).

Note [Selecting reductions]
Ops that pick one element per slice (max(dim), median(dim), kthvalue, mode) send the gradient to
the picked index only; the whole-tensor max/min/median and amax/amin split it evenly among ties,
as torch does. The picked-index gradient goes through `_scatter_selected`, whose own gradient is
`_gather_selected`, so that double backward works.
"""
from __future__ import annotations

import builtins
import sys
import warnings
from typing import Any

import numpy as np

from .. import _dtype as D
from .. import return_types
from . import _registry as R
from ._registry import defop, dispatch, public
from ._samples import Sample, arr, away
from .comparison import where
from .reduction import _sum_dtype, expand_reduced, normalize_dims

_INT64 = np.dtype(np.int64)


from .._size import wrap_dim  # noqa: E402,F401  (imported from here by other modules)


def _const(a: Any) -> Any:
    """A constant tensor (no grad) around an array."""
    return R._make(np.asarray(a), False, None, 0)


def warn_user(message: str) -> None:
    """Issue a UserWarning attributed to the first caller outside tapegrad (as torch's C++ warnings are)."""
    level = 2
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tapegrad"):
        frame = frame.f_back
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _legacy(a: np.ndarray) -> str:
    return D.from_numpy(a.dtype)._legacy


def _check_nonempty(a: np.ndarray, axes: tuple | None, name: str, all_error: type = RuntimeError,
                    all_tail: str = " Specify the reduction dim with the 'dim' argument.") -> None:
    """torch's errors for reducing an empty tensor with no identity (max, amax, argmax...)."""
    if a.size:
        return
    if axes is None:
        raise all_error(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.{all_tail}")
    for axis in axes:
        if a.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


# ---------------------------------------------------------------------------------------
# helpers for formulas: flip, and scatter/gather of the picked elements (Note [Selecting reductions])

def _flip(self, dims):
    return np.flip(self, axis=tuple(dims)).copy()


FLIP = defop("_reduction_flip", _flip, node="FlipBackward0", function=False, method=False,
             grads={"self": lambda grad, dims: dispatch(FLIP, (grad, dims))},
             samples=lambda: iter([Sample(arr(3, 4), (1,)), Sample(arr(2, 3), (0, 1)), Sample(arr(0, 2), (0,))]))


def flip(t: Any, axis: int) -> Any:
    return dispatch(FLIP, (t, (axis,)))


def _scatter_selected(src, dim, index, shape):
    out = np.zeros(shape, src.dtype)
    np.put_along_axis(out, index, src, axis=dim)
    return out


def _gather_selected(self, dim, index):
    return np.take_along_axis(self, index, axis=dim)


# Indices are unique along `dim` (each output element picks a different input element).
SCATTER_SELECTED = defop("_scatter_selected", _scatter_selected, node="ScatterBackward0", function=False,
                         method=False, tensors=("src", "index"), inputs=("src",),
                         grads={"src": lambda grad, dim, index: dispatch(GATHER_SELECTED, (grad, dim, index))},
                         samples=lambda: iter([Sample(arr(3, 1), 1, np.array([[2], [0], [1]]), (3, 4)),
                                               Sample(arr(2, 3), 0, np.array([[1, 0, 2], [0, 2, 1]]), (3, 3))]))
GATHER_SELECTED = defop("_gather_selected", _gather_selected, node="GatherBackward0", function=False, method=False,
                        tensors=("self", "index"), inputs=("self",),
                        grads={"self": lambda grad, dim, index, self_shape:
                               dispatch(SCATTER_SELECTED, (grad, dim, index, self_shape))},
                        samples=lambda: iter([Sample(arr(3, 4), 1, np.array([[2], [0], [1]]))]))


def select_backward(grad: Any, indices: Any, self_shape: tuple, dim: int, keepdim: bool) -> Any:
    """Gradient of an op that picked `indices` along `dim` (indices unique along dim)."""
    if len(self_shape) == 0:
        return grad.reshape(())
    axis = wrap_dim(dim, len(self_shape))
    if not keepdim:
        grad = grad.unsqueeze(axis)
        indices = indices.unsqueeze(axis)
    return dispatch(SCATTER_SELECTED, (grad, axis, indices, tuple(self_shape)))


def evenly_distribute(grad: Any, self: Any, result: Any) -> Any:
    """Whole-tensor max/min/median: the gradient split among the elements equal to the result."""
    mask = self.isnan() if np.isnan(result._data).any() else (self == result)
    return mask * (grad / mask.sum())


def _one_dim(a: np.ndarray, dim: int) -> tuple:
    """(array with at least one dim, the wrapped axis)."""
    axis = wrap_dim(dim, a.ndim)
    return (a.reshape(1) if a.ndim == 0 else a), axis


# ---------------------------------------------------------------------------------------
# prod

def _prod_all(self, dtype=None):
    return np.prod(self, dtype=_sum_dtype(self, dtype))


def _prod_dim(self, dim, keepdim=False, dtype=None):
    a, axis = _one_dim(self, dim)
    out = np.prod(a, axis=axis, keepdims=keepdim, dtype=_sum_dtype(self, dtype))
    return out.reshape(()) if self.ndim == 0 else out


def _exclusive_cumprod(x: Any, axis: int) -> Any:
    """prod of the elements before each position along axis (1 at the first)."""
    n = x.shape[axis]
    shape = list(x.shape)
    shape[axis] = 1
    ones = _const(np.ones(shape, x._data.dtype))
    if n == 1:
        return ones
    return R.FUNCTIONS["cat"]([ones, x.narrow(axis, 0, n - 1).cumprod(axis)], axis)


def _prod_of_others(x: Any, axis: int) -> Any:
    """prod of all elements but each one along axis, exact with zeros in x."""
    before = _exclusive_cumprod(x, axis)
    after = flip(_exclusive_cumprod(flip(x, axis), axis), axis)
    return before * after


def _prod_backward(grad: Any, self: Any, result: Any, dim: Any, keepdim: bool) -> Any:
    shape = tuple(self.shape)
    g = expand_reduced(grad, shape, dim, keepdim)
    if not (self._data == 0).any():
        return g * expand_reduced(result, shape, dim, keepdim) / self
    if dim is None:
        return g * _prod_of_others(self.reshape(-1), 0).reshape(shape)
    if self.ndim == 0:
        return g
    return g * _prod_of_others(self, wrap_dim(dim, self.ndim))


def _prod_samples():
    yield Sample(arr(3, 4))
    yield Sample(arr())
    yield Sample(arr(0, 3))
    yield Sample(np.array([[1.5, 0.0, 2.0], [0.5, -1.0, 3.0]]))


PROD = defop("prod", _prod_all, node="ProdBackward0", function=False, method=False,
             grads={"self": lambda grad, self, result: _prod_backward(grad, self, result, None, False)},
             samples=_prod_samples)


def _prod_dim_samples():
    yield Sample(arr(3, 4), 1)
    yield Sample(arr(2, 3, 4), 0, True)
    yield Sample(arr(), 0)
    yield Sample(arr(0, 3), 1)
    yield Sample(np.array([[1.5, 0.0, 2.0], [0.5, -1.0, 3.0]]), 1)
    yield Sample(np.array([[1.5, 0.0, 0.0], [0.5, -1.0, 3.0]]), 0)


PROD_DIM = defop("prod.dim_int", _prod_dim, node="ProdBackward1", function=False, method=False,
                 grads={"self": lambda grad, self, result, dim, keepdim: _prod_backward(grad, self, result, dim, keepdim)},
                 samples=_prod_dim_samples)


@public("prod")
def prod(input: Any, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Any:
    """Product of all elements, or along `dim`."""
    if dim is None:
        return dispatch(PROD, (input, dtype))
    return dispatch(PROD_DIM, (input, dim, keepdim, dtype))


# ---------------------------------------------------------------------------------------
# max / min / amax / amin / argmax / argmin

def _extreme_all(name: str, fn: Any) -> Any:
    def forward(self):
        _check_nonempty(self, None, name)
        return fn(self)
    return forward


def _extreme_dim(name: str, argfn: Any) -> Any:
    def forward(self, dim, keepdim=False):
        a, axis = _one_dim(self, dim)
        _check_nonempty(a, (axis,), name)
        idx = argfn(a, axis=axis, keepdims=True)
        values = np.take_along_axis(a, idx, axis)
        if self.ndim == 0:
            return values.reshape(()), idx.reshape(()).astype(_INT64)
        if not keepdim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx.astype(_INT64, copy=False)
    return forward


def _select_dim_grad(grad, result, self_shape, dim, keepdim):
    return select_backward(grad, result[1], self_shape, dim, keepdim)


def _extreme_samples():
    yield Sample(away(3, 4))
    yield Sample(away())
    yield Sample(away(5))


def _extreme_dim_samples():
    yield Sample(away(3, 4), 1)
    yield Sample(away(2, 3, 4), 0, True)
    yield Sample(away(), 0)
    yield Sample(away(3, 4), -1, True)
    yield Sample(np.zeros((0, 3)), 1)


MAX = defop("max", _extreme_all("max", np.max), node="MaxBackward1", function=False, method=False,
            grads={"self": lambda grad, self, result: evenly_distribute(grad, self, result)}, samples=_extreme_samples)
MIN = defop("min", _extreme_all("min", np.min), node="MinBackward1", function=False, method=False,
            grads={"self": lambda grad, self, result: evenly_distribute(grad, self, result)}, samples=_extreme_samples)
MAX_DIM = defop("max.dim", _extreme_dim("max", np.argmax), node="MaxBackward0", function=False, method=False,
                outputs=2, differentiable_outputs=1, return_type=return_types.max,
                grads={"self": _select_dim_grad}, samples=_extreme_dim_samples)
MIN_DIM = defop("min.dim", _extreme_dim("min", np.argmin), node="MinBackward0", function=False, method=False,
                outputs=2, differentiable_outputs=1, return_type=return_types.min,
                grads={"self": _select_dim_grad}, samples=_extreme_dim_samples)


def _max_min(name: str, all_op: Any, dim_op: Any, binary: str) -> Any:
    def select(input: Any, dim: Any = None, keepdim: bool = False, *, other: Any = None) -> Any:
        if other is not None or isinstance(dim, R.Tensor):
            if other is None:
                other = dim
            return R.FUNCTIONS[binary](input, other)
        if dim is None:
            if keepdim:
                raise TypeError(f"{name}() received an invalid combination of arguments - got (keepdim=bool), "
                                "but expected one of dim")
            return dispatch(all_op, (input,))
        return dispatch(dim_op, (input, dim, keepdim))
    select.__name__ = name
    select.__doc__ = (f"torch.{name}: over all elements; with `dim`, (values, indices) along it; with a tensor, "
                      f"the elementwise {binary}.")
    return select


max = public("max")(_max_min("max", MAX, MAX_DIM, "maximum"))  # noqa: A001
min = public("min")(_max_min("min", MIN, MIN_DIM, "minimum"))  # noqa: A001


def _amax_like(name: str, fn: Any) -> Any:
    def forward(self, dim=(), keepdim=False):
        whole = dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0)
        axes = None if whole else normalize_dims(dim, self.ndim)
        _check_nonempty(self, axes, name)
        if self.ndim == 0:
            return fn(self)
        return fn(self, axis=axes, keepdims=keepdim)
    return forward


def _amax_backward(grad, self, result, dim, keepdim):
    shape = tuple(self.shape)
    g = expand_reduced(grad, shape, dim, keepdim)
    mask = self == expand_reduced(result, shape, dim, keepdim)
    whole = dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0)
    count = mask.sum() if whole or self.ndim == 0 else mask.sum(normalize_dims(dim, self.ndim), keepdim=True)
    return (g / count) * mask


def _amax_samples():
    yield Sample(away(3, 4))
    yield Sample(away(3, 4), 1)
    yield Sample(away(2, 3, 4), (0, 2), True)
    yield Sample(away(), 0)
    yield Sample(np.zeros((0, 3)), 1)


AMAX = defop("amax", _amax_like("amax", np.max), node="AmaxBackward0", grads={"self": _amax_backward},
             samples=_amax_samples)
AMIN = defop("amin", _amax_like("amin", np.min), node="AminBackward0", grads={"self": _amax_backward},
             samples=_amax_samples)


def _arg_like(name: str, fn: Any) -> Any:
    def forward(self, dim=None, keepdim=False):
        if dim is None:
            _check_nonempty(self, None, name, IndexError, "")
            out = np.asarray(fn(self.reshape(-1)), dtype=_INT64)
            return out.reshape((1,) * self.ndim) if keepdim else out
        a, axis = _one_dim(self, dim)
        _check_nonempty(a, (axis,), name)
        out = fn(a, axis=axis, keepdims=keepdim and self.ndim > 0).astype(_INT64)
        return out.reshape(()) if self.ndim == 0 else out
    return forward


def _arg_samples():
    yield Sample(away(3, 4))
    yield Sample(away(3, 4), 1)
    yield Sample(away(3, 4), 0, True)
    yield Sample(away(3, 4), None, True)
    yield Sample(away(), 0)


ARGMAX = defop("argmax", _arg_like("argmax", np.argmax), tensors=("self",), differentiable=False, samples=_arg_samples)
ARGMIN = defop("argmin", _arg_like("argmin", np.argmin), tensors=("self",), differentiable=False, samples=_arg_samples)


# ---------------------------------------------------------------------------------------
# var / std (and var_mean / std_mean)

_DOF_WARNING = ("{}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
                "(input numel divided by output numel). (Triggered internally at "
                "/pytorch/aten/src/ATen/native/ReduceOps.cpp:1861.)")


def _moments(self: np.ndarray, dim: Any, correction: Any, keepdim: bool, name: str) -> tuple:
    """(variance, mean, dof) of self over dim, with torch's checks and warning."""
    if self.dtype.kind not in "fc":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    correction = 1 if correction is None else correction
    axes = normalize_dims(dim, self.ndim) if self.ndim else ()
    n = 1
    for axis in axes:
        n *= self.shape[axis]
    dof = n - correction
    if dof <= 0:
        warn_user(_DOF_WARNING.format(name))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.sum(self, axis=axes, keepdims=True) / n if self.ndim else self
        dev = np.abs(self - mean) if self.dtype.kind == "c" else self - mean
        ssq = np.sum(dev * dev, axis=axes, keepdims=keepdim) if self.ndim else np.asarray(dev * dev)
        var = (ssq / builtins.max(dof, 0)).astype(self.dtype, copy=False)
    if not keepdim and self.ndim:
        mean = mean.squeeze(axes)
    return var, mean.astype(self.dtype, copy=False), dof


def _var(self, dim=None, correction=None, keepdim=False):
    return _moments(self, dim, correction, keepdim, "var")[0]


def _std(self, dim=None, correction=None, keepdim=False):
    return np.sqrt(_moments(self, dim, correction, keepdim, "std")[0])


def _var_mean(self, dim=None, correction=None, keepdim=False):
    return _moments(self, dim, correction, keepdim, "var_mean")[:2]


def _std_mean(self, dim=None, correction=None, keepdim=False):
    var, mean, _ = _moments(self, dim, correction, keepdim, "std_mean")
    return np.sqrt(var), mean


def _dof(shape: tuple, dim: Any, correction: Any) -> float:
    n = 1
    for axis in (normalize_dims(dim, len(shape)) if shape else ()):
        n *= shape[axis]
    return builtins.max(n - (1 if correction is None else correction), 0)


def _var_backward(grad, self, dim, correction, keepdim):
    shape = tuple(self.shape)
    g = expand_reduced(grad, shape, dim, keepdim)
    dof = _dof(shape, dim, correction)
    centred = self - self.mean(normalize_dims(dim, self.ndim) if shape else None, keepdim=True)
    return (2.0 / dof if dof else float("inf")) * g * centred


def _std_backward(grad, self, result, dim, correction, keepdim):
    zero = result == 0
    return _var_backward(where(zero, 0.0, grad / (2 * where(zero, 1.0, result))), self, dim, correction, keepdim)


def _mean_backward(grad, self_shape, dim, keepdim):
    n = 1
    for axis in (normalize_dims(dim, len(self_shape)) if self_shape else ()):
        n *= self_shape[axis]
    g = expand_reduced(grad, tuple(self_shape), dim, keepdim)
    return g / n if n else g * float("nan")


def _var_samples():
    yield Sample(arr(3, 4))
    yield Sample(arr(3, 4), 1)
    yield Sample(arr(2, 3, 4), (0, 2), correction=0, keepdim=True)
    yield Sample(arr(3, 4), None, correction=2.5)
    yield Sample(arr(5), 0, correction=0)
    yield Sample(arr(4, 2), -1, keepdim=True)


def _var_only_samples():
    yield from _var_samples()
    yield Sample(arr(), correction=0)  # variance 0: std's gradient is degenerate there


VAR = defop("var.correction", _var, node="VarBackward0", function=False, method=False,
            grads={"self": _var_backward}, samples=_var_only_samples)
STD = defop("std.correction", _std, node="StdBackward0", function=False, method=False,
            grads={"self": _std_backward}, samples=_var_samples)
VAR_MEAN = defop("var_mean.correction", _var_mean, node="VarMeanBackward0", function=False, method=False,
                 outputs=2, grads={"self": lambda grads, self, dim, correction, keepdim:
                                   _var_backward(grads[0], self, dim, correction, keepdim)
                                   + _mean_backward(grads[1], tuple(self.shape), dim, keepdim)},
                 samples=_var_samples)
STD_MEAN = defop("std_mean.correction", _std_mean, node="StdMeanBackward0", function=False, method=False,
                 outputs=2, grads={"self": lambda grads, self, result, dim, correction, keepdim:
                                   _std_backward(grads[0], self, result[0], dim, correction, keepdim)
                                   + _mean_backward(grads[1], tuple(self.shape), dim, keepdim)},
                 samples=_var_samples)


def _var_like(name: str, op: Any) -> Any:
    def select(input: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
               correction: Any = None) -> Any:
        if isinstance(dim, bool):  # var(input, unbiased)
            if unbiased is not None:
                keepdim = unbiased
            dim, unbiased = None, dim
        if unbiased is not None:
            if correction is not None:
                raise TypeError(f"{name}() received an invalid combination of arguments - got both unbiased and "
                                "correction")
            correction = 1 if unbiased else 0
        return dispatch(op, (input, dim, correction, keepdim))
    select.__name__ = name
    select.__doc__ = f"torch.{name} over all elements or `dim`, dividing by N - correction (default 1)."
    return select


var = public("var")(_var_like("var", VAR))
std = public("std")(_var_like("std", STD))
var_mean = public("var_mean", method=False)(_var_like("var_mean", VAR_MEAN))
std_mean = public("std_mean", method=False)(_var_like("std_mean", STD_MEAN))


# ---------------------------------------------------------------------------------------
# logsumexp, cumsum, cumprod

def _logsumexp(self, dim, keepdim=False):
    if self.ndim == 0:
        wrap_dim(dim, 0) if isinstance(dim, int) else None
        return self.copy()
    axes = normalize_dims(dim, self.ndim)
    if self.size:
        m = np.max(self, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
    else:
        m = np.zeros([1 if i in axes else s for i, s in enumerate(self.shape)], self.dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.log(np.sum(np.exp(self - m), axis=axes, keepdims=True)) + m
    out = out.astype(self.dtype, copy=False)
    return out if keepdim else out.squeeze(axes)


def _logsumexp_backward(grad, self, result, dim, keepdim):
    shape = tuple(self.shape)
    return expand_reduced(grad, shape, dim, keepdim) * (self - expand_reduced(result, shape, dim, keepdim)).exp()


LOGSUMEXP = defop("logsumexp", _logsumexp, node="LogsumexpBackward0", promote="float",
                  grads={"self": _logsumexp_backward},
                  jvps={"self": lambda self_t, self, dim, keepdim, result:
                        (self_t * (self - expand_reduced(result, self.shape, dim, keepdim)).exp()).sum(dim, keepdim)},
                  samples=lambda: iter([Sample(arr(3, 4), 1), Sample(arr(2, 3, 4), (0, 2), True), Sample(arr(), 0),
                                        Sample(arr(0, 3), 0), Sample(arr(3, 4) * 50, 0)]))


def _cumulative(fn: Any) -> Any:
    def forward(self, dim, dtype=None):
        a, axis = _one_dim(self, dim)
        out = fn(a, axis=axis, dtype=_sum_dtype(self, dtype))
        return out.reshape(()) if self.ndim == 0 else out
    return forward


def reverse_cumsum(t: Any, axis: int) -> Any:
    """Sum of the elements at or after each position along axis."""
    return flip(flip(t, axis).cumsum(axis), axis)


def _cumsum_backward(grad, self_shape, dim):
    if not self_shape:
        return grad
    return reverse_cumsum(grad, wrap_dim(dim, len(self_shape)))


def _cumprod_backward(grad, self, result, dim):
    """d/dx of cumprod, exact with zeros: only elements up to the first zero of a slice get a gradient."""
    if self.ndim == 0:
        return grad
    axis = wrap_dim(dim, self.ndim)
    if not (self._data == 0).any():
        return reverse_cumsum(grad * result, axis) / self
    nonzero = self._data != 0
    before = np.logical_and.accumulate(nonzero, axis=axis)  # every element so far is non-zero
    shifted = np.ones_like(before)
    src = [slice(None)] * self.ndim
    dst = [slice(None)] * self.ndim
    src[axis], dst[axis] = slice(0, -1), slice(1, None)
    shifted[tuple(dst)] = before[tuple(src)]
    first_zero = _const(~nonzero & shifted)
    before_t = _const(before)
    part_before = reverse_cumsum(grad * result, axis) / where(before_t, self, 1.0)
    skipped = where(first_zero, 1.0, self).cumprod(axis)  # products with the first zero left out
    part_zero = reverse_cumsum(grad * skipped, axis)
    return where(before_t, part_before, where(first_zero, part_zero, 0.0))


def _cumulative_samples():
    yield Sample(arr(3, 4), 1)
    yield Sample(arr(2, 3, 4), 0)
    yield Sample(arr(), 0)
    yield Sample(arr(0, 3), -1)
    yield Sample(arr(5), 0, dtype=None)


CUMSUM = defop("cumsum", _cumulative(np.cumsum), node="CumsumBackward0", grads={"self": _cumsum_backward},
               inplace="cumsum_",
               samples=_cumulative_samples,
               jvps={"self": "linear"})
CUMPROD = defop("cumprod", _cumulative(np.cumprod), node="CumprodBackward0", grads={"self": _cumprod_backward},
                inplace="cumprod_",
                samples=_cumulative_samples)


from . import norm as _norm  # noqa: E402,F401  (vector norms)
from . import sorting as _sorting  # noqa: E402,F401  (sort, topk, median...)
from . import softmax as _softmax  # noqa: E402,F401  (softmax, log_softmax and their backward ops)
