"""Python operators (`+`, `*`, `@`, `<`, `+=` ...) on Tensor, in terms of the op table's entries.

Reflected forms follow torch: `2 - x` is rsub (RsubBackward1), `2 / x` is `x.reciprocal() * 2`,
`2 ** x` is pow with a scalar base (PowBackward2).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _dtype as D

from . import _registry as R
from ._registry import FUNCTIONS, METHODS, OPS, dispatch


def _fn(name: str) -> Callable:
    return FUNCTIONS[name]


def _method(name: str) -> Callable:
    return METHODS[name]


def _is_operand(other: Any) -> bool:
    return isinstance(other, (R.Tensor, int, float, bool, complex, np.number, np.bool_))


def _binary(name: str, reflected: bool = False) -> Callable:
    def op(self: Any, other: Any) -> Any:
        if not _is_operand(other):
            return NotImplemented
        fn = METHODS[name]
        return fn(other, self) if reflected and isinstance(other, R.Tensor) else fn(self, other)
    op.__name__ = name
    return op


def _rsub(self: Any, other: Any) -> Any:
    if not _is_operand(other):
        return NotImplemented
    return dispatch(OPS["rsub.Scalar"], (self, other, 1))


def _rtruediv(self: Any, other: Any) -> Any:
    if not _is_operand(other):
        return NotImplemented
    return METHODS["mul"](METHODS["reciprocal"](self), other)


def _rpow(self: Any, other: Any) -> Any:
    if not _is_operand(other):
        return NotImplemented
    return FUNCTIONS["pow"](other, self)


def _rfloordiv(self: Any, other: Any) -> Any:
    if not _is_operand(other):
        return NotImplemented
    return FUNCTIONS["floor_divide"](_scalar_like(self, other), self)


def _rmod(self: Any, other: Any) -> Any:
    if not _is_operand(other):
        return NotImplemented
    return FUNCTIONS["remainder"](other.item() if isinstance(other, np.generic) else other, self)


def _scalar_like(self: Any, value: Any) -> Any:
    """A 0-dim tensor holding `value` as torch wraps a Python number for a reflected operator."""
    return R._make(np.asarray(value, dtype=D.scalar_dtype(value).numpy), False, None, 0)


def _rmatmul(self: Any, other: Any) -> Any:
    if not isinstance(other, R.Tensor):
        return NotImplemented
    return FUNCTIONS["matmul"](other, self)


def _compare(name: str) -> Callable:
    def op(self: Any, other: Any) -> Any:
        if other is None or not _is_operand(other):
            if name == "eq":
                return False
            if name == "ne":
                return True
            return NotImplemented
        return METHODS[name](self, other)
    op.__name__ = name
    return op


def _inplace(name: str) -> Callable:
    def op(self: Any, other: Any) -> Any:
        if not _is_operand(other):
            return NotImplemented
        return METHODS[name](self, other)
    op.__name__ = name
    return op


def _pos(self: Any) -> Any:
    if self._data.dtype.kind == "b":
        raise TypeError("The `+` operator, on a bool tensor is not supported.")
    return self


def _invert(self: Any) -> Any:
    return METHODS["bitwise_not"](self)


OPERATORS: dict[str, Callable] = {
    "__add__": _binary("add"), "__radd__": _binary("add"),
    "__sub__": _binary("sub"), "__rsub__": _rsub,
    "__mul__": _binary("mul"), "__rmul__": _binary("mul"),
    "__truediv__": _binary("div"), "__rtruediv__": _rtruediv,
    "__floordiv__": _binary("floor_divide"), "__rfloordiv__": _rfloordiv,
    "__mod__": _binary("remainder"), "__rmod__": _rmod,
    "__pow__": _binary("pow"), "__rpow__": _rpow,
    "__matmul__": lambda self, other: FUNCTIONS["matmul"](self, other) if isinstance(other, R.Tensor)
    else NotImplemented,
    "__rmatmul__": _rmatmul,
    "__neg__": lambda self: METHODS["neg"](self),
    "__pos__": _pos,
    "__abs__": lambda self: METHODS["abs"](self),
    "__invert__": _invert,
    "__eq__": _compare("eq"), "__ne__": _compare("ne"),
    "__lt__": _compare("lt"), "__le__": _compare("le"),
    "__gt__": _compare("gt"), "__ge__": _compare("ge"),
    "__and__": _binary("bitwise_and"), "__rand__": _binary("bitwise_and"),
    "__or__": _binary("bitwise_or"), "__ror__": _binary("bitwise_or"),
    "__xor__": _binary("bitwise_xor"), "__rxor__": _binary("bitwise_xor"),
    "__iadd__": _inplace("add_"), "__isub__": _inplace("sub_"),
    "__imul__": _inplace("mul_"), "__itruediv__": _inplace("div_"),
    "__ipow__": _inplace("pow_"), "__imod__": _inplace("remainder_"),
    "__ifloordiv__": _inplace("floor_divide_"),
    "__iand__": _inplace("bitwise_and_"), "__ior__": _inplace("bitwise_or_"), "__ixor__": _inplace("bitwise_xor_"),
}


def attach(cls: type) -> None:
    """Put every method of the op table, the operators and the view properties on Tensor."""
    from .shape import PROPERTIES
    for name, fn in METHODS.items():
        if name in cls.__dict__ and not getattr(cls.__dict__[name], "op", None) and name not in _OVERRIDABLE:
            continue  # hand-written attribute of Tensor itself (dtype, shape...) wins
        setattr(cls, name, fn)
    for name, fn in OPERATORS.items():
        setattr(cls, name, fn)
    for name, fn in PROPERTIES.items():
        setattr(cls, name, property(fn))
    cls.__hash__ = lambda self: id(self)


# Tensor attributes that the op table is allowed to replace (none yet).
_OVERRIDABLE: set = set()
