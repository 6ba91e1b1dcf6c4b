"""Arithmetic: + - * / // % ** and their torch overloads (function, method, operator, in-place)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ._registry import defop, dispatch, public
from . import _registry as R
from ._inplace import make_inplace
from ._samples import Sample, arr, binary, pos, away


def _is_tensor(x: Any) -> bool:
    return isinstance(x, R.Tensor)


# --- add / sub ---------------------------------------------------------------------------
def _add(self, other, alpha=1):
    """torch.add: self + alpha * other."""
    return self + other if alpha == 1 else self + alpha * other


ADD = defop("add", _add, node="AddBackward0", promote="common", scalar_edges=True, inplace="add_",
            grads={"self": lambda grad: grad,
                   "other": lambda grad, alpha: grad if alpha == 1 else grad * alpha},
            samples=binary(),
            jvps={"self": "pointwise", "other": "pointwise"})


# add / div with a Python number as called from torch's C++ code (F.pairwise_distance's `+ eps`,
# cross_entropy's mean): torch records those overloads as AddBackward1 / DivBackward1. Python's
# `x + 2.0` wraps the number in a tensor and stays AddBackward0.
ADD_SCALAR = defop("add.Scalar", _add, node="AddBackward1", promote="common", function=False, method=False,
                   inputs=("self",), tensors=("self", "other"),
                   grads={"self": lambda grad: grad},
                   samples=lambda: iter([Sample(arr(3, 2), 2.5), Sample(arr(), -1.0, 2), Sample(arr(0, 2), 1.0)]),
                   jvps={"self": "pointwise"})


def _sub(self, other, alpha=1):
    """torch.sub: self - alpha * other."""
    if self.dtype == np.bool_ or (isinstance(other, np.ndarray) and other.dtype == np.bool_):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")
    return self - other if alpha == 1 else self - alpha * other


SUB = defop("sub", _sub, node="SubBackward0", promote="common", scalar_edges=True, inplace="sub_",
            method=("sub", "subtract"), function=("sub", "subtract"),
            grads={"self": lambda grad: grad,
                   "other": lambda grad, alpha: -grad if alpha == 1 else grad * -alpha},
            samples=binary(),
            jvps={"self": "pointwise", "other": "pointwise"})


def _rsub(self, other, alpha=1):
    """torch.rsub: other - alpha * self."""
    return other - self if alpha == 1 else other - alpha * self


RSUB = defop("rsub", _rsub, node="RsubBackward0", promote="common", method=False, scalar_edges=True,
             grads={"self": lambda grad, alpha: -grad if alpha == 1 else grad * -alpha,
                    "other": lambda grad: grad},
             samples=binary(scalar=None),
             jvps={"self": "pointwise", "other": "pointwise"})
RSUB_SCALAR = defop("rsub.Scalar", _rsub, node="RsubBackward1", promote="common", function=False, method=False,
                    inputs=("self",), tensors=("self", "other"),
                    grads={"self": lambda grad, alpha: -grad if alpha == 1 else grad * -alpha},
                    samples=lambda: iter([Sample(arr(3, 2), 2.5), Sample(arr(), -1.0)]),
                    jvps={"self": "pointwise"})


# --- mul / div ---------------------------------------------------------------------------
MUL = defop("mul", lambda self, other: self * other, node="MulBackward0", promote="common", scalar_edges=True,
            inplace="mul_", method=("mul", "multiply"), function=("mul", "multiply"),
            grads={"self": lambda grad, other: grad * other,
                   "other": lambda grad, self: grad * self},
            samples=binary(),
            jvps={"self": "pointwise", "other": "pointwise"})


def _div(self, other, rounding_mode=None):
    """torch.div: true division, or rounded with rounding_mode 'trunc' / 'floor'."""
    if rounding_mode is None:
        return np.true_divide(self, other)
    if rounding_mode == "trunc":
        out = np.trunc(np.true_divide(self, other)) if self.dtype.kind == "f" else _int_div(self, other, np.trunc)
        return out
    if rounding_mode == "floor":
        return np.floor_divide(self, other)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                       f"'{rounding_mode}'")


def _int_div(a, b, rnd):
    return rnd(np.true_divide(a, b)).astype(np.result_type(a, b) if isinstance(b, np.ndarray) else a.dtype)


def _div_self(grad, other, rounding_mode):
    return grad / other if rounding_mode is None else grad * 0


def _div_other(grad, self, other, rounding_mode):
    return -grad * self / (other * other) if rounding_mode is None else grad * 0


DIV = defop("div", _div, node="DivBackward0", promote="common_float", scalar_edges=True, inplace=("div_",),
            method=("div", "divide", "true_divide"), function=("div", "divide", "true_divide"),
            grads={"self": _div_self, "other": _div_other},
            samples=binary(make_b=pos),
            jvps={"self": "pointwise", "other": "pointwise"})


DIV_SCALAR = defop("div.Scalar", lambda self, other: np.true_divide(self, other), node="DivBackward1",
                   promote="common_float", function=False, method=False, inputs=("self",), tensors=("self", "other"),
                   grads={"self": lambda grad, other: grad / other},
                   samples=lambda: iter([Sample(arr(3, 2), 2.5), Sample(arr(), -4.0), Sample(arr(0, 2), 3.0)]),
                   jvps={"self": "pointwise"})


@public("floor_divide")
def floor_divide(input: Any, other: Any) -> Any:
    """torch.floor_divide: division rounded down (not differentiable in torch)."""
    return _floor_div(input, other)


FLOOR_DIVIDE = defop("floor_divide.impl", lambda self, other: np.floor_divide(self, other), node="NotImplemented",
                     promote="common", function=False, method=False, inputs=("self", "other"), differentiable=False,
                     grads=None)


def _floor_div(a: Any, b: Any) -> Any:
    return dispatch(FLOOR_DIVIDE, (a, b))


def _remainder(self, other):
    return np.remainder(self, other)


def _fmod(self, other):
    return np.fmod(self, other)


def _rounded_quotient(self: Any, other: Any, mode: str) -> Any:
    return dispatch(DIV, (self, other, mode))


def _scalar_samples():
    yield Sample(away(3, 2), 1.5)
    yield Sample(away(), -0.7)
    yield Sample(away(0, 2), 2.5)


# torch records remainder/fmod with a tensor `other` (even 0-dim) as ...Backward1, with a Python
# number as ...Backward0; the public function and the in-place method pick the overload.
REMAINDER = defop("remainder.Tensor", _remainder, node="RemainderBackward1", promote="common", function=False,
                  method=False,
                  grads={"self": lambda grad: grad,
                         "other": lambda grad, self, other: -grad * _rounded_quotient(self, other, "floor")},
                  samples=binary(make_a=away, make_b=pos, scalar=None),
                  jvps={"self": "pointwise", "other": "pointwise"})
REMAINDER_SCALAR = defop("remainder.Scalar", _remainder, node="RemainderBackward0", promote="common",
                         function=False, method=False, inputs=("self",), tensors=("self", "other"),
                         grads={"self": lambda grad: grad}, samples=_scalar_samples,
                         jvps={"self": "pointwise"})
def _no_remainder_derivative(grad: Any) -> Any:
    raise RuntimeError("derivative for aten::remainder is not implemented")


def _no_remainder_tangent(other_t: Any) -> Any:
    raise NotImplementedError("Trying to use forward AD with aten::remainder that does not support it.")


# torch.remainder(number, tensor) (and number % tensor): torch has no derivative for it and records a
# NotImplemented node whose backward raises.
REMAINDER_SCALAR_TENSOR = defop(
    "remainder.Scalar_Tensor", _remainder, node="NotImplemented", promote="common", function=False, method=False,
    inputs=("other",), tensors=("self", "other"), grads={"other": _no_remainder_derivative},
    samples=lambda: iter([Sample(5.0, pos(3, 2)), Sample(-2.5, pos()), Sample(3.0, pos(0, 2))]),
    jvps={"other": _no_remainder_tangent})
FMOD = defop("fmod.Tensor", _fmod, node="FmodBackward1", promote="common", function=False, method=False,
             grads={"self": lambda grad: grad,
                    "other": lambda grad, self, other: -grad * _rounded_quotient(self, other, "trunc")},
             samples=binary(make_a=away, make_b=pos, scalar=None),
             jvps={"self": "pointwise", "other": "pointwise"})
FMOD_SCALAR = defop("fmod.Scalar", _fmod, node="FmodBackward0", promote="common", function=False, method=False,
                    inputs=("self",), tensors=("self", "other"), grads={"self": lambda grad: grad},
                    samples=_scalar_samples,
                    jvps={"self": "pointwise"})

_INPLACE = {op.name: make_inplace(op, op.name.split(".")[0] + "_")
            for op in (REMAINDER, REMAINDER_SCALAR, FMOD, FMOD_SCALAR)}


@public("remainder")
def remainder(input: Any, other: Any) -> Any:
    """torch.remainder: the modulus with the sign of the divisor (Python's %)."""
    if not _is_tensor(input):
        return dispatch(REMAINDER_SCALAR_TENSOR, (input, other))
    return dispatch(REMAINDER if _is_tensor(other) else REMAINDER_SCALAR, (input, other))


@public("remainder_", function=False)
def remainder_(self: Any, other: Any) -> Any:
    """In-place remainder."""
    return _INPLACE["remainder.Tensor" if _is_tensor(other) else "remainder.Scalar"](self, other)


@public("fmod")
def fmod(input: Any, other: Any) -> Any:
    """torch.fmod: the modulus with the sign of the dividend (C's fmod)."""
    return dispatch(FMOD if _is_tensor(other) else FMOD_SCALAR, (input, other))


@public("fmod_", function=False)
def fmod_(self: Any, other: Any) -> Any:
    """In-place fmod."""
    return _INPLACE["fmod.Tensor" if _is_tensor(other) else "fmod.Scalar"](self, other)


# --- pow ---------------------------------------------------------------------------------
def _pow_scalar_self(grad, self, exponent):
    if exponent == 0:
        return grad * 0
    return grad * (exponent * self.pow(exponent - 1))


def _pow_forward(self, exponent):
    if isinstance(exponent, np.ndarray) or isinstance(self, np.ndarray):
        if np.ndim(exponent) == 0 and not isinstance(exponent, np.ndarray) and exponent == 2:
            return np.square(self)
        base_kind = self.dtype.kind if isinstance(self, np.ndarray) else None
        exp_kind = exponent.dtype.kind if isinstance(exponent, np.ndarray) else None
        if base_kind in "iu" and (exp_kind in ("i", "u") or isinstance(exponent, int)):
            if np.any(np.asarray(exponent) < 0):
                raise RuntimeError("Integers to negative integer powers are not allowed.")
    return np.power(self, exponent)


POW_TENSOR_SCALAR = defop(
    "pow.Tensor_Scalar", _pow_forward, node="PowBackward0", promote="common", function=False, method=False,
    inputs=("self",), tensors=("self", "exponent"), inplace="pow_",
    grads={"self": _pow_scalar_self},
    samples=lambda: iter([Sample(arr(3, 4), 2), Sample(pos(5), 0.5), Sample(pos(), -1.5), Sample(arr(4), 3),
                          Sample(arr(2, 2), 0), Sample(arr(0, 2), 2)]),
    jvps={"self": lambda self_t, self, exponent: (
        self_t * 0 if exponent == 0 else self_t if exponent == 1 else self_t * (self * exponent) if exponent == 2
        else self_t * (self.pow(exponent - 1) * exponent))})


def _pow_tt_exponent(grad, self, exponent, result):
    safe = (self == 0).logical_and(exponent >= 0)
    return grad * R.FUNCTIONS["where"](safe, 0.0, result * self.log())


POW_TENSOR_TENSOR = defop(
    "pow.Tensor_Tensor", _pow_forward, node="PowBackward1", promote="common", function=False, method=False,
    inputs=("self", "exponent"),
    grads={"self": lambda grad, self, exponent: grad * (exponent * self.pow(exponent - 1)),
           "exponent": _pow_tt_exponent},
    samples=lambda: iter([Sample(pos(3, 4), arr(3, 4)), Sample(pos(3, 1), arr(4)), Sample(pos(), arr(2, 3))]),
    jvps={"self": "pointwise", "exponent": "pointwise"})


def _pow_scalar_exponent(grad, self, result):
    if self == 0:
        return grad * 0
    return grad * (result * float(np.log(self)))


POW_SCALAR = defop(
    "pow.Scalar", lambda self, exponent: np.power(self, exponent), node="PowBackward2", promote="common",
    function=False, method=False, inputs=("exponent",), tensors=("self", "exponent"),
    grads={"exponent": _pow_scalar_exponent},
    samples=lambda: iter([Sample(2.0, arr(3, 4)), Sample(0.5, arr(5)), Sample(3.0, arr())]),
    jvps={"exponent": "pointwise"})


@public("pow")
def pow(input: Any, exponent: Any) -> Any:
    """torch.pow: input ** exponent, for tensor or scalar base and exponent."""
    if not _is_tensor(input):
        return dispatch(POW_SCALAR, (input, exponent))
    if _is_tensor(exponent):
        if exponent._data.ndim == 0 and not exponent._requires_grad and False:
            pass
        return dispatch(POW_TENSOR_TENSOR, (input, exponent))
    return dispatch(POW_TENSOR_SCALAR, (input, exponent))


@public("float_power")
def float_power(input: Any, exponent: Any) -> Any:
    """torch.float_power: pow computed in float64."""
    from .. import _dtype as D
    a = input.to(D.float64) if _is_tensor(input) else float(input)
    b = exponent.to(D.float64) if _is_tensor(exponent) else exponent
    return pow(a, b)
