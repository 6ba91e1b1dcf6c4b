"""Sample inputs that each op-table entry carries, for the tests generated from the table.

A sample lists the op's arguments in its parameter order: NumPy arrays stand for tensors
(the tests turn them into tapegrad and torch tensors, and mark floating inputs as requiring
grad), everything else is passed as it is.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np


class Sample:
    """One call of an op: positional args and keyword args (arrays stand for tensors)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        def show(a: Any) -> str:
            return f"array{a.shape}" if isinstance(a, np.ndarray) else repr(a)
        parts = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return f"Sample({', '.join(parts)})"


_rng = np.random.RandomState(1234)


def arr(*shape: int, low: float = -2.0, high: float = 2.0, dtype: Any = np.float64) -> np.ndarray:
    """Uniform values in [low, high) of the given shape."""
    return _rng.uniform(low, high, size=shape).astype(dtype)


def pos(*shape: int, low: float = 0.5, high: float = 2.0, dtype: Any = np.float64) -> np.ndarray:
    """Strictly positive values (for log, sqrt, division)."""
    return arr(*shape, low=low, high=high, dtype=dtype)


def away(*shape: int, dtype: Any = np.float64) -> np.ndarray:
    """Values bounded away from zero and from each other (for kinks: abs, max, sort)."""
    n = int(np.prod(shape)) if shape else 1
    vals = (_rng.permutation(n) + 1.0) * 0.37 * np.where(_rng.rand(n) < 0.5, -1, 1)
    return vals.reshape(shape).astype(dtype)


def ints(*shape: int, low: int = 0, high: int = 5) -> np.ndarray:
    """int64 values in [low, high)."""
    return _rng.randint(low, high, size=shape).astype(np.int64)


# Shapes every pointwise op is tried on: 0-dim, vector, matrix, empty.
UNARY_SHAPES = [(), (5,), (3, 4), (0,), (2, 0, 3)]
# Broadcasting pairs for binary ops.
BINARY_SHAPES = [((), ()), ((4,), (4,)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), ()), ((0, 3), (3,))]


def unary(make=arr) -> Any:
    def samples() -> Iterator[Sample]:
        for shape in UNARY_SHAPES:
            yield Sample(make(*shape))
    return samples


def binary(make_a=arr, make_b=arr, scalar: Any = 1.5) -> Any:
    def samples() -> Iterator[Sample]:
        for sa, sb in BINARY_SHAPES:
            yield Sample(make_a(*sa), make_b(*sb))
        if scalar is not None:
            yield Sample(make_a(3, 2), scalar)
    return samples


def samples_of(op: Any) -> list:
    """An op's samples, drawn from a generator seeded by the op's name, so that they do not depend
    on which ops were sampled before (the tests may collect them in any order)."""
    import zlib
    if op.samples is None:
        return []
    _rng.seed(zlib.crc32(op.name.encode()))
    return list(op.samples())
