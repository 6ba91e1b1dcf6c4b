"""nn.functional: losses (fused entries in ops/nn_loss.py; the rest composed as torch composes them)."""
from __future__ import annotations

import math
import warnings
from typing import Any

from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..ops import nn_loss as L
from ..ops._nn_args import MEAN, NONE, SUM, reduction_enum
from ..ops._registry import FUNCTIONS, dispatch
from ..ops.arithmetic import DIV_SCALAR

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "kl_div", "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
           "poisson_nll_loss", "gaussian_nll_loss", "soft_margin_loss", "hinge_embedding_loss", "multi_margin_loss",
           "multilabel_margin_loss", "multilabel_soft_margin_loss", "triplet_margin_with_distance_loss"]


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is None and reduce is None:  # the common case, without the import
        return reduction
    from .functional import _legacy_reduction
    return _legacy_reduction(size_average, reduce, reduction)


def _apply(loss: Any, reduction: str) -> Any:
    r = reduction_enum(reduction)
    if r == MEAN:
        return loss.mean()
    if r == SUM:
        return loss.sum()
    return loss


def _warn_size(input: Any, target: Any) -> None:
    if target._data.shape != input._data.shape:
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=3)


def _tg() -> Any:
    import tapegrad
    return tapegrad


def _broadcast(input: Any, target: Any) -> tuple:
    if input._data.shape == target._data.shape:
        return input, target
    shape = _tg().broadcast_shapes(input.shape, target.shape)
    return input.expand(shape), target.expand(shape)


def mse_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
             weight: Any = None) -> Any:
    """Mean squared error."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    r = reduction_enum(reduction)
    if weight is not None:
        raise NotImplementedError("mse_loss with weight is not implemented in tapegrad")
    input, target = _broadcast(input, target)
    return dispatch(L.MSE_LOSS, (input, target, r))


def l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
            weight: Any = None) -> Any:
    """Mean absolute error."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    reduction_enum(reduction)
    input, target = _broadcast(input, target)
    return _apply((input - target).abs(), reduction)


def smooth_l1_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                   beta: float = 1.0) -> Any:
    """Quadratic below beta, absolute above (scaled by 1/beta)."""
    _warn_size(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    input, target = _broadcast(input, target)
    return dispatch(L.SMOOTH_L1_LOSS, (input, target, reduction_enum(reduction), beta))


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None) -> Any:
    """Quadratic below delta, delta * (|d| - delta / 2) above."""
    _warn_size(input, target)
    input, target = _broadcast(input, target)
    return dispatch(L.HUBER_LOSS, (input, target, reduction_enum(reduction), delta))


def nll_loss(input: Any, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
             reduce: Any = None, reduction: str = "mean") -> Any:
    """Negative log likelihood of class indices under log-probabilities (class dim 1)."""
    reduction = _reduction(size_average, reduce, reduction)
    r = reduction_enum(reduction)
    dim = input.dim()
    if dim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {dim})")
    if dim != 1 and input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0]}).")
    if dim <= 2:
        return dispatch(L.NLL_LOSS, (input, target, weight, r, ignore_index))
    if dim == 4:
        return dispatch(L.NLL_LOSS2D, (input, target, weight, r, ignore_index))
    n, c = input.shape[:2]
    expected = (n,) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size [{', '.join(map(str, expected))}], got "
                           f"[{', '.join(map(str, target.shape))}]")
    if input.numel() > 0:
        input = input.contiguous().view(n, c, 1, -1)
        target = target.contiguous().view(n, 1, -1)
    out = dispatch(L.NLL_LOSS2D, (input, target, weight, r, ignore_index))
    return out.view(expected) if r == NONE and input.numel() > 0 else out


def cross_entropy(input: Any, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
                  reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    """Cross entropy of logits against class indices or class probabilities (log_softmax + nll_loss)."""
    reduction = _reduction(size_average, reduce, reduction)
    r = reduction_enum(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    if input.shape == target.shape and target.is_floating_point():
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probs(input, target, weight, r, label_smoothing, class_dim, n_classes)
    if target.is_floating_point() and target.dim() > (0 if input.dim() == 1 else 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    L.check_class_target(target._data)
    logp = FUNCTIONS["log_softmax"](input, class_dim)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing <= 0:
        return nll
    if weight is not None:
        shape = [1] * input.dim()
        shape[class_dim] = n_classes
        smooth = -(logp * weight.view(shape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    ignore = target == ignore_index
    smooth = smooth.masked_fill(ignore, 0.0)
    if r == MEAN:
        if weight is not None:
            ret = smooth.sum() / weight.gather(0, target.masked_select(~ignore).flatten()).sum()
        else:
            ret = smooth.sum() / (~ignore).sum()
    elif r == SUM:
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - label_smoothing) + ret * (label_smoothing / n_classes)


def _cross_entropy_probs(input: Any, target: Any, weight: Any, r: int, label_smoothing: float, class_dim: int,
                         n_classes: int) -> Any:
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: [{', '.join(map(str, weight.shape))}]")
    logp = FUNCTIONS["log_softmax"](input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:
        shape = [1] * input.dim()
        shape[class_dim] = n_classes
        prod = prod * weight.view(shape)
    if r == MEAN:
        if input.numel() == 0:
            return -prod.sum() * float("nan")
        return dispatch(DIV_SCALAR, (-prod.sum(), input.numel() // n_classes))
    if r == SUM:
        return -prod.sum()
    return -prod.sum(class_dim)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Any:
    """Binary cross entropy between probabilities and targets."""
    reduction = _reduction(size_average, reduce, reduction)
    r = reduction_enum(reduction)
    if target.size() != input.size():
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")
    if weight is not None:
        weight = weight.expand(_tg().broadcast_shapes(target.shape, weight.shape))
    return dispatch(L.BCE, (input, target, weight, r))


def kl_div(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Any:
    """Kullback-Leibler divergence of target from input (input holds log-probabilities)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      UserWarning, stacklevel=2)
    enum_name = "sum" if reduction == "batchmean" else reduction
    reduction_enum(enum_name)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = FUNCTIONS["xlogy"](target, target) - target * input
    out = _apply(loss, enum_name)
    if reduction == "batchmean" and input.dim() != 0:
        out = out / input.size()[0]
    return out


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0, size_average: Any = None,
                          reduce: Any = None, reduction: str = "mean") -> Any:
    """1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for target -1."""
    reduction = _reduction(size_average, reduce, reduction)
    dim = input1.dim()
    if dim not in (1, 2):
        raise RuntimeError(f"cosine_embedding_loss(): expected 1D or 2D input, got {dim}D")
    targ_dim = dim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(targ_dim)
    mag1 = (input1 * input1).sum(targ_dim) + eps
    mag2 = (input2 * input2).sum(targ_dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    zeros = _tg().zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min(0)
    where = FUNCTIONS["where"]
    out = where(target == 1, pos, zeros) + where(target == -1, neg, zeros)
    return _apply(out, reduction)


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0, size_average: Any = None,
                        reduce: Any = None, reduction: str = "mean") -> Any:
    """max(0, -target * (x1 - x2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _apply((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Any:
    """max(d(a, p) - d(a, n) + margin, 0) with pairwise distances."""
    from ._functional_misc import pairwise_distance
    reduction = _reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = FUNCTIONS["min"](d_neg, pairwise_distance(positive, negative, p, eps))
    return _apply((d_pos - d_neg + margin).clamp_min(0), reduction)


def poisson_nll_loss(input: Any, target: Any, log_input: bool = True, full: bool = False, size_average: Any = None,
                     eps: float = 1e-8, reduce: Any = None, reduction: str = "mean") -> Any:
    """Negative log likelihood of target under Poisson(input) (input as log-rate when log_input)."""
    reduction = _reduction(size_average, reduce, reduction)
    reduction_enum(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _apply(loss, reduction)


def gaussian_nll_loss(input: Any, target: Any, var: Any, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Any:
    """Negative log likelihood of target under Normal(input, var)."""
    if isinstance(var, (int, float)):
        var = _tg().full_like(input, float(var))
    if var.size() != input.size():
        if input.size()[:-1] == var.size():
            var = var.unsqueeze(-1)
        elif not (input.size()[:-1] == var.size()[:-1] and var.size(-1) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = ((input - target) ** 2 / var + var.log()) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply(loss, reduction)


def soft_margin_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Any:
    """log(1 + exp(-target * input))."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.requires_grad and is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect to argument 'target'. "
                           "This input cannot have requires_grad True.")
    return dispatch(L.SOFT_MARGIN_LOSS, (input, target, reduction_enum(reduction)))


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0, size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Any:
    """x for target 1, max(0, margin - x) for target -1."""
    reduction = _reduction(size_average, reduce, reduction)
    where = FUNCTIONS["where"]
    zeros = _tg().zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    out = where(target == 1, zeros, margin_clamp) + where(target != -1, input, zeros)
    return _apply(out, reduction)


def multi_margin_loss(input: Any, target: Any, p: int = 1, margin: float = 1.0, weight: Any = None,
                      size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Any:
    """Multi-class hinge loss: sum over j != y of max(0, margin - x[y] + x[j])^p (times weight[y]) / C."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None:
        if weight.dim() != 1:
            raise ValueError("weight must be one-dimensional")
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError("The function 'multi_margin_loss' is not differentiable with respect to argument "
                               "'weight'. This input cannot have requires_grad True.")
    return dispatch(L.MULTI_MARGIN_LOSS, (input, target, p, margin, weight, reduction_enum(reduction)))


def multilabel_margin_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Any:
    """Hinge loss between each target class (listed before the first -1) and each other class, over C."""
    reduction = _reduction(size_average, reduce, reduction)
    return dispatch(L.MULTILABEL_MARGIN_LOSS, (input, target, reduction_enum(reduction)))


def multilabel_soft_margin_loss(input: Any, target: Any, weight: Any = None, size_average: Any = None,
                                reduce: Any = None, reduction: str = "mean") -> Any:
    """Per-class binary cross entropy with logits, averaged over the classes (the last dim)."""
    from ._functional_activation import logsigmoid
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


def triplet_margin_with_distance_loss(anchor: Any, positive: Any, negative: Any, *, distance_function: Any = None,
                                      margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Any:
    """max(d(a, p) - d(a, n) + margin, 0) with any distance function (pairwise_distance by default)."""
    from ._functional_misc import pairwise_distance
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D "
                           "inputs")
    distance = distance_function if distance_function is not None else pairwise_distance
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = FUNCTIONS["minimum"](d_neg, distance(positive, negative))
    loss = FUNCTIONS["clamp_min"](margin + d_pos - d_neg, 0)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")
