"""Losses with a fused formula of their own (torch reports their own grad_fn names)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ._registry import defop
from ._samples import Sample, arr

_REDUCTIONS = ("none", "mean", "sum")


def apply_reduction(loss: np.ndarray, reduction: str) -> np.ndarray:
    """'none' keeps the elementwise loss, 'mean' averages it, 'sum' adds it up."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.sum(loss)
    if reduction == "mean":
        return np.mean(loss) if loss.size else np.array(np.nan, loss.dtype)
    raise ValueError(f"{reduction} is not a valid value for reduction")


def reduction_grad(grad: Any, shape: tuple, reduction: str) -> Any:
    """The gradient of the reduction, as a tensor of the elementwise loss's shape."""
    if reduction == "none":
        return grad
    g = grad.expand(shape)
    if reduction == "mean":
        n = int(np.prod(shape))
        return g / n if n else g
    return g


def _bce_logits(self, target, weight=None, pos_weight=None, reduction="mean"):
    # log(1 + exp(-x)) computed without overflow: max(-x, 0) + log1p(exp(-|x|))
    softplus_neg = np.maximum(-self, 0) + np.log1p(np.exp(-np.abs(self)))
    if pos_weight is not None:
        log_weight = 1 + (pos_weight - 1) * target
        loss = (1 - target) * self + log_weight * softplus_neg
    else:
        loss = (1 - target) * self + softplus_neg
    if weight is not None:
        loss = loss * weight
    return apply_reduction(loss.astype(self.dtype, copy=False), reduction)


def _bce_logits_self(grad, self, target, weight, pos_weight, reduction):
    g = reduction_grad(grad, self.shape, reduction)
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        d = log_weight * self.sigmoid() - pos_weight * target
    else:
        d = self.sigmoid() - target
    if weight is not None:
        d = d * weight
    return g * d


def _bce_logits_target(grad, self, weight, pos_weight, reduction):
    g = reduction_grad(grad, self.shape, reduction)
    if pos_weight is not None:
        softplus_neg = (-self).relu() + (-self.abs()).exp().log1p()
        d = (pos_weight - 1) * softplus_neg - self
    else:
        d = -self
    if weight is not None:
        d = d * weight
    return g * d


BCE_WITH_LOGITS = defop(
    "binary_cross_entropy_with_logits", _bce_logits, node="BinaryCrossEntropyWithLogitsBackward0", method=False,
    promote="common_float", inputs=("self", "target"), tensors=("self", "target", "weight", "pos_weight"),
    grads={"self": _bce_logits_self, "target": _bce_logits_target},
    samples=lambda: iter([Sample(arr(3, 4), arr(3, 4, low=0.0, high=1.0)),
                          Sample(arr(5), arr(5, low=0.0, high=1.0), arr(5), None, "sum"),
                          Sample(arr(2, 3), arr(2, 3, low=0.0, high=1.0), None, arr(3, low=0.5), "none"),
                          Sample(arr(4), arr(4, low=0.0, high=1.0), arr(4), arr(4, low=0.5), "mean")]))
