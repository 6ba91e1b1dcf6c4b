"""nn.functional: activations (entries in ops/nn_activation.py; composites as torch builds them)."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..ops import nn_activation as A
from ..ops._inplace import apply_inplace
from ..ops._registry import FUNCTIONS, METHODS, dispatch

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "elu", "elu_", "selu",
           "selu_", "celu", "celu_", "gelu", "silu", "mish", "hardtanh", "hardtanh_", "hardsigmoid", "hardswish",
           "softplus", "softsign", "softmax", "log_softmax", "softmin", "threshold", "threshold_", "glu", "logsigmoid",
           "tanhshrink", "softshrink", "hardshrink", "sigmoid", "tanh"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _run(op: Any, args: tuple, inplace: bool) -> Any:
    return apply_inplace(op, args) if inplace else dispatch(op, args)


def relu(input: Any, inplace: bool = False) -> Any:
    """max(x, 0)."""
    return METHODS["relu_"](input) if inplace else FUNCTIONS["relu"](input)


def relu_(input: Any) -> Any:
    """In-place relu."""
    return METHODS["relu_"](input)


def hardtanh(input: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Any:
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _run(A.HARDTANH, (input, min_val, max_val), inplace)


def hardtanh_(input: Any, min_val: float = -1.0, max_val: float = 1.0) -> Any:
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Any, inplace: bool = False) -> Any:
    """min(max(x, 0), 6) (hardtanh(0, 6), as torch computes it)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Any:
    """x for x > 0, negative_slope * x otherwise."""
    return _run(A.LEAKY_RELU_ if inplace else A.LEAKY_RELU, (input, negative_slope), inplace)


def leaky_relu_(input: Any, negative_slope: float = 0.01) -> Any:
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, True)


def prelu(input: Any, weight: Any) -> Any:
    """leaky_relu with a learned slope per channel (dim 1) or one shared slope."""
    if weight.numel() != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() >= 2 else 1
        if weight.numel() != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{weight.numel()} and channel size = {channels}.")
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    if input.dim() >= 2 and weight.numel() != 1:
        weight = weight.reshape((-1,) + (1,) * (input.dim() - 2))
    return dispatch(A.PRELU, (input, weight))


def rrelu(input: Any, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Any:
    """Randomized leaky relu: slopes drawn from U(lower, upper) in training, (lower + upper) / 2 otherwise."""
    from .._vmap_state import VM
    if VM.active:  # torch's vmap has no rule for rrelu, whatever the randomness or the mode
        raise RuntimeError(f"vmap: we do not yet support aten::rrelu{'_' if inplace else ''}. Please file an issue")
    noise = _rrelu_noise(input, lower, upper) if training else _empty_noise(input)
    return _run(A.RRELU_ if inplace else A.RRELU, (input, noise, lower, upper, training), inplace)


def _rrelu_noise(input: Any, lower: float, upper: float) -> Any:
    """Slopes for rrelu in training, drawn as torch's CPU kernel does: one double from U(lower, upper) per
    non-positive element in row-major order, rounded to the compute type; 1 elsewhere."""
    from ..random import default_generator
    from ..ops import _registry as R
    a = input._data
    compute = np.float64 if a.dtype == np.float64 else np.float32
    lo, hi = float(compute(lower)), float(compute(upper))
    neg = a <= 0
    u = default_generator._unit_float64(int(neg.sum()))
    noise = np.ones(a.shape, a.dtype)
    noise[neg] = (u * (hi - lo) + lo).astype(compute).astype(a.dtype)  # two roundings, as torch here
    return R._make(noise, False, None, 0)


def _empty_noise(input: Any) -> Any:
    from ..ops import _registry as R
    return R._make(np.zeros(input._data.shape, input._data.dtype), False, None, 0)


def rrelu_(input: Any, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Any:
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, True)


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _run(A.ELU_ if inplace else A.ELU, (input, alpha, 1.0, 1.0), inplace)


def elu_(input: Any, alpha: float = 1.0) -> Any:
    """In-place elu."""
    return elu(input, alpha, True)


def selu(input: Any, inplace: bool = False) -> Any:
    """scale * elu(x, alpha) with the self-normalizing constants."""
    return _run(A.ELU_ if inplace else A.ELU, (input, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def selu_(input: Any) -> Any:
    """In-place selu."""
    return selu(input, True)


def celu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Any:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return _run(A.CELU_ if inplace else A.CELU, (input, alpha), inplace)


def celu_(input: Any, alpha: float = 1.0) -> Any:
    """In-place celu."""
    return celu(input, alpha, True)


def gelu(input: Any, approximate: str = "none") -> Any:
    """x * Phi(x), or its tanh approximation."""
    return dispatch(A.GELU, (input, approximate))


def silu(input: Any, inplace: bool = False) -> Any:
    """x * sigmoid(x)."""
    return _run(A.SILU, (input,), inplace)


def mish(input: Any, inplace: bool = False) -> Any:
    """x * tanh(softplus(x))."""
    return _run(A.MISH, (input,), inplace)


def hardsigmoid(input: Any, inplace: bool = False) -> Any:
    """relu6(x + 3) / 6."""
    return _run(A.HARDSIGMOID, (input,), inplace)


def hardswish(input: Any, inplace: bool = False) -> Any:
    """x * relu6(x + 3) / 6."""
    return _run(A.HARDSWISH, (input,), inplace)


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + exp(beta * x)) / beta, linear above threshold."""
    return dispatch(A.SOFTPLUS, (input, beta, threshold))


def softsign(input: Any) -> Any:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Any) -> Any:
    """x - tanh(x)."""
    return input - input.tanh()


def threshold(input: Any, threshold: float, value: float, inplace: bool = False) -> Any:
    """x where x > threshold, else value."""
    return _run(A.THRESHOLD_ if inplace else A.THRESHOLD, (input, threshold, value), inplace)


def threshold_(input: Any, threshold: float, value: float) -> Any:
    """In-place threshold."""
    return _run(A.THRESHOLD_, (input, threshold, value), True)


def glu(input: Any, dim: int = -1) -> Any:
    """a * sigmoid(b) for the two halves a, b of input along dim."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    return dispatch(A.GLU, (input, dim))


def logsigmoid(input: Any) -> Any:
    """log(sigmoid(x)), computed stably."""
    return dispatch(A.LOG_SIGMOID, (input,))


def softshrink(input: Any, lambd: float = 0.5) -> Any:
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return dispatch(A.SOFTSHRINK, (input, lambd))


def hardshrink(input: Any, lambd: float = 0.5) -> Any:
    """x where |x| > lambd, else 0."""
    return dispatch(A.HARDSHRINK, (input, lambd))


def sigmoid(input: Any) -> Any:
    """1 / (1 + exp(-x))."""
    return FUNCTIONS["sigmoid"](input)


def tanh(input: Any) -> Any:
    """Hyperbolic tangent."""
    return FUNCTIONS["tanh"](input)


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    # stacklevel counts from this frame: 3 (the default _stacklevel) names the caller of softmax
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  "an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Any, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    """exp(x) / sum(exp(x)) along dim."""
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return FUNCTIONS["softmax"](input, dim, dtype=dtype)


def log_softmax(input: Any, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    """log(softmax(x)) along dim, computed stably."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return FUNCTIONS["log_softmax"](input, dim, dtype=dtype)


def softmin(input: Any, dim: Any = None, _stacklevel: int = 3, dtype: Any = None) -> Any:
    """softmax(-x) along dim."""
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    return FUNCTIONS["softmax"](-input, dim, dtype=dtype)
