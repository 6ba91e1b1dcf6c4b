"""Pointwise unary math: exp, log, trigonometric, activations... one entry each."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import _registry as R
from ._registry import defop, dispatch
from ._samples import Sample, arr, away, pos, unary


def unary_op(name: str, forward: Callable, node: str, grad: Callable, *, samples: Any = None,
             promote: str = "float", inplace: bool = True, method: Any = True, function: Any = True) -> Any:
    """Declare a one-input pointwise op whose formula is `grad(grad, self, result)`-style."""
    def array_forward(self):
        return forward(self)
    array_forward.__doc__ = f"torch.{name} elementwise."
    return defop(name, array_forward, node=node, promote=promote, grads={"self": grad},
                 inplace=name + "_" if inplace else None, samples=samples or unary(),
                 method=method, function=function, jvps={"self": "pointwise"})


NEG = unary_op("neg", np.negative, "NegBackward0", lambda grad: -grad, promote="none",
               method=("neg", "negative"), function=("neg", "negative"))
EXP = unary_op("exp", np.exp, "ExpBackward0", lambda grad, result: grad * result)
LOG = unary_op("log", np.log, "LogBackward0", lambda grad, self: grad / self, samples=unary(pos))
SQRT = unary_op("sqrt", np.sqrt, "SqrtBackward0", lambda grad, result: grad / (2 * result), samples=unary(pos))


# Note [Fused activation backwards]
# relu, sigmoid and tanh are differentiated by one op each (as torch's threshold_backward,
# sigmoid_backward, tanh_backward), not by a chain of three: one NumPy pass instead of three
# Python dispatches, and the ops have formulas of their own for double backward.
def _zeros_of(t: Any) -> Any:
    return R._make(np.zeros(t._data.shape, t._data.dtype), False, None, 0)


def _tanh_backward(grad_output, output):
    return grad_output * (1 - output * output)


TANH_BACKWARD = defop("tanh_backward", _tanh_backward, node="TanhBackwardBackward0", promote="common", method=False,
                      grads={"grad_output": lambda grad, output: tanh_backward(grad, output),
                             "output": lambda grad, grad_output, output: grad * grad_output * (-2 * output)},
                      samples=lambda: iter([Sample(arr(3, 4), arr(3, 4, low=-0.9, high=0.9)), Sample(arr(), arr())]),
                      jvps={"grad_output": "pointwise", "output": "pointwise"})


def tanh_backward(grad_output: Any, output: Any) -> Any:
    return dispatch(TANH_BACKWARD, (grad_output, output))


TANH = unary_op("tanh", np.tanh, "TanhBackward0", lambda grad, result: tanh_backward(grad, result))


def _sigmoid(x):
    # stable for large |x|: exp of a non-positive number only
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _sigmoid_backward(grad_output, output):
    return grad_output * ((1 - output) * output)


SIGMOID_BACKWARD = defop(
    "sigmoid_backward", _sigmoid_backward, node="SigmoidBackwardBackward0", promote="common", method=False,
    grads={"grad_output": lambda grad, output: sigmoid_backward(grad, output),
           "output": lambda grad, grad_output, output: grad * grad_output * (1 - 2 * output)},
    samples=lambda: iter([Sample(arr(3, 4), arr(3, 4, low=0.05, high=0.95)), Sample(arr(), arr(low=0.1, high=0.9))]),
    jvps={"grad_output": "pointwise", "output": "pointwise"})


def sigmoid_backward(grad_output: Any, output: Any) -> Any:
    return dispatch(SIGMOID_BACKWARD, (grad_output, output))


SIGMOID = unary_op("sigmoid", _sigmoid, "SigmoidBackward0", lambda grad, result: sigmoid_backward(grad, result))


def _threshold_backward(grad_output, self, threshold):
    return np.where(self > threshold, grad_output, grad_output.dtype.type(0))


THRESHOLD_BACKWARD = defop(
    "threshold_backward", _threshold_backward, node="ThresholdBackwardBackward0", promote="common", method=False,
    inputs=("grad_output", "self"), tensors=("grad_output", "self"),
    grads={"grad_output": lambda grad, self, threshold: threshold_backward(grad, self, threshold),
           "self": lambda grad: _zeros_of(grad)},
    samples=lambda: iter([Sample(arr(3, 4), away(3, 4), 0.0), Sample(arr(5), away(5), 0.5)]),
    jvps={"grad_output": "pointwise", "self": "pointwise"})


def threshold_backward(grad_output: Any, self: Any, threshold: float) -> Any:
    return dispatch(THRESHOLD_BACKWARD, (grad_output, self, threshold))


RELU = unary_op("relu", lambda x: np.maximum(x, 0, dtype=x.dtype), "ReluBackward0",
                lambda grad, result: threshold_backward(grad, result, 0), promote="none", samples=unary(away))
ABS = unary_op("abs", np.abs, "AbsBackward0", lambda grad, self: grad * self.sign(), promote="none",
               samples=unary(away), method=("abs", "absolute"), function=("abs", "absolute"))
SIGN = defop("sign", lambda self: np.sign(self), node="SignBackward0", promote="none", inplace="sign_",
             grads={"self": lambda grad: grad * 0}, samples=unary(away),
             jvps={"self": "pointwise"})
RECIPROCAL = unary_op("reciprocal", lambda x: np.reciprocal(x), "ReciprocalBackward0",
                      lambda grad, result: -grad * (result * result), samples=unary(pos))
