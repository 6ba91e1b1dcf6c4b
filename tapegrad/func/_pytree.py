"""Flattening nested Python containers of tensors (tuples, lists, dicts, namedtuples), as the
torch.func transforms accept them for inputs, outputs and aux values."""
from __future__ import annotations

from typing import Any, Callable


class Spec:
    """The structure of a flattened value: its container kind, keys and children's specs."""

    __slots__ = ("kind", "meta", "children")

    def __init__(self, kind: Any, meta: Any, children: list) -> None:
        self.kind = kind          # None for a leaf, else the container type
        self.meta = meta          # dict keys (ordered) for dicts
        self.children = children

    @property
    def num_leaves(self) -> int:
        return 1 if self.kind is None else sum(c.num_leaves for c in self.children)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Spec) and self.kind == other.kind and self.meta == other.meta
                and self.children == other.children)

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        return f"TreeSpec({self.kind.__name__}, {self.meta}, [{', '.join(map(repr, self.children))}])"


_LEAF = Spec(None, None, [])


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def tree_flatten(x: Any) -> tuple[list, Spec]:
    """(leaves, spec) of a nested tuple/list/dict/namedtuple (anything else is a leaf)."""
    leaves: list = []
    return leaves, _flatten_into(x, leaves)


# Note [Pytree without closures]: flatten and unflatten recurse through module-level functions, not
# through nested functions calling themselves: such a closure is a reference cycle that keeps its
# leaves alive until the garbage collector runs, and vmap counts references to its outputs.
def _flatten_into(v: Any, leaves: list) -> Spec:
    if isinstance(v, (tuple, list)):
        return Spec(type(v), None, [_flatten_into(c, leaves) for c in v])
    if isinstance(v, dict):
        keys = list(v)
        return Spec(type(v), keys, [_flatten_into(v[k], leaves) for k in keys])
    leaves.append(v)
    return _LEAF


def tree_unflatten(leaves: list, spec: Spec) -> Any:
    """The value with `spec`'s structure holding `leaves` in order."""
    return _build(spec, iter(leaves))


def _build(s: Spec, it: Any) -> Any:
    if s.kind is None:
        return next(it)
    children = [_build(c, it) for c in s.children]
    if s.kind in (tuple, list):
        return s.kind(children)
    if issubclass(s.kind, dict):
        return s.kind(zip(s.meta, children)) if s.kind is dict else s.kind(list(zip(s.meta, children)))
    if issubclass(s.kind, tuple):  # namedtuple
        return s.kind(*children)
    return s.kind(children)


def tree_map(fn: Callable, x: Any) -> Any:
    leaves, spec = tree_flatten(x)
    return tree_unflatten([fn(v) for v in leaves], spec)
