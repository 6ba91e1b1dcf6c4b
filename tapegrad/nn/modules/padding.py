"""Padding layers: constant (and zero), reflection, replication and circular padding.

`padding` is an int (the same on every side) or a tuple in F.pad's order: (left, right) for
1-D, (left, right, top, bottom) for 2-D, then (front, back) for 3-D.
"""
from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from .. import functional as F
from .module import Module
from .utils import _ntuple, _pair, _quadruple

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d"]

_sextuple = _ntuple(6, "_sextuple")


class _ConstantPadNd(Module):
    """Pad with a constant value."""

    __constants__ = ["padding", "value"]
    padding: tuple

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with `value`."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(value)
        self.padding = _pair(padding)


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims with `value`."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(value)
        self.padding = _quadruple(padding)


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims with `value`."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(value)
        self.padding = _sextuple(padding)


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dims with zeros."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ModePadNd(Module):
    """Pad with one of F.pad's non-constant modes (`_mode`)."""

    __constants__ = ["padding"]
    _mode = ""
    _expand: Any = staticmethod(_pair)
    padding: tuple

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = self._expand(padding)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pad the last dim with its reflection (the edge value not repeated)."""

    _mode = "reflect"


class ReflectionPad2d(_ModePadNd):
    """Pad the last two dims with their reflection."""

    _mode = "reflect"
    _expand = staticmethod(_quadruple)


class ReflectionPad3d(_ModePadNd):
    """Pad the last three dims with their reflection."""

    _mode = "reflect"
    _expand = staticmethod(_sextuple)


class ReplicationPad1d(_ModePadNd):
    """Pad the last dim by repeating its edge values."""

    _mode = "replicate"


class ReplicationPad2d(_ModePadNd):
    """Pad the last two dims by repeating their edge values."""

    _mode = "replicate"
    _expand = staticmethod(_quadruple)


class ReplicationPad3d(_ModePadNd):
    """Pad the last three dims by repeating their edge values."""

    _mode = "replicate"
    _expand = staticmethod(_sextuple)


class _CircularPadNd(_ModePadNd):
    """Pad by wrapping around; the input must be batched or unbatched of the layer's rank."""

    _mode = "circular"
    _spatial = 1

    def forward(self, input: Tensor) -> Tensor:
        low = self._spatial + 1
        if input.dim() != low and input.dim() != low + 1:
            raise ValueError(f"expected {low}D or {low + 1}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim circularly."""

    _spatial = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last two dims circularly."""

    _spatial = 2
    _expand = staticmethod(_quadruple)


class CircularPad3d(_CircularPadNd):
    """Pad the last three dims circularly."""

    _spatial = 3
    _expand = staticmethod(_sextuple)
