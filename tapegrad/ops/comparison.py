"""Comparisons and logic (not differentiable), all/any, and `where` (differentiable in its values)."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _registry as R
from ._registry import defop, dispatch, public
from ._samples import Sample, arr, ints
from .reduction import normalize_dims


def _check_shapes(a: Any, b: Any) -> None:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        broadcast_shapes_or_raise(a.shape, b.shape)


def broadcast_shapes_or_raise(a: tuple, b: tuple) -> tuple:
    """The broadcast shape of a and b, or torch's error naming the first mismatching dim."""
    n = max(len(a), len(b))
    out = []
    for i in range(n - 1, -1, -1):  # torch checks from the last dimension
        x = a[len(a) - n + i] if len(a) - n + i >= 0 else 1
        y = b[len(b) - n + i] if len(b) - n + i >= 0 else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(reversed(out))


def _comparison(name: str, ufunc: Any, aliases: tuple = ()) -> Any:
    def forward(self, other):
        _check_shapes(self, other)
        return ufunc(self, other)
    forward.__name__ = name
    names = (name,) + aliases
    return defop(name, forward, promote="common", tensors=("self", "other"), differentiable=False,
                 float_output=True, function=names, method=names,
                 samples=lambda: iter([Sample(arr(3, 4), arr(3, 4)), Sample(arr(3, 4), 0.5), Sample(arr(), arr(2))]))


EQ = _comparison("eq", np.equal)
NE = _comparison("ne", np.not_equal, ("not_equal",))
LT = _comparison("lt", np.less, ("less",))
LE = _comparison("le", np.less_equal, ("less_equal",))
GT = _comparison("gt", np.greater, ("greater",))
GE = _comparison("ge", np.greater_equal, ("greater_equal",))


def _unary_test(name: str, fn: Any) -> Any:
    return defop(name, lambda self: fn(self), tensors=("self",), differentiable=False, float_output=True,
                 samples=lambda: iter([Sample(np.array([1.0, np.nan, np.inf, -np.inf, 0.0]))]))


ISNAN = _unary_test("isnan", np.isnan)
ISINF = _unary_test("isinf", np.isinf)
ISFINITE = _unary_test("isfinite", np.isfinite)
ISPOSINF = _unary_test("isposinf", np.isposinf)
ISNEGINF = _unary_test("isneginf", np.isneginf)


def _logical(name: str, fn: Any) -> Any:
    def forward(self, other):
        _check_shapes(self, other)
        return fn(self, other)
    return defop(name, forward, tensors=("self", "other"), differentiable=False, float_output=True,
                 samples=lambda: iter([Sample(ints(3, 4, high=2), ints(3, 4, high=2))]))


LOGICAL_AND = _logical("logical_and", np.logical_and)
LOGICAL_OR = _logical("logical_or", np.logical_or)
LOGICAL_XOR = _logical("logical_xor", np.logical_xor)
LOGICAL_NOT = defop("logical_not", lambda self: np.logical_not(self), tensors=("self",), differentiable=False, float_output=True,
                    samples=lambda: iter([Sample(ints(3, high=2))]))


def _bitwise(name: str, fn: Any) -> Any:
    def forward(self, other):
        for v in (self, other):
            kind = v.dtype.kind if isinstance(v, np.ndarray) else ("f" if isinstance(v, float) else "i")
            if kind in "fc":
                raise RuntimeError(f'"{name}_cpu" not implemented for \'Float\'')
        _check_shapes(self, other)
        return fn(self, other)
    return defop(name, forward, promote="common", tensors=("self", "other"), differentiable=False,
                 inplace=name + "_", samples=lambda: iter([Sample(ints(3, 4), ints(3, 4))]))


BITWISE_AND = _bitwise("bitwise_and", np.bitwise_and)
BITWISE_OR = _bitwise("bitwise_or", np.bitwise_or)
BITWISE_XOR = _bitwise("bitwise_xor", np.bitwise_xor)


def _bitwise_not(self):
    if self.dtype.kind in "fc":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return np.invert(self)


BITWISE_NOT = defop("bitwise_not", _bitwise_not, tensors=("self",), differentiable=False,
                    samples=lambda: iter([Sample(ints(4))]))


# --- all / any --------------------------------------------------------------------------
def _reduce_bool(fn: Any) -> Any:
    def forward(self, dim=None, keepdim=False):
        axes = normalize_dims(dim, self.ndim) if (dim is not None and self.ndim) else None
        out = fn(self, axis=axes, keepdims=keepdim)
        return out.astype(np.uint8) if self.dtype == np.uint8 else out
    return forward


ALL = defop("all", _reduce_bool(np.all), tensors=("self",), differentiable=False, float_output=True,
            samples=lambda: iter([Sample(ints(3, 4, high=2)), Sample(ints(3, 4, high=2), 1)]))
ANY = defop("any", _reduce_bool(np.any), tensors=("self",), differentiable=False, float_output=True,
            samples=lambda: iter([Sample(ints(3, 4, high=2)), Sample(ints(3, 4, high=2), 0, True)]))


# --- equal / isclose / allclose -----------------------------------------------------------
@public("equal")
def equal(input: Any, other: Any) -> bool:
    """True when both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


def _isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if isinstance(other, np.ndarray) and self.dtype != other.dtype:
        from .. import _dtype as D
        raise RuntimeError(f"{D.from_numpy(self.dtype)._legacy} did not match {D.from_numpy(other.dtype)._legacy}")
    _check_shapes(self, other)
    return np.isclose(self, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


ISCLOSE = defop("isclose", _isclose, tensors=("self", "other"), differentiable=False, float_output=True,
                samples=lambda: iter([Sample(arr(3, 4), arr(3, 4))]))


@public("allclose")
def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True when every element of input is close to other's (|a - b| <= atol + rtol * |b|)."""
    return bool(dispatch(ISCLOSE, (input, other, rtol, atol, equal_nan))._data.all())


# --- where ------------------------------------------------------------------------------
def _where(condition, self, other):
    if isinstance(condition, np.ndarray) and condition.dtype != np.bool_ and condition.dtype != np.uint8:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{R.D.from_numpy(condition.dtype)._legacy}")
    return np.where(condition, self, other)


def _zeros_of(grad: Any) -> Any:
    return R._make(np.zeros((), grad._data.dtype), False, None, 0)


WHERE = defop("where.self", _where, node="WhereBackward0", promote="common", scalar_edges=True,
              function=False, method=False, inputs=("self", "other"), tensors=("condition", "self", "other"),
              promote_on=("self", "other"),
              grads={"self": lambda grad, condition: where(condition, grad, _zeros_of(grad)),
                     "other": lambda grad, condition: where(condition, _zeros_of(grad), grad)},
              samples=lambda: iter([Sample(ints(3, 4, high=2).astype(bool), arr(3, 4), arr(3, 4)),
                                    Sample(ints(3, 4, high=2).astype(bool), arr(4), arr(3, 1)),
                                    Sample(ints(3, high=2).astype(bool), arr(3), 0.5)]),
              jvps={"self": "pointwise", "other": "pointwise"})


@public("where", method=False)
def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """Elements of input where condition holds, else of other; with one argument, nonzero(as_tuple)."""
    if input is None and other is None:
        return tuple(R._make(ix.astype(np.int64), False, None, 0) for ix in np.nonzero(condition._data))
    return dispatch(WHERE, (condition, input, other))


@public("nonzero")
def nonzero(input: Any, *, as_tuple: bool = False) -> Any:
    """Indices of the non-zero elements: an (n, ndim) tensor, or one index tensor per dim."""
    idx = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(R._make(ix.astype(np.int64), False, None, 0) for ix in idx)
    return R._make(np.stack(idx, axis=1).astype(np.int64) if idx else np.zeros((0, 0), np.int64), False, None, 0)


@public("where", function=False)
def where_method(self: Any, condition: Any, y: Any) -> Any:
    """Tensor.where(condition, y): torch.where(condition, self, y)."""
    return dispatch(WHERE, (condition, self, y))
