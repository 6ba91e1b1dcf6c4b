"""Activation functions with grad_fn names of their own (torch's aten signatures).

Composites torch builds from other ops (softsign, tanhshrink, softmin, relu6 = hardtanh(0, 6),
selu = elu with fixed constants) are written in nn.functional.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._registry import defop, dispatch
from ._samples import Sample, arr, away, unary
from ..autograd.grad_mode import _state
from .comparison import where
from .nn_activation_backward import (HARDSHRINK_BACKWARD, SOFTSHRINK_BACKWARD, elu_backward, gelu_backward, glu_backward,
                                     hardsigmoid_backward, hardswish_backward, log_sigmoid_backward, mish_backward,
                                     shrink_backward, silu_backward)
from .pointwise import _zeros_of, threshold_backward

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _act(name: str, forward: Any, node: str, grads: dict, samples: Any = None) -> Any:
    return defop(name, forward, node=node, method=False, function=False, promote="float", grads=grads,
                 samples=samples or unary(away),
                 jvps=None if name == "glu" else {"self": "pointwise"})  # glu is not elementwise


def _as(x: np.ndarray, out: Any) -> np.ndarray:
    return np.asarray(out).astype(x.dtype, copy=False)


HARDTANH = _act("hardtanh", lambda self, min_val=-1.0, max_val=1.0: _as(self, np.clip(self, min_val, max_val)),
                "HardtanhBackward0",
                {"self": lambda grad, self, min_val, max_val: hardtanh_backward(grad, self, min_val, max_val)},
                samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 0.0, 6.0 * 0.37 + 0.1),
                                      Sample(away()), Sample(away(0, 2))]))

# Note [Activation backward ops]: as relu/tanh/sigmoid (Note [Fused activation backwards] in
# pointwise.py), leaky_relu, hardtanh and softplus are differentiated by one op each, torch's
# `<name>_backward`: double backward then shows torch's grad_fn name, and the gradient stays
# attached to `self` (requires_grad) even where its derivative in `self` is zero.
LEAKY_RELU_BACKWARD = defop(
    "leaky_relu_backward",
    lambda grad_output, self, negative_slope, self_is_result: np.where(self > 0, grad_output,
                                                                       grad_output * negative_slope)
    .astype(grad_output.dtype, copy=False),
    node="LeakyReluBackwardBackward0", promote="common", method=False, function=False,
    inputs=("grad_output", "self"), tensors=("grad_output", "self"),
    grads={"grad_output": lambda grad, self, negative_slope: leaky_relu_backward(grad, self, negative_slope),
           "self": lambda grad: _zeros_of(grad)},
    samples=lambda: iter([Sample(arr(3, 4), away(3, 4), 0.01, False), Sample(arr(5), away(5), 0.2, False)]),
    jvps={"grad_output": "pointwise", "self": "pointwise"})


def leaky_relu_backward(grad_output: Any, self: Any, negative_slope: float) -> Any:
    return dispatch(LEAKY_RELU_BACKWARD, (grad_output, self, negative_slope, False))


HARDTANH_BACKWARD = defop(
    "hardtanh_backward",
    lambda grad_output, self, min_val, max_val: np.where((self > min_val) & (self < max_val), grad_output,
                                                         grad_output.dtype.type(0)),
    node="HardtanhBackwardBackward0", promote="common", method=False, function=False,
    inputs=("grad_output", "self"), tensors=("grad_output", "self"),
    grads={"grad_output": lambda grad, self, min_val, max_val: hardtanh_backward(grad, self, min_val, max_val),
           "self": lambda grad: _zeros_of(grad)},
    samples=lambda: iter([Sample(arr(3, 4), away(3, 4), -1.0, 1.0), Sample(arr(5), away(5), 0.0, 0.6)]),
    jvps={"grad_output": "pointwise", "self": "pointwise"})


def hardtanh_backward(grad_output: Any, self: Any, min_val: float, max_val: float) -> Any:
    return dispatch(HARDTANH_BACKWARD, (grad_output, self, min_val, max_val))


def _softplus_backward(grad_output, self, beta, threshold):
    z = self * beta
    return np.where(z > threshold, grad_output, grad_output * _sigmoid_array(z)).astype(grad_output.dtype, copy=False)


def _softplus_double_backward(grad, grad_output, self, beta, threshold):
    z = self * beta
    s = z.sigmoid()
    return where(z > threshold, grad * 0, grad * grad_output * s * (1 - s) * beta)


SOFTPLUS_BACKWARD = defop(
    "softplus_backward", _softplus_backward, node="SoftplusBackwardBackward0", promote="common", method=False,
    function=False, inputs=("grad_output", "self"), tensors=("grad_output", "self"),
    grads={"grad_output": lambda grad, self, beta, threshold: softplus_backward(grad, self, beta, threshold),
           "self": _softplus_double_backward},
    samples=lambda: iter([Sample(arr(3, 4), arr(3, 4), 1.0, 20.0), Sample(arr(5), arr(5) * 5, 2.0, 3.0)]),
    jvps={"grad_output": "pointwise", "self": "pointwise"})


def softplus_backward(grad_output: Any, self: Any, beta: float, threshold: float) -> Any:
    return dispatch(SOFTPLUS_BACKWARD, (grad_output, self, beta, threshold))


LEAKY_RELU = _act("leaky_relu", lambda self, negative_slope=0.01: _as(self, np.where(self > 0, self,
                                                                                     self * negative_slope)),
                  "LeakyReluBackward0",
                  {"self": lambda grad, self, negative_slope: leaky_relu_backward(grad, self, negative_slope)},
                  samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 0.2), Sample(away()), Sample(away(0))]))


def _prelu(self, weight):
    return _as(self, np.where(self > 0, self, weight * self))


PRELU = defop("_prelu_kernel", _prelu, node="PreluKernelBackward0", method=False, function=False, promote="common",
              grads={"self": lambda grad, self, weight: where(self > 0, grad, grad * weight),
                     "weight": lambda grad, self: where(self > 0, grad * 0, grad * self)},
              samples=lambda: iter([Sample(away(3, 4), arr(1)), Sample(away(2, 3, 2), arr(3, 1)),
                                    Sample(away(5), arr(5))]))


def _elu(self, alpha=1.0, scale=1.0, input_scale=1.0):
    with np.errstate(over="ignore"):
        neg = alpha * np.expm1(np.minimum(self, 0) * input_scale)
    return _as(self, scale * np.where(self > 0, self, neg))


ELU = _act("elu", _elu, "EluBackward0",
           {"self": lambda grad, self, alpha, scale, input_scale: elu_backward(grad, alpha, scale, input_scale, False,
                                                                              self)},
           samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 0.5, 1.2, 0.8), Sample(away()),
                                 Sample(away(0, 2))]))


def _celu(self, alpha=1.0):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu(self, alpha, 1.0, 1.0 / alpha)


CELU = _act("celu", _celu, "CeluBackward0",
            {"self": lambda grad, self, alpha: elu_backward(grad, alpha, 1.0, 1.0 / alpha, False, self)},
            samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 0.7), Sample(away())]))


def _erf_array(x: np.ndarray) -> np.ndarray:
    from . import _special_functions as sf  # guarded SciPy, NumPy fallback
    return sf.erf(x)


def _gelu(self, approximate="none"):
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (self + _GELU_C * self ** 3)
        return _as(self, 0.5 * self * (1 + np.tanh(inner)))
    if approximate != "none":
        raise RuntimeError(f"approximate argument must be either none or tanh.")
    return _as(self, 0.5 * self * (1 + _erf_array(self / math.sqrt(2.0))))


GELU = _act("gelu", _gelu, "GeluBackward0",
            {"self": lambda grad, self, approximate: gelu_backward(grad, self, approximate)},
            samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(5), approximate="tanh"), Sample(arr()),
                                  Sample(arr(0, 2))]))


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _silu_grad(grad, self):
    # torch: silu_backward under a plain backward, a composite (MulBackward0) when grad mode is on
    if not _state.enabled:
        return silu_backward(grad, self)
    s = self.sigmoid()
    return grad * (s * (self * (1 - s) + 1))


SILU = _act("silu", lambda self: _as(self, self * _sigmoid_array(self)), "SiluBackward0", {"self": _silu_grad},
            samples=unary())


def _softplus_array(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _mish_grad(grad, self):
    # as silu: mish_backward under a plain backward, a composite when grad mode is on
    if not _state.enabled:
        return mish_backward(grad, self)
    tsp = _softplus_t(self).tanh()
    return grad * (tsp + self * self.sigmoid() * (1 - tsp * tsp))


def _softplus_t(x: Any) -> Any:
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


MISH = _act("mish", lambda self: _as(self, self * np.tanh(_softplus_array(self))), "MishBackward0",
            {"self": _mish_grad}, samples=unary())

# torch's backward multiplies by the float32 constant 1/6, also in float64
_ONE_SIXTH_F32 = float(np.float32(1.0 / 6.0))


def _hardsigmoid_grad(grad, self):
    # hardsigmoid_backward has no derivative in torch (its create_graph gradient records NotImplemented);
    # tapegrad runs the fused op under a plain backward only and keeps a differentiable composite otherwise
    if not _state.enabled:
        return hardsigmoid_backward(grad, self)
    return grad * ((self > -3) & (self < 3)) * _ONE_SIXTH_F32


HARDSIGMOID = _act("hardsigmoid", lambda self: _as(self, np.clip(self + 3, 0, 6) / 6), "HardsigmoidBackward0",
                   {"self": _hardsigmoid_grad})


HARDSWISH = _act("hardswish", lambda self: _as(self, self * np.clip(self + 3, 0, 6) / 6), "HardswishBackward0",
                 {"self": lambda grad, self: hardswish_backward(grad, self)})


def _softplus(self, beta=1.0, threshold=20.0):
    z = self * beta
    with np.errstate(over="ignore"):
        soft = _softplus_array(z) / beta
    return _as(self, np.where(z > threshold, self, soft))


SOFTPLUS = _act("softplus", _softplus, "SoftplusBackward0",
                {"self": lambda grad, self, beta, threshold: softplus_backward(grad, self, beta, threshold)},
                samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(5) * 5, 2.0, 3.0), Sample(arr()),
                                      Sample(arr(0, 2))]))

THRESHOLD = _act("threshold", lambda self, threshold, value: _as(self, np.where(self > threshold, self, value)),
                 "ThresholdBackward0", {"self": lambda grad, self, threshold: threshold_backward(grad, self, threshold)},
                 samples=lambda: iter([Sample(away(3, 4), 0.1, 2.0), Sample(away(5), -0.5, 0.0),
                                       Sample(away(), 0.1, -1.0)]))


def _glu(self, dim=-1):
    if self.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = dim % self.ndim
    n = self.shape[axis]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {n}")
    a, b = np.split(self, 2, axis=axis)
    return _as(self, a * _sigmoid_array(b))


GLU = _act("glu", _glu, "GluBackward0", {"self": lambda grad, self, dim: glu_backward(grad, self, dim)},
           samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(4, 3), 0), Sample(arr(2))]))

LOG_SIGMOID = _act("log_sigmoid", lambda self: _as(self, -_softplus_array(-self)), "LogSigmoidBackward0",
                   {"self": lambda grad, self: log_sigmoid_backward(grad, self)}, samples=unary())

SOFTSHRINK = _act("softshrink", lambda self, lambd=0.5: _as(self, np.where(self > lambd, self - lambd,
                                                                         np.where(self < -lambd, self + lambd, 0))),
                  "SoftshrinkBackward0", {"self": lambda grad, self, lambd: shrink_backward(SOFTSHRINK_BACKWARD, grad, self,
                                                                                          lambd)},
                  samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 1.0), Sample(away())]))

HARDSHRINK = _act("hardshrink", lambda self, lambd=0.5: _as(self, np.where(np.abs(self) > lambd, self, 0)),
                  "HardshrinkBackward0", {"self": lambda grad, self, lambd: shrink_backward(HARDSHRINK_BACKWARD, grad, self,
                                                                                          lambd)},
                  samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 1.0), Sample(away())]))


# In-place variants whose backward reads the result (the input is overwritten): torch's *Backward1 nodes.
LEAKY_RELU_ = defop("_leaky_relu_inplace", LEAKY_RELU.forward, node="LeakyReluBackward1", method=False, function=False,
                    promote="float",
                    grads={"self": lambda grad, result, negative_slope: where(result > 0, grad, grad * negative_slope)},
                    samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 0.2)]))


def _elu_result_grad(grad, result, alpha, scale, input_scale):
    return where(result > 0, grad * scale, grad * ((result + alpha * scale) * input_scale))


ELU_ = defop("_elu_inplace", _elu, node="EluBackward1", method=False, function=False, promote="float",
             grads={"self": _elu_result_grad},
             samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 0.5, 1.2, 0.8)]))


CELU_ = defop("_celu_inplace", _celu, node="CeluBackward1", method=False, function=False, promote="float",
              grads={"self": lambda grad, result, alpha: _elu_result_grad(grad, result, alpha, 1.0, 1.0 / alpha)},
              samples=lambda: iter([Sample(away(3, 4)), Sample(away(5), 0.7)]))

# threshold_ saves the input as it was before the write (ThresholdBackward1 saves `self`)
THRESHOLD_ = defop("_threshold_inplace", THRESHOLD.forward, node="ThresholdBackward1", method=False, function=False,
                   promote="float", grads={"self": lambda grad, self, threshold: grad * (self > threshold)},
                   samples=lambda: iter([Sample(away(3, 4), 0.1, 2.0), Sample(away(), -0.2, 0.5)]))


# --- rrelu: leaky relu whose negative slopes are drawn (training) or fixed at (lower + upper) / 2
def _rrelu(self, noise, lower=1.0 / 8, upper=1.0 / 3, training=False):
    if training:
        return _as(self, self * noise)
    return _as(self, np.where(self > 0, self, self * ((lower + upper) / 2)))


def _rrelu_grad(grad, self, noise, lower, upper, training):
    if training and upper - lower > 1e-6:
        return grad * noise
    return where(self > 0, grad, grad * ((lower + upper) / 2))


def _rrelu_result_grad(grad, result, noise, lower, upper, training):
    return _rrelu_grad(grad, result, noise, lower, upper, training)


def _rrelu_samples():
    yield Sample(away(3, 4), arr(3, 4))
    yield Sample(away(5), arr(5), 0.2, 0.4)
    yield Sample(away(), arr())


# the noise (slopes drawn by nn.functional.rrelu, 1 where the input is positive) is an input, as in aten
RRELU = defop("rrelu_with_noise", _rrelu, node="RreluWithNoiseBackward0", method=False, function=False,
              promote="float", inputs=("self",), tensors=("self", "noise"), promote_on=("self",),
              grads={"self": _rrelu_grad}, samples=_rrelu_samples)
RRELU_ = defop("_rrelu_with_noise_inplace", _rrelu, node="RreluWithNoiseBackward1", method=False, function=False,
               promote="float", inputs=("self",), tensors=("self", "noise"), promote_on=("self",),
               grads={"self": _rrelu_result_grad}, samples=_rrelu_samples)
