"""nn.functional: batch_norm, instance_norm, layer_norm, group_norm (entries in ops/nn_norm.py)."""
from __future__ import annotations

import math
from typing import Any

from ..autograd.grad_mode import no_grad
from ..ops import nn_norm as N
from ..ops._registry import dispatch

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm"]


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
