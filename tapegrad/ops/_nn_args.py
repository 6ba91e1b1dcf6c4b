"""Argument handling shared by the nn op modules: int-or-tuple sizes and loss reductions.

Loss entries take `reduction` as torch's internal enum (0 none, 1 mean, 2 sum), as aten does;
`nn.functional` maps the user's string to it.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

NONE, MEAN, SUM = 0, 1, 2
_ENUM = {"none": NONE, "mean": MEAN, "sum": SUM}


def ntuple(value: Any, n: int) -> tuple:
    """An int (or a one-element sequence) repeated n times; a sequence of n ints as a tuple."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return (int(value[0]),) * n
        return tuple(int(v) for v in value)
    return (int(value),) * n


def reduction_enum(reduction: str) -> int:
    """torch's reduction enum for a reduction string (its error for an unknown one)."""
    try:
        return _ENUM[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"{reduction} is not a valid value for reduction") from None


def reduce_array(loss: np.ndarray, reduction: int) -> np.ndarray:
    """Apply a reduction enum to an elementwise loss array."""
    if reduction == NONE:
        return loss
    if reduction == SUM:
        return np.add.reduce(loss, axis=None)
    if not loss.size:
        return np.array(np.nan, loss.dtype)
    return np.add.reduce(loss, axis=None) / loss.size  # np.mean's arithmetic, without its Python layers


def reduce_grad(grad: Any, shape: Sequence[int], reduction: int) -> Any:
    """The gradient of a reduction enum, as a tensor of the elementwise loss's shape."""
    if reduction == NONE:
        return grad
    g = grad.expand(tuple(shape))
    if reduction == MEAN:
        n = int(np.prod(shape))
        return g / n if n else g * float("nan")
    return g
