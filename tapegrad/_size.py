"""torch.Size: a tuple of ints that prints as `torch.Size([2, 3])`."""
from __future__ import annotations

from typing import Any


class Size(tuple):
    """The shape of a tensor."""

    __slots__ = ()

    def __new__(cls, sizes: Any = ()) -> "Size":
        return tuple.__new__(cls, (int(s) for s in sizes))

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def numel(self) -> int:
        """Number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item: Any) -> Any:
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other: Any) -> "Size":
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> "Size":
        return Size(tuple(other) + tuple(self))

    def __reduce__(self) -> Any:
        return (Size, (tuple(self),))


def wrap_dim(dim: int, ndim: int) -> int:
    """A dim in range [-ndim, ndim) made non-negative (0-dim tensors accept -1 and 0); torch's IndexError
    otherwise."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim
