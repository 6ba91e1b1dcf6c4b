"""The vmap levels in effect: read once per op by `dispatch` (see tapegrad/func/_vmap.py)."""
from __future__ import annotations


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


def check_random() -> None:
    """Random ops call this: torch's error inside vmap(randomness='error')."""
    if VM.active:
        mode = VM.stack[-1][2]
        if mode == "error":
            raise RuntimeError(_RANDOM_ERROR)
        if mode == "different":  # random factories draw logical shapes: one draw for the whole batch
            raise NotImplementedError("vmap: randomness='different' is not supported yet for random ops "
                                      "(tapegrad draws once for the whole batch, which is randomness='same')")
