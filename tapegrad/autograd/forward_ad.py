"""torch.autograd.forward_ad: dual tensors for forward-mode AD (Jacobian-vector products).

Inside `dual_level()`, `make_dual(x, v)` gives a tensor whose every op also computes the
directional derivative along `v` (its tangent); `unpack_dual(y)` returns `(primal, tangent)`.
Tangents are computed by the op table's jvp formulas (see autograd/_forward_dispatch.py).

As in torch, the public API has one level at a time (level 0). Internally levels nest
(`_enter_level` / `_exit_level`, used by torch.func.jvp/jacfwd): each gets a fresh id, older
levels have smaller ids, and ops propagate every visible level (Note [Nested forward levels]).

Hook point for custom Functions: `tapegrad.autograd._forward_dispatch.custom_function_jvp`
attaches the tangents a Function's static `jvp(ctx, *tangents)` returns to its outputs.
"""
from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from .._vmap_state import VM as _VM
from ..ops import _registry as R
from ._forward_state import FW
from ._forward_dispatch import set_tangent, tangent_at
from .grad_mode import _DecoratorContextManager, _state as _grad_state

__all__ = ["UnpackedDualTensor", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual", "dual_level"]

_ids = itertools.count()
_live: list[int] = []          # internal level ids, oldest first
_public_ids: list[int] = []    # public level number -> internal id (one at most, as torch)
_current_level = -1            # torch's public counter: -1 when no level


# ---------------------------------------------------------------------------------------
# internal levels (nestable)

def _enter_level() -> int:
    """Open a new (innermost) forward level; returns its internal id."""
    lid = next(_ids)
    _live.append(lid)
    FW.set_visible(tuple(_live))
    return lid


def _exit_level(lid: int) -> None:
    """Close a level: its tangents stop being visible everywhere (they are dropped lazily)."""
    if lid in _live:
        _live.remove(lid)
    FW.set_visible(tuple(_live))


def _make_dual(tensor: Any, tangent: Any, lid: int) -> Any:
    """An alias of `tensor` (keeping its other tangents) with `tangent` at level id `lid`."""
    if tensor._requires_grad and _grad_state.enabled:  # recorded, as torch's (ViewBackward0)
        visible = FW.visible
        FW.set_visible(tuple(v for v in visible if v != lid))
        try:
            out = R.dispatch(R.OPS["view"], (tensor, tuple(tensor._data.shape)))
        finally:
            FW.set_visible(visible)
        fw = getattr(out, "_fw_grads", None)
    else:  # nothing to record: a plain alias (same storage and version counter)
        out = R._make(tensor._data, False, None, 0, tensor._version_counter)
        fw = getattr(tensor, "_fw_grads", None)
    out._fw_grads = dict(fw) if fw else {}
    if _VM.active:
        from ..func._vmap import full_like_levels  # Note [Forward mode under vmap]
        tangent = full_like_levels(tangent, out)
    out._fw_grads[lid] = tangent
    return out


def _unpack_dual(tensor: Any, lid: int) -> tuple:
    """(primal without the level-`lid` tangent, that tangent or None)."""
    if tensor._requires_grad and _grad_state.enabled:
        visible = FW.visible
        FW.set_visible(tuple(v for v in visible if v != lid))
        try:
            primal = R.dispatch(R.OPS["alias"], (tensor,))
        finally:
            FW.set_visible(visible)
    else:
        primal = R._make(tensor._data, False, None, 0, tensor._version_counter)
        primal._fw_grads = getattr(tensor, "_fw_grads", None)
    fw = getattr(primal, "_fw_grads", None)
    if fw and lid in fw:
        primal._fw_grads = {k: v for k, v in fw.items() if k != lid}
    return primal, tangent_at(tensor, lid)


def _printed_tangent(t: Any) -> Any:
    """The tangent a tensor's repr shows: the one at the public level, if any."""
    if _current_level < 0 or not _public_ids:
        return None
    return tangent_at(t, _public_ids[_current_level])


# ---------------------------------------------------------------------------------------
# torch's public API

def enter_dual_level() -> int:
    """Enter a new forward grad level; returns its number (0: only one level exists at a time)."""
    global _current_level
    if _current_level >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _public_ids.append(_enter_level())
    _current_level = 0
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Exit the last entered forward grad level; the tangents of that level are deleted."""
    global _current_level
    if level is None:
        level = _current_level
    if level != _current_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. This is "
                           "not supported.")
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    _exit_level(_public_ids.pop())
    _current_level = level - 1


def _check_level(level: int | None, what: str) -> int:
    if level is None:
        level = _current_level
    if level < 0:
        return -1
    if level >= len(_public_ids):
        raise RuntimeError(f"Invalid level given to {what}")
    return _public_ids[level]


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A new tensor aliasing `tensor` whose forward-mode tangent is `tangent` (backward differentiable)."""
    lid = _check_level(level, "make_dual")
    if lid < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                           "enter_dual_level() first.")
    if not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"Expected primal to be floating point or complex, but got: {tensor.dtype}")
    if not (tangent.is_floating_point() or tangent.is_complex()):
        raise ValueError(f"Expected tangent to be floating point or complex, but got: {tangent.dtype}")
    if tangent._data.shape != tensor._data.shape:
        size = ", ".join(str(s) for s in tensor._data.shape)
        given = ", ".join(str(s) for s in tangent._data.shape)
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size [{size}] while the given forward "
                           f"gradient is of size [{given}].")
    if tangent_at(tensor, lid) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {level if level is not None else _current_level} is not supported.")
    return _make_dual(tensor, tangent, lid)


class UnpackedDualTensor(NamedTuple):
    """Namedtuple returned by `unpack_dual`: the primal and the tangent (None if there is none)."""

    primal: Any
    tangent: Any


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """`(primal, tangent)` of a dual tensor: a view of its value and its tangent as-is."""
    if level is None:
        level = _current_level
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, R.Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type(tensor).__name__}")
    if level >= len(_public_ids):
        raise RuntimeError("Invalid level given to _fw_primal")
    primal, tangent = _unpack_dual(tensor, _public_ids[level])
    return UnpackedDualTensor(primal, tangent)


class dual_level(_DecoratorContextManager):
    """Context manager for forward AD: enters a level on entry and exits it (deleting its tangents) on exit."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def _set_tangent(tensor: Any, tangent: Any, *, level: int | None = None) -> None:
    """Attach `tangent` to `tensor` in place at a public level (used by custom Function support)."""
    lid = _check_level(level, "make_dual")
    if lid >= 0:
        set_tangent(tensor, lid, tangent)
