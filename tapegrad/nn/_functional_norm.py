"""nn.functional: batch_norm, instance_norm, layer_norm, group_norm (entries in ops/nn_norm.py); rms_norm and
local_response_norm, composed as torch composes them."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops import nn_norm as N
from ..ops._registry import dispatch
from ..ops.arithmetic import ADD_SCALAR

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm"]


def _verify_batch_size(size: Any) -> None:
    values = size[0] * math.prod(size[2:])
    if values == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def batch_norm(input: Any, running_mean: Any, running_var: Any, weight: Any = None, bias: Any = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Any:
    """Normalize each channel over the batch (and spatial dims); in training, update the running stats."""
    if training:
        _verify_batch_size(input.size())
    return dispatch(N.BATCH_NORM, (input, weight, bias, running_mean, running_var, training, momentum, eps, False))


def instance_norm(input: Any, running_mean: Any = None, running_var: Any = None, weight: Any = None,
                  bias: Any = None, use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5) -> Any:
    """Normalize each channel of each sample (batch_norm over a (1, N*C, ...) view, as torch does)."""
    if use_input_stats:
        spatial = math.prod(input.shape[2:])
        if spatial == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.size()}")
    n, c = input.shape[:2]
    shape = (1, n * c) + tuple(input.shape[2:])
    rm = None if running_mean is None else running_mean.repeat(n)
    rv = None if running_var is None else running_var.repeat(n)
    w = None if weight is None else weight.repeat(n)
    b = None if bias is None else bias.repeat(n)
    out = dispatch(N.BATCH_NORM, (input.contiguous().view(shape), w, b, rm, rv, use_input_stats, momentum, eps,
                                  False))
    if use_input_stats:
        with no_grad():
            if running_mean is not None:
                running_mean.copy_(rm.view(n, c).mean(0))
            if running_var is not None:
                running_var.copy_(rv.view(n, c).mean(0))
    return out.view(input.shape)


def layer_norm(input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """Normalize over the last len(normalized_shape) dims, then scale and shift elementwise."""
    if not isinstance(normalized_shape, (list, tuple)):
        raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    shape = tuple(normalized_shape)
    return dispatch(N.LAYER_NORM, (input, shape, weight, bias, eps, True))


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """Normalize over groups of channels of each sample, then scale and shift per channel."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    _verify_batch_size((input.shape[0] * input.shape[1] // num_groups, num_groups) + tuple(input.shape[2:]))
    return dispatch(N.GROUP_NORM, (input, num_groups, weight, bias, eps, True))


def rms_norm(input: Any, normalized_shape: Any, weight: Any = None, eps: float | None = None) -> Any:
    """x / sqrt(mean(x^2 over the trailing normalized_shape dims) + eps) * weight; eps defaults to the dtype's eps."""
    shape = [int(normalized_shape)] if isinstance(normalized_shape, int) else [int(d) for d in normalized_shape]
    n = len(shape)
    if n == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           f"element, but got normalized_shape = {shape}")
    dims_str = ", ".join(map(str, shape))
    if weight is not None and list(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"[{', '.join(map(str, weight.shape))}] and normalized_shape = [{dims_str}]")
    if input.dim() < n or list(input.shape[input.dim() - n:]) != shape:
        raise RuntimeError(f"Given normalized_shape=[{dims_str}], expected input with shape [*{dims_str}], but got "
                           f"input of size[{', '.join(map(str, input.shape))}]")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.dim() - 1, input.dim() - 1 - n, -1))
    rms = dispatch(ADD_SCALAR, (input.pow(2).mean(dims, keepdim=True), eps)).rsqrt()
    out = input.mul(rms)
    return out if weight is None else out.mul(weight)


def local_response_norm(input: Any, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Any:
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta (torch's composition)."""
    from . import functional as F
    dim = input.dim()
    if dim < 3:
        # torch's message carries the indentation of its source line
        raise ValueError(f"Expected 3D or higher dimensionality{' ' * 26}input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input.mul(input)
    before, after = size // 2, (size - 1) // 2
    if dim == 3:
        sq = F.pad(sq.unsqueeze(1), (0, 0, before, after))
        avg = F.avg_pool2d(sq, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.size()
        # torch pools (size, 1, 1) windows of a 5-d view in 3-d; a 2-d pool of (size, 1) windows over the
        # flattened trailing dims takes the same means
        sq = F.pad(sq.view(sizes[0], 1, sizes[1], -1), (0, 0, before, after))
        avg = F.avg_pool2d(sq, (size, 1), stride=1).squeeze(1).view(sizes)
    return input / avg.mul(alpha).add(k).pow(beta)
