"""The op table, filled by importing every op module; Tensor methods and operators are attached here."""
from __future__ import annotations

import importlib
from typing import Any

from . import _registry as R
from ._registry import FUNCTIONS, METHODS, OPS, dispatch

# Every module that declares ops. A module listed here that does not exist yet is an error.
OP_MODULES = [
    "arithmetic", "pointwise", "reduction", "shape", "comparison", "linalg", "_inplace",
    "pointwise_extra", "reduction_extra", "indexing", "shape_extra", "loss", "einsum", "norm", "sorting",
    "extra_math", "composites", "extra_misc",
    "nn_conv", "nn_pool", "nn_norm", "nn_loss", "nn_activation", "nn_misc",
]

for _name in OP_MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # modules still being written by the team
        if exc.name != f"{__name__}.{_name}":
            raise

from . import operators  # noqa: E402  (tapegrad/__init__ attaches them once Tensor exists)

__all__ = ["FUNCTIONS", "METHODS", "OPS", "dispatch"]
