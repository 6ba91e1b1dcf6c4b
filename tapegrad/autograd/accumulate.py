"""How a gradient reaching a leaf becomes (or adds to) its `.grad`."""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..ops import _registry
from .grad_mode import _state


# References to an unshared gradient while _unshared runs: the engine's list of the node's
# gradients and its evaluation stack, accumulate_into_leaf's and _unshared's arguments, and
# getrefcount's own. A gradient also held by another node's buffer, a hook or the user has more.
_UNSHARED_REFS = 5


def _unshared(grad: Any) -> bool:
    """Whether `grad` and its array are referenced only by the engine's call (torch's use_count
    check before it steals a gradient instead of copying it). CPython reference counts."""
    data = grad._data
    if sys.getrefcount(grad) > _UNSHARED_REFS or sys.getrefcount(data) > 3 or not data.flags.writeable \
            or not data.flags.c_contiguous:
        return False
    base = data.base
    if base is None:
        return True
    # a whole-array view (a gradient that went through .t() or .view()) of an array that only the
    # view and the view's base tensor hold
    base_tensor = grad._base
    holders = 2 if base_tensor is not None and base_tensor._data is base else 1
    return (base.__class__ is np.ndarray and base.base is None and base.size == data.size
            and sys.getrefcount(base) <= holders + 2
            and (base_tensor is None or sys.getrefcount(base_tensor) <= 3))


def run_leaf_hooks(variable: Any, grad: Any) -> Any:
    """`grad` after the leaf's tensor hooks (each may return a replacement)."""
    for fn in list(variable._hooks.values()):
        new = fn(grad)
        if new is not None:
            grad = new
    return grad


def accumulate_into_leaf(variable: Any, grad: Any, run_hooks: bool = True) -> None:
    """Run the leaf's hooks (unless the engine already did), then store or add `grad` into `variable.grad`.

    Without create_graph the stored gradient is a fresh detached array (never shared with
    another leaf's gradient) and later gradients are added in place, as torch does; with
    create_graph, `.grad` carries the graph and sums are out of place.
    """
    if run_hooks and variable._hooks:
        grad = run_leaf_hooks(variable, grad)
    make = _registry._make
    if variable._grad is None:
        if _state.enabled:
            variable._grad = grad if grad._requires_grad else make(np.array(grad._data, copy=True), False, None, 0)
        elif _unshared(grad):
            variable._grad = make(grad._data, False, None, 0)  # steal it: nobody else sees this array
        else:
            variable._grad = make(np.array(grad._data, copy=True, order="K"), False, None, 0)
    elif _state.enabled:
        variable._grad = variable._grad + grad
    else:
        existing = variable._grad
        if existing._data.flags.writeable and existing._data.shape == grad._data.shape:
            np.add(existing._data, grad._data, out=existing._data, casting="unsafe")
            existing._version_counter[0] += 1
        else:
            variable._grad = existing + grad
    post = variable._post_accumulate_hooks
    if post:
        for fn in list(post.values()):
            fn(variable)
