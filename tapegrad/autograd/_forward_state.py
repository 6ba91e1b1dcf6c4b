"""The forward-AD flag that every op reads once: whether any dual level is visible.

`visible` lists the ids of the forward-AD levels whose tangents ops propagate, oldest first;
`active` is `bool(visible)` kept as a plain attribute so that dispatch pays one read when no
level exists. While an op computes the tangent of level L, only the levels older than L are
visible (see Note [Nested forward levels] in _forward_dispatch.py).
"""
from __future__ import annotations


class _ForwardState:
    __slots__ = ("active", "visible")

    def __init__(self) -> None:
        self.active = False
        self.visible: tuple = ()

    def set_visible(self, levels: tuple) -> None:
        self.visible = levels
        self.active = bool(levels)


FW = _ForwardState()
