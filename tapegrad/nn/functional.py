"""torch.nn.functional: the functions layers are built from."""
from __future__ import annotations

import warnings
from typing import Any

from ..ops._registry import dispatch, OPS

__all__ = ["binary_cross_entropy_with_logits"]


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """Map the deprecated size_average/reduce flags to a reduction string, warning as torch does."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{_legacy_name(size_average, reduce)}' instead.", UserWarning, stacklevel=3)
    return _legacy_name(size_average, reduce)


def _legacy_name(size_average: Any, reduce: Any) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean", pos_weight: Any = None) -> Any:
    """Binary cross entropy between sigmoid(input) and target, computed stably from the logits."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return dispatch(OPS["binary_cross_entropy_with_logits"], (input, target, weight, pos_weight, reduction))
