"""Backward ops of the activations, torch's `<name>_backward` (gelu, elu/selu/celu, logsigmoid,
silu, mish, hardswish, softshrink, hardshrink).

Note [Activation backward ops] (the first ones, leaky_relu/hardtanh/softplus, sit in
nn_activation.py; relu/tanh/sigmoid in pointwise.py): the gradient of an activation is one op,
one NumPy pass instead of a chain of dispatches, with formulas of its own written with tapegrad
ops (any order of derivative), so with create_graph the gradient's grad_fn is torch's
(`GeluBackwardBackward0`, `EluBackwardBackward0`...). Each is elementwise: its tangents
('pointwise') and its vmap rule come from that. silu and mish are differentiated by these ops
under a plain backward only: with grad mode on, torch uses a composite formula (the gradient's
grad_fn is `MulBackward0`), and so does tapegrad.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _registry as R
from ._registry import defop, dispatch
from ._samples import Sample, arr, away
from .comparison import where

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_C = 0.044715
_PW = {"grad_output": "pointwise", "self": "pointwise"}


def _backward_op(name: str, forward: Any, node: str, grads: dict, samples: Any, second: str = "self") -> Any:
    return defop(name, forward, node=node, promote="common", method=False, function=False,
                 inputs=("grad_output", second), tensors=("grad_output", second), grads=grads, samples=samples,
                 jvps={"grad_output": "pointwise", second: "pointwise"})


def _pair_samples():
    yield Sample(arr(3, 4), arr(3, 4))
    yield Sample(arr(5), arr(5))
    yield Sample(arr(), arr())
    yield Sample(arr(0, 2), arr(0, 2))


def _sigmoid_array(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _cast(out: Any, like: np.ndarray) -> np.ndarray:
    return np.asarray(out).astype(like.dtype, copy=False)


# ---------------------------------------------------------------------------------------
# gelu

def _gelu_backward(grad_output, self, approximate="none"):
    x = self
    if approximate == "tanh":
        x2 = x * x
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x2 * x))
        d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * _GELU_C * x2))
    else:
        from . import _special_functions as sf  # guarded SciPy, NumPy fallback
        d = 0.5 * (1 + sf.erf(x / math.sqrt(2.0))) + x * (np.exp(-0.5 * x * x) * _INV_SQRT_2PI)
    return _cast(grad_output * d, grad_output)


def _gelu_second(grad, grad_output, self, approximate):
    """grad * grad_output * gelu''(self)."""
    x = self
    if approximate == "tanh":
        x2 = x * x
        t = ((x + x2 * x * _GELU_C) * _SQRT_2_OVER_PI).tanh()
        inner_d = (x2 * (3 * _GELU_C) + 1) * _SQRT_2_OVER_PI
        inner_dd = x * (6 * _GELU_C * _SQRT_2_OVER_PI)
        d2 = (1 - t * t) * (inner_d + x * 0.5 * (inner_dd - t * inner_d * inner_d * 2))
    else:
        d2 = (x * x * -0.5).exp() * _INV_SQRT_2PI * (2 - x * x)
    return grad * grad_output * d2


GELU_BACKWARD = _backward_op(
    "gelu_backward", _gelu_backward, "GeluBackwardBackward0",
    {"grad_output": lambda grad, self, approximate: gelu_backward(grad, self, approximate), "self": _gelu_second},
    lambda: iter([Sample(arr(3, 4), arr(3, 4)), Sample(arr(5), arr(5), approximate="tanh"),
                  Sample(arr(), arr()), Sample(arr(0, 2), arr(0, 2), approximate="tanh")]))


def gelu_backward(grad_output: Any, self: Any, approximate: str = "none") -> Any:
    return dispatch(GELU_BACKWARD, (grad_output, self, approximate))


# ---------------------------------------------------------------------------------------
# elu (selu and celu are elu with other constants)

def _elu_backward(grad_output, alpha, scale, input_scale, is_result, self_or_result):
    x = self_or_result
    if is_result:
        neg = grad_output * (input_scale * (x + alpha * scale))
    else:
        with np.errstate(over="ignore"):
            neg = grad_output * (input_scale * alpha * scale) * np.exp(np.minimum(x, 0) * input_scale)
    return _cast(np.where(x <= 0, neg, grad_output * scale), grad_output)


def _elu_second(grad, grad_output, alpha, scale, input_scale, is_result, self_or_result):
    x = self_or_result
    if is_result:
        d = grad * grad_output * input_scale
    else:
        d = grad * grad_output * (x.clamp(max=0) * input_scale).exp() * (input_scale * input_scale * alpha * scale)
    return where(x <= 0, d, grad * 0)


def _elu_backward_samples():
    yield Sample(arr(3, 4), 1.0, 1.0, 1.0, False, away(3, 4))
    yield Sample(arr(5), 0.5, 1.2, 0.8, False, away(5))
    yield Sample(arr(2, 3), 1.3, 1.05, 1.0, True, arr(2, 3, low=-1.2, high=2.0))
    yield Sample(arr(), 0.7, 1.0, 1.0 / 0.7, False, away())
    yield Sample(arr(0, 2), 1.0, 1.0, 1.0, False, away(0, 2))


ELU_BACKWARD = _backward_op(
    "elu_backward", _elu_backward, "EluBackwardBackward0",
    {"grad_output": lambda grad, alpha, scale, input_scale, is_result, self_or_result:
        elu_backward(grad, alpha, scale, input_scale, is_result, self_or_result),
     "self_or_result": _elu_second},
    _elu_backward_samples, second="self_or_result")


def elu_backward(grad_output: Any, alpha: float, scale: float, input_scale: float, is_result: bool,
                 self_or_result: Any) -> Any:
    return dispatch(ELU_BACKWARD, (grad_output, alpha, scale, input_scale, is_result, self_or_result))


# ---------------------------------------------------------------------------------------
# logsigmoid: torch's CPU kernel passes a buffer (exp(-|x|)) from the forward; tapegrad, as torch
# on other devices, recomputes from the input and ignores it (its own calls pass None)

def _log_sigmoid_backward(grad_output, self, buffer):
    return _cast(grad_output * _sigmoid_array(-self), grad_output)


def _log_sigmoid_samples():
    for shape in ((3, 4), (5,), (), (0, 2)):
        x = arr(*shape)
        yield Sample(arr(*shape), x, np.asarray(np.exp(-np.abs(x))))


LOG_SIGMOID_BACKWARD = defop(
    "log_sigmoid_backward", _log_sigmoid_backward, node="LogSigmoidBackwardBackward0", promote="common",
    method=False, function=False, inputs=("grad_output", "self"), tensors=("grad_output", "self", "buffer"),
    promote_on=("grad_output", "self"),
    grads={"grad_output": lambda grad, self: log_sigmoid_backward(grad, self),
           "self": lambda grad, grad_output, self: -(grad * grad_output * self.sigmoid() * (-self).sigmoid())},
    samples=_log_sigmoid_samples, jvps=_PW)


def log_sigmoid_backward(grad_output: Any, self: Any) -> Any:
    return dispatch(LOG_SIGMOID_BACKWARD, (grad_output, self, None))


# ---------------------------------------------------------------------------------------
# silu, mish

def _silu_backward(grad_output, self):
    s = _sigmoid_array(self)
    return _cast(grad_output * (s * (1 + self * (1 - s))), grad_output)


def _silu_second(grad, grad_output, self):
    s = self.sigmoid()
    return grad * grad_output * (s * (1 - s)) * (self * (1 - 2 * s) + 2)


SILU_BACKWARD = _backward_op("silu_backward", _silu_backward, "SiluBackwardBackward0",
                             {"grad_output": lambda grad, self: silu_backward(grad, self), "self": _silu_second},
                             _pair_samples)


def silu_backward(grad_output: Any, self: Any) -> Any:
    return dispatch(SILU_BACKWARD, (grad_output, self))


def _softplus_array(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _mish_backward(grad_output, self):
    s = _sigmoid_array(self)
    tsp = np.tanh(_softplus_array(self))
    return _cast(grad_output * (tsp + self * s * (1 - tsp * tsp)), grad_output)


def _softplus_t(x: Any) -> Any:
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


def _mish_second(grad, grad_output, self):
    s = self.sigmoid()
    tsp = _softplus_t(self).tanh()
    return grad * grad_output * (s * (1 - tsp * tsp)) * (self * (1 - s) - self * s * tsp * 2 + 2)


MISH_BACKWARD = _backward_op("mish_backward", _mish_backward, "MishBackwardBackward0",
                             {"grad_output": lambda grad, self: mish_backward(grad, self), "self": _mish_second},
                             _pair_samples)


def mish_backward(grad_output: Any, self: Any) -> Any:
    return dispatch(MISH_BACKWARD, (grad_output, self))


# ---------------------------------------------------------------------------------------
# hardswish

def _hardswish_backward(grad_output, self):
    mid = grad_output * (self / 3 + 0.5)
    return _cast(np.where(self < -3, 0, np.where(self <= 3, mid, grad_output)), grad_output)


def _hardswish_samples():
    yield Sample(arr(3, 4), away(3, 4) * 2.5)
    yield Sample(arr(5), np.array([-4.5, -2.0, 0.3, 2.5, 4.0]))
    yield Sample(arr(), away())
    yield Sample(arr(0, 2), away(0, 2))


HARDSWISH_BACKWARD = _backward_op(
    "hardswish_backward", _hardswish_backward, "HardswishBackwardBackward0",
    {"grad_output": lambda grad, self: hardswish_backward(grad, self),
     "self": lambda grad, grad_output, self: where((self > -3) & (self < 3), grad * grad_output / 3, grad * 0)},
    _hardswish_samples)


def hardswish_backward(grad_output: Any, self: Any) -> Any:
    return dispatch(HARDSWISH_BACKWARD, (grad_output, self))


# ---------------------------------------------------------------------------------------
# hardsigmoid: torch multiplies by the float32 constant 1/6, also in float64

_ONE_SIXTH_F32 = float(np.float32(1.0 / 6.0))


def _hardsigmoid_backward(grad_output, self):
    return _cast(np.where((self > -3) & (self < 3), grad_output * _ONE_SIXTH_F32, 0), grad_output)


HARDSIGMOID_BACKWARD = _backward_op(
    "hardsigmoid_backward", _hardsigmoid_backward, "HardsigmoidBackwardBackward0",
    {"grad_output": lambda grad, self: hardsigmoid_backward(grad, self), "self": lambda grad: grad * 0},
    _hardswish_samples)


def hardsigmoid_backward(grad_output: Any, self: Any) -> Any:
    return dispatch(HARDSIGMOID_BACKWARD, (grad_output, self))


# ---------------------------------------------------------------------------------------
# softshrink / hardshrink: the gradient passes where |x| > lambd

def _shrink_backward(grad_output, self, lambd):
    return np.where(np.abs(self) > lambd, grad_output, grad_output.dtype.type(0))


def _shrink_op(name: str, node: str) -> Any:
    def second(grad: Any) -> Any:  # the mask's derivative is zero
        return R._make(np.zeros(grad._data.shape, grad._data.dtype), False, None, 0)
    op = _backward_op(
        name, _shrink_backward, node,
        {"grad_output": lambda grad, self, lambd: dispatch(op, (grad, self, lambd)), "self": second},
        lambda: iter([Sample(arr(3, 4), away(3, 4), 0.5), Sample(arr(5), away(5), 1.0), Sample(arr(), away(), 0.5),
                      Sample(arr(0, 2), arr(0, 2), 0.5)]))
    return op


SOFTSHRINK_BACKWARD = _shrink_op("softshrink_backward", "SoftshrinkBackwardBackward0")
HARDSHRINK_BACKWARD = _shrink_op("hardshrink_backward", "HardshrinkBackwardBackward0")


def shrink_backward(op: Any, grad_output: Any, self: Any, lambd: float) -> Any:
    return dispatch(op, (grad_output, self, lambd))


# ---------------------------------------------------------------------------------------
# glu: out = a * sigmoid(b) for self = (a, b) halved along dim; the gradient is (g s, g a s (1 - s))

def _glu_backward(grad_output, self, dim):
    axis = dim % self.ndim
    a, b = np.split(self, 2, axis=axis)
    s = _sigmoid_array(b)
    return _cast(np.concatenate([grad_output * s, grad_output * a * s * (1 - s)], axis=axis), self)


def _glu_first(grad, self, dim):
    """The derivative in grad_output of <grad, glu_backward(grad_output, self)> (its adjoint: half the size)."""
    a, b = self.chunk(2, dim)
    gga, ggb = grad.chunk(2, dim)
    s = b.sigmoid()
    return gga * s + ggb * a * s * (1 - s)


def _glu_second(grad, grad_output, self, dim):
    """The derivative in self of <grad, glu_backward(grad_output, self)>."""
    from ._registry import FUNCTIONS
    a, b = self.chunk(2, dim)
    gga, ggb = grad.chunk(2, dim)
    s = b.sigmoid()
    ds = s * (1 - s)
    return FUNCTIONS["cat"]([ggb * grad_output * ds, (gga + ggb * a * (1 - 2 * s)) * grad_output * ds], dim)


def _glu_backward_samples():
    yield Sample(arr(3, 2), arr(3, 4), -1)
    yield Sample(arr(2, 3), arr(4, 3), 0)
    yield Sample(arr(1), arr(2), 0)
    yield Sample(arr(0, 2), arr(0, 4), 1)


GLU_BACKWARD = defop("glu_backward", _glu_backward, node="GluBackwardBackward0", promote="common", method=False,
                     function=False, inputs=("grad_output", "self"), tensors=("grad_output", "self"),
                     grads={"grad_output": _glu_first, "self": _glu_second},
                     samples=_glu_backward_samples,
                     jvps={"grad_output": "linear"})


def glu_backward(grad_output: Any, self: Any, dim: int) -> Any:
    return dispatch(GLU_BACKWARD, (grad_output, self, dim))
