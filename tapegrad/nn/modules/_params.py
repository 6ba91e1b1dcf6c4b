"""Helpers the layers share to create their optional parameters and reset affine ones."""
from __future__ import annotations

from typing import Any

from ..._creation import empty
from .. import init
from ..parameter import Parameter
from .module import Module


def _optional_parameter(module: Module, name: str, present: bool, shape: Any, device: Any = None,
                        dtype: Any = None) -> None:
    """Give `module` a parameter `name` of uninitialised values shaped `shape` when `present`, else register
    `name` as a parameter that is None (as torch layers built with bias=False or affine=False do)."""
    if present:
        setattr(module, name, Parameter(empty(shape, device=device, dtype=dtype)))
    else:
        module.register_parameter(name, None)


def _affine_parameters(module: Module, affine: bool, bias: bool, shape: Any, device: Any = None,
                       dtype: Any = None) -> None:
    """Give a normalization layer its `weight` and `bias` of `shape` (uninitialised): both None unless
    `affine`, and `bias` None unless `bias` too."""
    _optional_parameter(module, "weight", affine, shape, device, dtype)
    _optional_parameter(module, "bias", affine and bias, shape, device, dtype)


def _reset_affine(module: Module, affine: bool) -> None:
    """When `affine`, set `module.weight` to ones and `module.bias` (unless None) to zeros."""
    if affine:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)
