"""Custom autograd Functions under torch.func transforms: torch's checks, the user's `vmap` rule, and a
backward that sees the batch as the forward did.

Note [Custom Functions under vmap]
Inside vmap a Function's forward either runs its own `vmap` staticmethod (the innermost level is
unwrapped: its batch dim becomes dim `in_dims[i]` = 0 of the argument) or, with
generate_vmap_rule=True, runs as written (its ops batch). Its node remembers the vmap levels it
saw (`_vm`): which were visible, their sizes, and each input's and output's levels. Backward runs
with those levels visible again (re-opened if their vmap has returned; see `batch_view`), so the
user's backward sees logical tensors, as torch's generated rule vmaps it; its results are brought
back to each input's physical layout (summed over levels the input did not have, spread over
those it had).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .._vmap_state import VM
from ..ops import _registry as R

_SETUP_CONTEXT_ERROR = (
    "In order to use an autograd.Function with functorch transforms (vmap, grad, jvp, jacrev, ...), it must override "
    "the setup_context staticmethod. For more details, please see https://pytorch.org/docs/main/notes/extending.func.html")
_NO_VMAP_ERROR = (
    "You tried to vmap over {}, but it does not have vmap support. Please override and implement the vmap "
    "staticmethod or set generate_vmap_rule=True. For more details, please see "
    "https://pytorch.org/docs/main/notes/extending.func.html")

_TENSOR_TYPE = "<class 'torch.Tensor'>"  # as torch names its tensor type in messages
TRANSFORM_DEPTH = [0]  # torch.func transforms (grad, vjp, jvp, ...) in progress; vmap counts by its stack


class VmapInfo(NamedTuple):
    """What a Function's vmap staticmethod is told about the level it handles."""

    batch_size: int
    randomness: str


def check_transform_support(cls: type, uses_setup_context: bool, args: tuple) -> bool:
    """torch's error for an old-style Function under a torch.func transform; whether some argument is
    batched at a visible vmap level (then torch's error when the Function has no way to be vmapped)."""
    if (TRANSFORM_DEPTH[0] or VM.active) and not uses_setup_context:
        raise RuntimeError(_SETUP_CONTEXT_ERROR)
    if not VM.active:
        return False
    from ..func._vmap import visible_levels
    if not any(isinstance(a, R.Tensor) and visible_levels(a) for a in args):
        return False
    if not has_vmap_rule(cls) and not cls.generate_vmap_rule:
        raise RuntimeError(_NO_VMAP_ERROR.format(cls.__name__))
    return True


def has_vmap_rule(cls: type) -> bool:
    from .function import Function
    return cls.vmap is not Function.vmap


def run_vmap_rule(cls: type, args: tuple, kwargs: dict) -> Any:
    """The forward by the Function's vmap staticmethod, for the innermost visible level."""
    from ..func import _vmap as V
    from ..func._pytree import tree_flatten, tree_unflatten
    level = max(lv for a in args if isinstance(a, R.Tensor) for lv in V.visible_levels(a))
    size = V.batch_size_of(level)
    mode = next(m for lv, _, m in VM.stack if lv == level)
    in_dims, unwrapped = [], []
    for a in args:
        if isinstance(a, R.Tensor) and level in V.visible_levels(a):
            in_dims.append(0)
            unwrapped.append(_peel(a, level))
        else:
            in_dims.append(None)
            unwrapped.append(a)
    result = cls.vmap(VmapInfo(size, mode), tuple(in_dims), *unwrapped, **kwargs)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError("Expected the vmap staticmethod to have two returns, an output and out_dims with pytree "
                           f"structure compatible with the output. Got a "
                           f"{_TENSOR_TYPE if isinstance(result, R.Tensor) else type(result)} instead")
    output, out_dims = result
    flat, spec = tree_flatten(output)
    dims = [out_dims] * len(flat) if isinstance(out_dims, int) or out_dims is None else tree_flatten(out_dims)[0]
    if len(dims) != len(flat):
        raise RuntimeError(f"The autograd.Function's vmap staticmethod returned an incompatible (output, out_dims) "
                           f"tuple. Expected out_dims={out_dims} to be compatible with the structure of `output`. "
                           f"out_dims has structure {tree_flatten(out_dims)[1]} but output has structure {spec}.")
    return tree_unflatten([_wrap(o, d, level, size) for o, d in zip(flat, dims)], spec)


def _peel(a: Any, level: int) -> Any:
    """`a` with `level` (its innermost) as logical dim 0; its other levels stay batched."""
    from ..func import _vmap as V
    levels = V.levels_of(a)
    rest = levels[1:]
    nrest = len(V.visible_levels(a)) - 1
    with V.physical(), V.no_forward():
        t = R.dispatch(R.OPS["alias"], (a,)) if not nrest else R.FUNCTIONS["movedim"](a, 0, nrest)
    return V.mark(t, rest)


def _wrap(o: Any, dim: Any, level: int, size: int) -> Any:
    """A rule's output with logical dim `dim` as the batch of `level` again (None: the same for all)."""
    from ..func import _vmap as V
    if not isinstance(o, R.Tensor) or dim is None:
        return o
    levels = V.levels_of(o)
    nvis = len(V.visible_levels(o))
    with V.physical(), V.no_forward():
        src = nvis + dim % max(o.dim(), 1) if o.dim() else nvis
        t = R.FUNCTIONS["movedim"](o, src, 0) if src else R.dispatch(R.OPS["alias"], (o,))
    return V.mark(t, (level,) + levels)


def remember_levels(node: Any, args: tuple, outputs: tuple) -> None:
    """Store on a Function's node what its backward needs to see the batch as forward did."""
    from ..func import _vmap as V
    visible = tuple(lv for lv, _, _ in VM.stack if lv > VM.floor)
    sizes = {lv: size for lv, size, _ in VM.stack}
    node._vm = (VM.floor, visible, sizes,
                tuple(V.levels_of(a) for a in args if isinstance(a, R.Tensor)),
                tuple(V.levels_of(o) if isinstance(o, R.Tensor) else () for o in outputs))


def batch_view(node: Any, grads: tuple, call: Callable) -> list:
    """`call(grads)` (the user's backward and its checks) with the node's vmap levels visible; the
    gradients come back in each input's physical layout."""
    from ..func import _vmap as V
    floor, visible, sizes, in_levels, out_levels = node._vm
    saved_stack, saved_floor = list(VM.stack), VM.floor
    live = {lv for lv, _, _ in VM.stack}
    missing = [(lv, sizes[lv], "error") for lv in visible if lv not in live]  # their vmap has returned
    try:
        if missing:
            VM.stack[:] = sorted(VM.stack + missing)
        VM.floor = min(floor, VM.floor)
        VM.refresh()
        seen = [g if g is None or g.__class__ is V.BatchedTensor else V.mark(g, lv)
                for g, lv in zip(grads, out_levels)]
        results = call(tuple(seen))
        out = []
        for g, lv in zip(results, in_levels):
            out.append(None if g is None else _to_layout(g, lv, set(visible)))
    finally:
        VM.stack[:] = saved_stack
        VM.floor = saved_floor
        VM.refresh()
    return out


def _to_layout(g: Any, levels: tuple, recorded: set) -> Any:
    """Gradient `g` (logical) with exactly the input's recorded levels among those the node saw: summed over
    the others (the input was shared by those batch elements), spread over the missing ones."""
    from ..func import _vmap as V
    from ..func._batch_rules import _full
    mine = V.visible_levels(g)
    extra = tuple(k for k, lv in enumerate(mine) if lv in recorded and lv not in levels)
    if extra:
        dropped = {mine[k] for k in extra}
        with V.physical(), V.no_forward():
            t = g.sum(extra)
        g = V.mark(t, tuple(lv for lv in V.levels_of(g) if lv not in dropped))
        mine = V.visible_levels(g)
    want = {lv for lv in levels if lv in recorded}
    if want - set(mine):
        union = tuple(sorted(want | set(mine), reverse=True))
        rest = V.levels_of(g)[len(mine):]
        with V.physical(), V.no_forward():
            t = _full(g, union)
        g = V.mark(t, union + rest)
    return g
