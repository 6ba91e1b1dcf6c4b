"""`torch.return_types`: the named tuples that ops with several outputs return (max, sort, topk...).

torch's are C structseqs: tuple subclasses with field attributes, a constructor taking one
sequence, slicing to a plain tuple, and a repr of one `field=value` per line.
"""
from __future__ import annotations

from typing import Any

__all__ = ["max", "min", "sort", "topk", "kthvalue", "median", "mode", "aminmax", "cummax", "cummin"]


class _StructSeq(tuple):
    """Base of the named tuples; subclasses set `_fields`."""

    __slots__ = ()
    _fields: tuple = ()

    def __new__(cls, *args: Any) -> "_StructSeq":
        # torch style: one sequence; the op table calls with the outputs as separate arguments
        values = tuple(args[0]) if len(args) == 1 else args
        if len(values) != len(cls._fields):
            raise TypeError(f"torch.return_types.{cls.__name__} takes a {len(cls._fields)}-sequence "
                            f"({len(values)}-sequence given)")
        return super().__new__(cls, values)

    def __repr__(self) -> str:
        body = ",\n".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    __str__ = __repr__

    def __reduce__(self) -> tuple:
        return (type(self), (tuple(self),))

    @property
    def n_fields(self) -> int:
        return len(self._fields)

    n_sequence_fields = n_fields


def _structseq(name: str, fields: tuple) -> type:
    namespace: dict[str, Any] = {"__slots__": (), "_fields": fields, "__module__": __name__,
                                 "__qualname__": name}
    for i, field in enumerate(fields):
        namespace[field] = property(lambda self, _i=i: tuple.__getitem__(self, _i))
    return type(name, (_StructSeq,), namespace)


max = _structseq("max", ("values", "indices"))  # noqa: A001
min = _structseq("min", ("values", "indices"))  # noqa: A001
sort = _structseq("sort", ("values", "indices"))
topk = _structseq("topk", ("values", "indices"))
kthvalue = _structseq("kthvalue", ("values", "indices"))
median = _structseq("median", ("values", "indices"))
mode = _structseq("mode", ("values", "indices"))
aminmax = _structseq("aminmax", ("min", "max"))
cummax = _structseq("cummax", ("values", "indices"))
cummin = _structseq("cummin", ("values", "indices"))
