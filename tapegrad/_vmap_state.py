"""The vmap levels in effect: read once per op by `dispatch` (see tapegrad/func/_vmap.py)."""
from __future__ import annotations

from typing import Any


class VmapState:
    """`active`: some vmap level is visible (above `floor`), so dispatch hands batched calls on.

    `stack` holds (level, batch size, randomness) per open vmap, innermost last; levels at or
    below `floor` are masked (Note [Masked levels] in func/_vmap.py).
    """

    __slots__ = ("active", "stack", "floor", "live", "counter")

    def __init__(self) -> None:
        self.active = False
        self.stack: list = []
        self.floor = 0
        self.live: set = set()  # the open levels (ids are never reused: stale marks stay physical)
        self.counter = 0

    def refresh(self) -> None:
        self.active = bool(self.stack) and self.stack[-1][0] > self.floor
        self.live = {lv for lv, _, _ in self.stack}


VM = VmapState()


_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
                 "'different' randomness flags on vmap or perform the randomness operation out of vmap")


_SAME_BATCHED = ("Vmap does not currently support same randomness with a batched tensor input. Please file an issue "
                 "with functorch")


def check_random(batched: Any = ()) -> tuple:
    """Random ops call this inside vmap: torch's error if a visible level has randomness='error' (or
    'same' while the op reads a tensor batched at that level: `batched` holds those levels, or is
    True for every level); else the levels (innermost first) whose batch elements draw their own
    values (randomness='different'), for a draw over the physical shape."""
    if not VM.active:
        return ()
    levels = []
    for lv, _size, mode in visible_stack():
        if mode == "error":
            raise RuntimeError(_RANDOM_ERROR)
        if mode == "same" and (batched is True or (batched and lv in batched)):
            raise RuntimeError(_SAME_BATCHED)
        if mode == "different":
            levels.append(lv)
    return tuple(levels)


def visible_stack() -> list:
    """(level, batch size, randomness) of the visible vmap levels, innermost first."""
    out = []
    for entry in reversed(VM.stack):
        if entry[0] <= VM.floor:
            break
        out.append(entry)
    return out


def random_batch(levels: tuple) -> tuple:
    """The batch sizes of `levels` (as check_random returned them)."""
    sizes = {lv: size for lv, size, _ in VM.stack}
    return tuple(sizes[lv] for lv in levels)
