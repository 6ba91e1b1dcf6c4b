"""torch.nn.parameter: Parameter (a Tensor that a Module registers as learnable) and Buffer.

A Parameter is a leaf Tensor of its own class: it shares the storage of the tensor it was made
from, prints with a ``Parameter containing:`` header, and survives deepcopy and pickling as a
Parameter. Operations on it return plain Tensors, because every op builds its result with the
base class (``tapegrad._tensor.make``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, make

__all__ = ["Parameter", "Buffer", "is_lazy"]


def _leaf_like(cls: type, data: Any, requires_grad: bool) -> Tensor:
    """A leaf of class `cls` over the storage (and version counter) of `data`."""
    if data is None:
        out = make(np.empty((0,), dtype=np.float32), False, None, 0, cls=cls)
    elif isinstance(data, Tensor):
        out = make(data._data, False, None, 0, data._version_counter, cls=cls)
        out._base = data._base
    else:
        raise TypeError(f"{cls.__name__}.__new__() expected a Tensor as data, but got {type(data).__name__}")
    if requires_grad:
        if out._data.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        out._requires_grad = True
    return out


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning one to a Module attribute registers it."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        return _leaf_like(cls, data, requires_grad)  # type: ignore[return-value]

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return "Parameter containing:\n" + super().__repr__(tensor_contents=tensor_contents)

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_parameter, (np.array(self._data), self._requires_grad, dict(self.__dict__)))

    def __deepcopy__(self, memo: dict) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        new = type(self)(Tensor.__deepcopy__(self.detach(), {}), self._requires_grad)
        if self._grad is not None:
            from copy import deepcopy
            new._grad = deepcopy(self._grad, memo)
        new.__dict__.update(self.__dict__)
        memo[id(self)] = new
        return new


def _rebuild_parameter(array: np.ndarray, requires_grad: bool, state: dict) -> Parameter:
    out = Parameter(make(array, False, None, 0), requires_grad)
    out.__dict__.update(state)
    return out


class _BufferMeta(type):
    """isinstance(t, Buffer) holds for the tensors Buffer(...) returns."""

    def __instancecheck__(cls, instance: Any) -> bool:
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a Tensor as a module buffer when assigned to a Module attribute.

    `Buffer(data, persistent=True)` returns a plain Tensor (detached from `data`, same storage)
    flagged for registration; a non-persistent buffer is left out of the state dict.
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:  # type: ignore[misc]
        if data is None:
            data = make(np.empty((0,), dtype=np.float32), False, None, 0)
        out = data.detach()
        out._requires_grad = data._requires_grad
        out.persistent = persistent
        out._is_buffer = True
        return out


def is_lazy(param: Any) -> bool:
    """Whether `param` is an uninitialized (lazy) parameter; tapegrad has none."""
    return False
