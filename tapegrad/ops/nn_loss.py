"""Losses torch computes as ops of their own (own grad_fn names): mse, smooth L1, Huber, NLL
(plain and spatial), binary cross entropy. `reduction` is torch's enum (see _nn_args); the
composite losses (cross_entropy, kl_div, l1_loss, ...) live in nn.functional as torch builds them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from . import _registry as R
from ._nn_args import MEAN, NONE, SUM, reduce_array, reduce_grad
from ._registry import defop
from ._samples import Sample, arr, ints
from .nn_loss_backward import (NLL_LOSS2D_BACKWARD, NLL_LOSS_BACKWARD, huber_loss_backward, mse_loss_backward,
                               nll_loss_backward, smooth_l1_loss_backward)


def _loss_samples(extra: tuple = ()) -> Any:
    def samples():
        yield Sample(arr(3, 4), arr(3, 4), 1, *extra)
        yield Sample(arr(5), arr(5), 0, *extra)
        yield Sample(arr(2, 3), arr(2, 3), 2, *extra)
        yield Sample(arr(), arr(), 1, *extra)
        yield Sample(arr(3, 1), arr(4), 1, *extra)
        yield Sample(arr(0, 2), arr(0, 2), 1, *extra)
    return samples


# ---------------------------------------------------------------------------------------
# regression losses

def _mse(self, target, reduction=MEAN):
    d = self - target
    return reduce_array(d * d, reduction)


# Note [Loss backward ops] (nn_loss_backward.py): the gradient in `target` is the same op with
# self and target swapped, as torch's
MSE_LOSS = defop("mse_loss", _mse, node="MseLossBackward0", method=False, function=False, promote="common",
                 grads={"self": lambda grad, self, target, reduction: mse_loss_backward(grad, self, target, reduction),
                        "target": lambda grad, self, target, reduction: mse_loss_backward(grad, target, self,
                                                                                          reduction)},
                 samples=_loss_samples(),
                 jvps={"self": lambda self_t, self, target, reduction:
                       _reduce_tangent(2 * (self - target) * self_t, reduction),
                       "target": lambda target_t, self, target, reduction:
                       _reduce_tangent(-2 * (self - target) * target_t, reduction)})


def _reduce_tangent(t: Any, reduction: int) -> Any:
    """The tangent of a reduced pointwise loss (the derivative, as torch's forward AD gives it)."""
    return t.mean() if reduction == MEAN else t.sum() if reduction != 0 else t


def _smooth_l1(self, target, reduction=MEAN, beta=1.0):
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = np.abs(self - target)
    loss = d if beta == 0 else np.where(d < beta, 0.5 * d * d / (beta or 1), d - 0.5 * beta)
    return reduce_array(loss.astype(self.dtype, copy=False), reduction)


SMOOTH_L1_LOSS = defop("smooth_l1_loss", _smooth_l1, node="SmoothL1LossBackward0", method=False, function=False,
                       promote="common",
                       grads={"self": lambda grad, self, target, reduction, beta:
                              smooth_l1_loss_backward(grad, self, target, reduction, beta),
                              "target": lambda grad, self, target, reduction, beta:
                              smooth_l1_loss_backward(grad, target, self, reduction, beta)},
                       samples=_loss_samples((0.7,)))


def _huber(self, target, reduction=MEAN, delta=1.0):
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = np.abs(self - target)
    loss = np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return reduce_array(loss.astype(self.dtype, copy=False), reduction)


HUBER_LOSS = defop("huber_loss", _huber, node="HuberLossBackward0", method=False, function=False, promote="common",
                   grads={"self": lambda grad, self, target, reduction, delta:
                          huber_loss_backward(grad, self, target, reduction, delta),
                          "target": lambda grad, self, target, reduction, delta:
                          huber_loss_backward(grad, target, self, reduction, delta)},
                   samples=_loss_samples((1.3,)))


# ---------------------------------------------------------------------------------------
# negative log likelihood

def check_class_target(target: np.ndarray) -> None:
    if target.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {D.from_numpy(target.dtype)._legacy}")


def _nll_parts(self: np.ndarray, target: np.ndarray, weight: Any, ignore_index: int) -> tuple:
    """(input with a batch dim, safe class per element, per-element weight with ignored set to 0)."""
    check_class_target(target)
    x = self if self.ndim > 1 else self[None]
    t = target.astype(np.int64, copy=False)
    t = t if self.ndim > 1 else t.reshape(1)
    c = x.shape[1]
    if weight is not None and weight.size != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: [{', '.join(map(str, weight.shape))}]")
    ignored = t == ignore_index
    out_of_range = (t < 0) | (t >= c)
    if out_of_range.any():
        bad = out_of_range & ~ignored
        if bad.any():
            raise IndexError(f"Target {int(t[bad].ravel()[0])} is out of bounds.")
    if not ignored.any():  # the common case: every target counts
        w = np.ones(t.shape, x.dtype) if weight is None else weight.astype(x.dtype, copy=False)[t]
        return x, t, w
    safe = np.where(ignored, 0, t)
    if weight is None:
        w = (~ignored).astype(x.dtype)
    else:
        w = np.where(ignored, 0, weight.astype(x.dtype, copy=False)[safe]).astype(x.dtype, copy=False)
    return x, safe, w


def _nll(self, target, weight=None, reduction=MEAN, ignore_index=-100):
    if self.ndim > 2:
        raise RuntimeError(f"input tensor should be 1D or 2D")
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    return _nll_common(self, target, weight, reduction, ignore_index)


def _nll_common(self, target, weight, reduction, ignore_index):
    x, safe, w = _nll_parts(self, target, weight, ignore_index)
    picked = np.take_along_axis(x, safe[:, None], axis=1)[:, 0] if x.ndim > 2 else x[np.arange(len(safe)), safe]
    loss = -(w * picked)
    if reduction == NONE:
        loss = np.where(np.asarray(target).reshape(loss.shape) == ignore_index, x.dtype.type(0), loss)  # +0, as torch
        return loss if self.ndim > 1 else loss.reshape(())
    total = loss.sum()
    if reduction == SUM:
        return total
    return (total / w.sum()).astype(x.dtype)  # 0/0 when every target is ignored: nan, as torch


def _nll_grad(grad, self, target, weight, reduction, ignore_index):
    return nll_loss_backward(NLL_LOSS_BACKWARD, grad, self, target, weight, reduction, ignore_index)


def _nll2d_grad(grad, self, target, weight, reduction, ignore_index):
    return nll_loss_backward(NLL_LOSS2D_BACKWARD, grad, self, target, weight, reduction, ignore_index)


def _nll_samples():
    yield Sample(arr(4, 5), ints(4, high=5))
    yield Sample(arr(3, 4), np.array([1, -100, 3]), arr(4, low=0.1), 0)
    yield Sample(arr(3, 4), np.array([1, 2, 2]), arr(4, low=0.1), 2, 2)
    yield Sample(arr(5), np.array(3))
    yield Sample(arr(4, 3), np.array([0, 1, 2, 1]), None, 1, 1)


NLL_LOSS = defop("nll_loss", _nll, node="NllLossBackward0", method=False, function=False,
                 tensors=("self", "target", "weight"), inputs=("self",), grads={"self": _nll_grad},
                 samples=_nll_samples)


def _nll2d(self, target, weight=None, reduction=MEAN, ignore_index=-100):
    if target.ndim != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of dimension: "
                           f"{target.ndim}")
    return _nll_common(self, target, weight, reduction, ignore_index)


NLL_LOSS2D = defop("nll_loss2d", _nll2d, node="NllLoss2DBackward0", method=False, function=False,
                   tensors=("self", "target", "weight"), inputs=("self",), grads={"self": _nll2d_grad},
                   samples=lambda: iter([Sample(arr(2, 3, 2, 2), ints(2, 2, 2, high=3)),
                                         Sample(arr(1, 3, 2, 3), ints(1, 2, 3, high=3), arr(3, low=0.1), 0),
                                         Sample(arr(2, 2, 1, 2), np.array([[[0, -100]], [[1, 1]]]), None, 1)]))


# ---------------------------------------------------------------------------------------
# binary cross entropy on probabilities

def _bce(self, target, weight=None, reduction=MEAN):
    if ((self < 0) | (self > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    if ((target < 0) | (target > 1)).any():
        raise RuntimeError("all elements of target should be between 0 and 1")
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(self), -100)
        log_1mx = np.maximum(np.log1p(-self), -100)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return reduce_array(loss.astype(self.dtype, copy=False), reduction)


def _bce_self_grad(grad, self, target, weight, reduction):
    g = reduce_grad(grad, self.shape, reduction)
    d = (self - target) / (self * (1 - self)).clamp(min=1e-12)
    if weight is not None:
        d = d * weight
    return g * d


def _bce_target_grad(grad, self, weight, reduction):
    g = reduce_grad(grad, self.shape, reduction)
    d = (-self).log1p().clamp(min=-100) - self.log().clamp(min=-100)
    if weight is not None:
        d = d * weight
    return g * d


BCE = defop("binary_cross_entropy", _bce, node="BinaryCrossEntropyBackward0", method=False, function=False,
            promote="common", tensors=("self", "target", "weight"), inputs=("self", "target"),
            grads={"self": _bce_self_grad, "target": _bce_target_grad},
            samples=lambda: iter([Sample(arr(3, 4, low=0.1, high=0.9), arr(3, 4, low=0.0, high=1.0)),
                                  Sample(arr(5, low=0.1, high=0.9), arr(5, low=0.0, high=1.0), arr(5), 2),
                                  Sample(arr(2, 3, low=0.1, high=0.9), arr(2, 3, low=0.0, high=1.0), arr(3), 0)]))


# ---------------------------------------------------------------------------------------
# soft margin: log(1 + exp(-target * input)); torch differentiates the input only

def _soft_margin(self, target, reduction=MEAN):
    shape = np.broadcast_shapes(self.shape, target.shape)
    if shape != self.shape:
        raise RuntimeError(f"output with shape [{', '.join(map(str, self.shape))}] doesn't match the broadcast "
                           f"shape [{', '.join(map(str, shape))}]")
    with np.errstate(over="ignore"):
        loss = np.log1p(np.exp(-target * self)).astype(self.dtype, copy=False)
    return reduce_array(loss, reduction)


def _soft_margin_grad(grad, self, target, reduction):
    g = reduce_grad(grad, self.shape, reduction)
    z = (-target * self).exp()
    return g * (-target * z / (1 + z))


SOFT_MARGIN_LOSS = defop("soft_margin_loss", _soft_margin, node="SoftMarginLossBackward0", method=False,
                         function=False, promote="common", tensors=("self", "target"), inputs=("self",),
                         grads={"self": _soft_margin_grad},
                         samples=lambda: iter([Sample(arr(3, 4), arr(3, 4), 1), Sample(arr(5), arr(5), 0),
                                               Sample(arr(2, 3), arr(3), 2), Sample(arr(), arr(), 1),
                                               Sample(arr(0, 2), arr(0, 2), 2)]))


# ---------------------------------------------------------------------------------------
# multi-class margin losses (torch's own kernels): the input's last dim holds the classes

def _as_rows(self: np.ndarray) -> np.ndarray:
    return self.reshape(1, -1) if self.ndim <= 1 else self


def _shape_str(shape: Any) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _multi_margin_terms(x: np.ndarray, y: np.ndarray, p: int, margin: float) -> tuple:
    """z[i, j] = margin - x[i, y_i] + x[i, j], and which terms count (z > 0, j != y_i)."""
    c = x.shape[1]
    z = margin - np.take_along_axis(x, y[:, None], 1) + x
    live = (z > 0) & (np.arange(c)[None, :] != y[:, None])
    return z, live


def _multi_margin_check(self, target, weight):
    x = _as_rows(self)
    n, c = x.shape
    y = target.reshape(-1).astype(np.int64)
    if self.ndim == 2 and (target.ndim != 1 or target.shape[0] != n):
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{n}], but got {_shape_str(target.shape)}. "
                           f"Input has shape {_shape_str(self.shape)}.")
    if weight is not None and weight.size != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got {_shape_str(weight.shape)}")
    if y.size and (y.min() < 0 or y.max() >= c):
        raise RuntimeError("target out of range")
    return x, y


def _multi_margin(self, target, p=1, margin=1.0, weight=None, reduction=MEAN):
    x, y = _multi_margin_check(self, target, weight)
    z, live = _multi_margin_terms(x, y, p, margin)
    h = np.where(live, z if p == 1 else z * z, 0).astype(x.dtype, copy=False)
    if weight is not None:
        h = h * weight.reshape(-1)[y][:, None]
    loss = (h.sum(1) / x.shape[1]).astype(x.dtype, copy=False)
    if reduction == NONE:
        return loss.reshape(target.shape) if self.ndim <= 1 else loss
    return reduce_array(loss, reduction)


def _multi_margin_grad(grad, self, target, p, margin, weight, reduction):
    x, y = _multi_margin_check(self._data, target._data, None if weight is None else weight._data)
    c = x.shape[1]
    z, live = _multi_margin_terms(x, y, p, margin)
    xs = self.reshape(x.shape)
    live_t = R._make(live.astype(x.dtype), False, None, 0)
    if p == 1:
        d = live_t
    else:
        zt = margin - xs.gather(1, R._make(y[:, None], False, None, 0)) + xs
        d = zt * live_t * 2
    if weight is not None:
        d = d * weight.reshape(-1).index_select(0, R._make(y, False, None, 0)).unsqueeze(1)
    g = reduce_grad(grad.reshape(-1) if reduction == NONE else grad, (x.shape[0],), reduction)
    gj = d * (g.unsqueeze(1) / c)
    own = R._make((np.arange(c)[None, :] == y[:, None]).astype(x.dtype), False, None, 0)
    return (gj - own * gj.sum(1, keepdim=True)).reshape(tuple(self.shape))


MULTI_MARGIN_LOSS = defop(
    "multi_margin_loss", _multi_margin, node="MultiMarginLossBackward0", method=False, function=False,
    promote="common", tensors=("self", "target", "weight"), inputs=("self",), promote_on=("self", "weight"),
    grads={"self": _multi_margin_grad},
    samples=lambda: iter([Sample(arr(4, 5), np.array([1, 0, 4, 2])),
                          Sample(arr(3, 4), np.array([3, 0, 1]), 2, 0.5, arr(4, low=0.5, high=1.5), 2),
                          Sample(arr(3, 4), np.array([2, 2, 0]), 1, 1.5, None, 0),
                          Sample(arr(5), np.array(3), 2, 1.0, None, 0),
                          Sample(arr(5), np.array([1]), 1, 1.0, None, 1)]))


def _multilabel_targets(self, target):
    """Boolean mask of each row's target classes (the indices before the first -1), checked as torch does."""
    x = _as_rows(self)
    n, c = x.shape
    if target.shape != self.shape:
        raise RuntimeError(f"inconsistent target size: {_shape_str(target.shape)} for input of size: "
                           f"{_shape_str(self.shape)}")
    t = target.reshape(n, c).astype(np.int64)
    if t.size and (t.min() < -1 or t.max() >= c):
        raise RuntimeError("argument #2 'target' is out of range")
    valid = np.cumprod(t != -1, axis=1).astype(bool)
    is_target = np.zeros((n, c), bool)
    rows, cols = np.nonzero(valid)
    is_target[rows, t[rows, cols]] = True
    return x, is_target


def _multilabel_pairs(x: np.ndarray, is_target: np.ndarray) -> tuple:
    """z[i, j, k] = 1 - x[i, j] + x[i, k] for target j, non-target k, and where it is positive."""
    z = 1 - x[:, :, None] + x[:, None, :]
    live = is_target[:, :, None] & ~is_target[:, None, :] & (z > 0)
    return z, live


def _multilabel_margin(self, target, reduction=MEAN):
    x, is_target = _multilabel_targets(self, target)
    z, live = _multilabel_pairs(x, is_target)
    loss = (np.where(live, z, 0).sum((1, 2)) / x.shape[1]).astype(x.dtype, copy=False)
    if reduction == NONE:
        return loss.reshape(()) if self.ndim <= 1 else loss
    return reduce_array(loss, reduction)


def _multilabel_margin_grad(grad, self, target, reduction):
    x, is_target = _multilabel_targets(self._data, target._data)
    _, live = _multilabel_pairs(x, is_target)
    slope = R._make((live.sum(1) - live.sum(2)).astype(x.dtype), False, None, 0)
    g = reduce_grad(grad.reshape(-1) if reduction == NONE else grad, (x.shape[0],), reduction)
    return (slope * (g.unsqueeze(1) / x.shape[1])).reshape(tuple(self.shape))


MULTILABEL_MARGIN_LOSS = defop(
    "multilabel_margin_loss", _multilabel_margin, node="MultilabelMarginLossBackward0", method=False,
    function=False, promote="common", tensors=("self", "target"), inputs=("self",), promote_on=("self",),
    grads={"self": _multilabel_margin_grad},
    samples=lambda: iter([Sample(arr(3, 5), np.array([[1, 3, -1, 0, 0], [0, -1, 2, 2, 2], [4, 3, 2, 1, 0]])),
                          Sample(arr(2, 4), np.array([[2, -1, 1, 1], [0, 1, -1, 3]]), 2),
                          Sample(arr(2, 4), np.array([[3, 0, -1, 1], [-1, 1, 1, 1]]), 0),
                          Sample(arr(4), np.array([1, 2, -1, 0]), 0)]))
