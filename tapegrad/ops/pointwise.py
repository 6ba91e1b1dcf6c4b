"""Pointwise unary math: exp, log, trigonometric, activations... one entry each."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._registry import defop
from ._samples import arr, away, pos, unary


def unary_op(name: str, forward: Callable, node: str, grad: Callable, *, samples: Any = None,
             promote: str = "float", inplace: bool = True, method: Any = True, function: Any = True) -> Any:
    """Declare a one-input pointwise op whose formula is `grad(grad, self, result)`-style."""
    def array_forward(self):
        return forward(self)
    array_forward.__doc__ = f"torch.{name} elementwise."
    return defop(name, array_forward, node=node, promote=promote, grads={"self": grad},
                 inplace=name + "_" if inplace else None, samples=samples or unary(),
                 method=method, function=function)


NEG = unary_op("neg", np.negative, "NegBackward0", lambda grad: -grad, promote="none",
               method=("neg", "negative"), function=("neg", "negative"))
EXP = unary_op("exp", np.exp, "ExpBackward0", lambda grad, result: grad * result)
LOG = unary_op("log", np.log, "LogBackward0", lambda grad, self: grad / self, samples=unary(pos))
SQRT = unary_op("sqrt", np.sqrt, "SqrtBackward0", lambda grad, result: grad / (2 * result), samples=unary(pos))
TANH = unary_op("tanh", np.tanh, "TanhBackward0", lambda grad, result: grad * (1 - result * result))


def _sigmoid(x):
    # stable for large |x|: exp of a non-positive number only
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


SIGMOID = unary_op("sigmoid", _sigmoid, "SigmoidBackward0", lambda grad, result: grad * (result * (1 - result)))
RELU = unary_op("relu", lambda x: np.maximum(x, 0, dtype=x.dtype), "ReluBackward0",
                lambda grad, result: grad * (result > 0), promote="none", samples=unary(away))
ABS = unary_op("abs", np.abs, "AbsBackward0", lambda grad, self: grad * self.sign(), promote="none",
               samples=unary(away), method=("abs", "absolute"), function=("abs", "absolute"))
SIGN = defop("sign", lambda self: np.sign(self), node="SignBackward0", promote="none", inplace="sign_",
             grads={"self": lambda grad: grad * 0}, samples=unary(away))
RECIPROCAL = unary_op("reciprocal", lambda x: np.reciprocal(x), "ReciprocalBackward0",
                      lambda grad, result: -grad * (result * result), samples=unary(pos))
