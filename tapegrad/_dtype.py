"""torch's dtypes, their NumPy storage types, and torch's type-promotion rules.

NumPy's own promotion differs from torch's (int + float16 -> float64 in NumPy, float16 in
torch; Python floats and 0-dim tensors are 'weak' in torch), so every op asks this module
for its result dtype and never lets NumPy decide. See Note [Type promotion].
"""
from __future__ import annotations

import numpy as np

__all__ = ["dtype", "get_default_dtype", "set_default_dtype", "promote_types", "to_numpy", "from_numpy"]


class dtype:
    """A torch data type: `torch.float32`, `torch.int64`, ... (repr is `torch.<name>`)."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_complex", "is_signed", "itemsize", "_category",
                 "_rank", "_legacy")

    def __init__(self, name: str, numpy_type: type, category: int, rank: int, legacy: str) -> None:
        self.name = name
        self.numpy = np.dtype(numpy_type)
        self._category = category  # 0 bool, 1 integer, 2 floating, 3 complex
        self._rank = rank
        self._legacy = legacy  # e.g. 'Float' as in torch.FloatTensor
        self.is_floating_point = category == 2
        self.is_complex = category == 3
        self.is_signed = name not in ("bool", "uint8")
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self) -> "dtype":
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self) -> "dtype":
        return {"float32": complex64, "float64": complex128, "float16": complex64}.get(self.name, self)

    @property
    def is_bool(self) -> bool:
        return self._category == 0


bool_ = dtype("bool", np.bool_, 0, 0, "Bool")
uint8 = dtype("uint8", np.uint8, 1, 1, "Byte")
int8 = dtype("int8", np.int8, 1, 1, "Char")
int16 = dtype("int16", np.int16, 1, 2, "Short")
int32 = dtype("int32", np.int32, 1, 3, "Int")
int64 = dtype("int64", np.int64, 1, 4, "Long")
float16 = dtype("float16", np.float16, 2, 1, "Half")
float32 = dtype("float32", np.float32, 2, 2, "Float")
float64 = dtype("float64", np.float64, 2, 3, "Double")
complex64 = dtype("complex64", np.complex64, 3, 2, "ComplexFloat")
complex128 = dtype("complex128", np.complex128, 3, 3, "ComplexDouble")

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64, complex64, complex128)
_BY_NUMPY = {d.numpy: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
ALIASES = {
    "bool": bool_, "uint8": uint8, "int8": int8, "int16": int16, "short": int16, "int32": int32, "int": int32,
    "int64": int64, "long": int64, "float16": float16, "half": float16, "float32": float32, "float": float32,
    "float64": float64, "double": float64, "complex64": complex64, "cfloat": complex64,
    "complex128": complex128, "cdouble": complex128,
}

_default_float = float32


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def get_default_dtype() -> dtype:
    """The dtype of floating tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float32 or float64, as torch allows)."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type")
    _default_float = d


def default_complex() -> dtype:
    return complex128 if _default_float is float64 else complex64


def from_numpy(np_dtype) -> dtype:
    """The torch dtype storing values as `np_dtype`; TypeError for NumPy types torch lacks."""
    try:
        return _BY_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: float64, "
            "float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.") from None


def to_numpy(d: dtype | None) -> np.dtype:
    """NumPy storage type of a torch dtype; None means the default float dtype."""
    if d is None:
        return _default_float.numpy
    return as_dtype(d).numpy


def as_dtype(d) -> dtype:
    """Accept a tapegrad dtype, a Python type (float, int, bool, complex), or a NumPy dtype."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return float64
    if d is int:
        return int64
    if d is bool:
        return bool_
    if d is complex:
        return complex128
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        if name in ALIASES:
            return ALIASES[name]
    try:
        return from_numpy(d)
    except TypeError:
        raise TypeError(f"dtype must be a torch.dtype (got {type(d).__name__})") from None


# Note [Type promotion]
# torch's promote_types over two dtypes: the higher category wins; within a category the
# larger rank wins, with the quirks that uint8 + int8 -> int16 and any integer + float16 stays
# float16. Results of an op combine operands in three priority groups: tensors with dim > 0,
# 0-dim tensors, Python scalars ("wrapped numbers"). A lower-priority group only matters when
# its category is higher (a Python float turns an int tensor into the default float dtype,
# but never turns a float16 tensor into float32).
def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a._category != b._category:
        hi, lo = (a, b) if a._category > b._category else (b, a)
        if hi.is_complex and lo.is_floating_point and lo is float64:
            return complex128
        return hi
    if a._category == 1:
        if {a.name, b.name} == {"uint8", "int8"}:
            return int16
        if a is uint8:
            return b
        if b is uint8:
            return a
    return a if a._rank >= b._rank else b


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types."""
    return _PROMOTE[(a, b)]


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar takes as a wrapped number (bool, int64, default float/complex)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, complex):
        return default_complex()
    return _default_float


def combine_categories(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """Merge a higher-priority group's dtype with a lower-priority group's (see Note [Type promotion])."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return _PROMOTE[(higher, lower)]
    return higher


def result_type_of(dims: dtype | None, zeros: dtype | None, scalars: dtype | None) -> dtype:
    return combine_categories(dims, combine_categories(zeros, scalars))
