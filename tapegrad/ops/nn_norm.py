"""Normalization layers' functions: batch_norm (running statistics), layer_norm, group_norm.

Each is one entry with torch's public signature (`torch.batch_norm`, `torch.layer_norm`,
`torch.group_norm`) and grad_fn name. The forward is fused NumPy. The input gradient is the
closed form rstd * (g' - mean(g') - xhat * mean(g' * xhat)) with g' = grad * weight, written
with tapegrad ops that recompute mean and rstd from the input, so create_graph differentiates
the exact function again (the saved statistics would be constants to a second derivative).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._registry import defop
from ._samples import Sample, arr, pos


def _stats_arrays(x: np.ndarray, axes: tuple, eps: float) -> tuple:
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    return xc, 1.0 / np.sqrt(var + eps), mean, var


def _stats(x: Any, axes: list, eps: float) -> tuple:
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    rstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    return xc, rstd


def normalized_input_grad(g: Any, x: Any, axes: list, eps: float, scale: Any) -> Any:
    """Gradient through (x - mean) * rstd (statistics over `axes`), then times `scale` (or 1)."""
    xc, rstd = _stats(x, axes, eps)
    xhat = xc * rstd
    gh = g if scale is None else g * scale
    return rstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))


def _channel_view(t: Any, ndim: int) -> Any:
    return t.reshape((-1,) + (1,) * (ndim - 2))


# ---------------------------------------------------------------------------------------
# batch norm

def _batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    x = input
    c = x.shape[1] if x.ndim > 1 else 1
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.size != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.size}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(f"running_{'mean' if running_mean is None else 'var'} must be defined in evaluation mode")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    if training or running_mean is None:
        xc, rstd, mean, var = _stats_arrays(x, axes, eps)
        if training and running_mean is not None:
            n = x.size // c
            np.multiply(running_mean, 1 - momentum, out=running_mean)
            running_mean += (momentum * mean.reshape(c)).astype(running_mean.dtype)
            unbiased = var.reshape(c) * (n / (n - 1) if n > 1 else float("nan"))
            np.multiply(running_var, 1 - momentum, out=running_var)
            running_var += (momentum * unbiased).astype(running_var.dtype)
    else:
        xc = x - running_mean.reshape(shape)
        rstd = 1.0 / np.sqrt(running_var.reshape(shape) + eps)
    out = xc * rstd
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out.astype(x.dtype, copy=False)


def _uses_batch_stats(training: bool, running_mean: Any) -> bool:
    return bool(training) or running_mean is None


def _bn_input_grad(grad, input, weight, running_mean, running_var, training, eps):
    scale = None if weight is None else _channel_view(weight, input.ndim)
    axes = [0] + list(range(2, input.ndim))
    if _uses_batch_stats(training, running_mean):
        return normalized_input_grad(grad, input, axes, eps, scale)
    rstd = _channel_view((running_var + eps).rsqrt(), input.ndim)
    return grad * (rstd if scale is None else rstd * scale)


def _bn_xhat(input, running_mean, running_var, training, eps):
    axes = [0] + list(range(2, input.ndim))
    if _uses_batch_stats(training, running_mean):
        xc, rstd = _stats(input, axes, eps)
        return xc * rstd
    return (input - _channel_view(running_mean, input.ndim)) * _channel_view((running_var + eps).rsqrt(),
                                                                           input.ndim)


def _bn_weight_grad(grad, input, running_mean, running_var, training, eps):
    axes = [0] + list(range(2, input.ndim))
    return (grad * _bn_xhat(input, running_mean, running_var, training, eps)).sum(axes)


def _bn_bias_grad(grad):
    return grad.sum([0] + list(range(2, grad.ndim)))


def _bn_samples():
    yield Sample(arr(4, 3), arr(3), arr(3), None, None, True, 0.1, 1e-5, False)
    yield Sample(arr(3, 2, 4), arr(2), arr(2), arr(2), pos(2), True, 0.1, 1e-5, False)
    yield Sample(arr(2, 2, 2, 3), None, None, arr(2), pos(2), False, 0.1, 1e-5, False)
    yield Sample(arr(2, 3, 2), arr(3), None, arr(3), pos(3), False, 0.3, 1e-3, False)
    yield Sample(arr(5, 2), None, arr(2), None, None, True, 0.1, 1e-5, False)


BATCH_NORM = defop(
    "batch_norm", _batch_norm, node="NativeBatchNormBackward0", method=False, promote="common",
    tensors=("input", "weight", "bias", "running_mean", "running_var"), promote_on=("input", "weight", "bias"),
    scalar_edges=True,
    grads={"input": _bn_input_grad, "weight": _bn_weight_grad, "bias": _bn_bias_grad}, samples=_bn_samples)


# ---------------------------------------------------------------------------------------
# layer norm

def _check_layer_norm(x: np.ndarray, normalized_shape: tuple) -> None:
    k = len(normalized_shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape=[{', '.join(map(str, normalized_shape))}], expected input with "
                           f"shape [*, {', '.join(map(str, normalized_shape))}], but got input of size"
                           f"[{', '.join(map(str, x.shape))}]")


def _layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    shape = tuple(normalized_shape)
    _check_layer_norm(input, shape)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    xc, rstd, _, _ = _stats_arrays(input, axes, eps)
    out = xc * rstd
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out.astype(input.dtype, copy=False)


def _ln_axes(ndim: int, normalized_shape: Any) -> list:
    return list(range(ndim - len(tuple(normalized_shape)), ndim))


def _ln_input_grad(grad, input, normalized_shape, weight, eps):
    return normalized_input_grad(grad, input, _ln_axes(input.ndim, normalized_shape), eps, weight)


def _ln_weight_grad(grad, input, normalized_shape, eps):
    xc, rstd = _stats(input, _ln_axes(input.ndim, normalized_shape), eps)
    return grad * (xc * rstd)


LAYER_NORM = defop(
    "layer_norm", _layer_norm, node="NativeLayerNormBackward0", method=False, promote="common", scalar_edges=True,
    tensors=("input", "weight", "bias"),
    grads={"input": _ln_input_grad, "weight": _ln_weight_grad, "bias": lambda grad: grad},
    samples=lambda: iter([Sample(arr(3, 4), (4,), arr(4), arr(4)), Sample(arr(2, 2, 3), (2, 3), arr(2, 3), None),
                          Sample(arr(2, 5), (5,), None, None, 1e-3), Sample(arr(0, 3), (3,), arr(3), arr(3))]))


# ---------------------------------------------------------------------------------------
# group norm

def _group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape [{', '.join(map(str, input.shape))}] and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.size != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape [{', '.join(map(str, t.shape))}] and input of shape "
                               f"[{', '.join(map(str, input.shape))}]")
    xg = input.reshape(n, num_groups, -1) if n else input.reshape(0, num_groups, 0)
    xc, rstd, _, _ = _stats_arrays(xg, (2,), eps)
    out = (xc * rstd).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out.astype(input.dtype, copy=False)


def _grouped(t: Any, num_groups: int) -> Any:
    return t.reshape(t.shape[0], num_groups, math.prod(t.shape[2:]) * (t.shape[1] // num_groups))


def _gn_input_grad(grad, input, num_groups, weight, eps):
    scaled = grad if weight is None else grad * _channel_view(weight, input.ndim)
    gx = normalized_input_grad(_grouped(scaled, num_groups), _grouped(input, num_groups), [2], eps, None)
    return gx.reshape(input.shape)


def _gn_weight_grad(grad, input, num_groups, eps):
    xc, rstd = _stats(_grouped(input, num_groups), [2], eps)
    xhat = (xc * rstd).reshape(input.shape)
    return (grad * xhat).sum([0] + list(range(2, input.ndim)))


GROUP_NORM = defop(
    "group_norm", _group_norm, node="NativeGroupNormBackward0", method=False, promote="common", scalar_edges=True,
    tensors=("input", "weight", "bias"),
    grads={"input": _gn_input_grad, "weight": _gn_weight_grad, "bias": _bn_bias_grad},
    samples=lambda: iter([Sample(arr(2, 4, 3), 2, arr(4), arr(4)), Sample(arr(3, 2), 1, None, None),
                          Sample(arr(2, 3, 2, 2), 3, arr(3), None, 1e-3)]))
