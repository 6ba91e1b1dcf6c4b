"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty/eye/arange/linspace/logspace,
their `*_like` forms, and the legacy `torch.Tensor(...)` constructor."""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, Sequence

import numpy as np

from . import _dtype as D
from ._device import check_device
from ._tensor import Tensor, make

_COPY_WARNING = ("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                 "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).")


def _finish(array: np.ndarray, requires_grad: bool, cls: type = Tensor) -> Tensor:
    if requires_grad and array.dtype.kind not in "fc":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return make(array, bool(requires_grad), None, 0, cls=cls)


def _python_category(x: Any) -> int:
    if isinstance(x, (bool, np.bool_)):
        return 0
    if isinstance(x, (int, np.integer)):
        return 1
    if isinstance(x, (float, np.floating)):
        return 2
    if isinstance(x, (complex, np.complexfloating)):
        return 3
    raise TypeError(f"new(): invalid data type '{type(x).__name__}'")


def _scan(data: Any, depth: int, shape: list, found: dict) -> None:
    """Check that nested sequences are rectangular; record the widest element kind."""
    if isinstance(data, Tensor):
        if data._data.ndim:
            _scan(data._data, depth, shape, found)
            return
        data = data._data
    if isinstance(data, np.ndarray):
        dims = data.shape
        for i, n in enumerate(dims):
            _check_len(depth + i, n, shape)
        if len(shape) > depth + len(dims):
            raise ValueError(f"expected sequence of length {shape[depth + len(dims)]} at dim {depth + len(dims)} "
                             f"(got {dims})") if dims else TypeError("not a sequence")
        found.setdefault("numpy", []).append(data.dtype)
        return
    if isinstance(data, (list, tuple)):
        _check_len(depth, len(data), shape)
        for x in data:
            _scan(x, depth + 1, shape, found)
        return
    if len(shape) > depth:
        raise TypeError(f"not a sequence")
    found["cat"] = max(found.get("cat", -1), _python_category(data))


def _check_len(depth: int, n: int, shape: list) -> None:
    if depth == len(shape):
        shape.append(n)
    elif shape[depth] != n:
        raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got {n})")


def _to_array(data: Any, dtype: D.dtype | None) -> np.ndarray:
    """Nested Python data as an array of torch's inferred (or the given) dtype."""
    if isinstance(data, Tensor):
        return np.array(data._data, dtype=dtype.numpy if dtype else None, copy=True)
    if isinstance(data, np.generic) and data.dtype in D._BY_NUMPY:
        data = np.asarray(data)  # a NumPy scalar keeps its dtype, as in torch
    if isinstance(data, np.ndarray):
        return np.array(data, dtype=dtype.numpy if dtype else None, copy=True)
    shape: list = []
    found: dict = {}
    _scan(data, 0, shape, found)
    if dtype is None:
        cat = found.get("cat", -1)
        kinds = [D.from_numpy(d) for d in found.get("numpy", [])]
        if kinds:
            best = kinds[0]
            for k in kinds[1:]:
                best = D.promote_types(best, k)
            if cat > best._category:
                best = D.scalar_dtype([False, 0, 0.0, 0j][cat])
            dtype = best
        elif cat == 0:
            dtype = D.bool_
        elif cat == 1:
            dtype = D.int64
        elif cat == 3:
            dtype = D.default_complex()
        else:
            dtype = D.get_default_dtype()
    flat = _flatten(data)
    try:
        out = np.array(flat, dtype=dtype.numpy)
    except OverflowError:
        raise RuntimeError(f"value cannot be converted to type {dtype.name.replace('torch.', '')} without "
                           "overflow") from None
    return out.reshape(shape)


def _flatten(data: Any) -> Any:
    if isinstance(data, (list, tuple)):
        if data and all(isinstance(x, numbers.Number) and not isinstance(x, np.ndarray) for x in data):
            return list(data)
        out: list = []
        for x in data:
            part = _flatten(x)
            if isinstance(part, list):
                out.extend(part)
            else:
                out.append(part)
        return out
    if isinstance(data, Tensor):
        return data._data.ravel().tolist() if data._data.ndim else data._data.item()
    if isinstance(data, np.ndarray):
        return data.ravel().tolist()
    return data


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of `data` (nested sequences, scalars, arrays, tensors)."""
    check_device(device)
    if isinstance(data, Tensor):
        warnings.warn(_COPY_WARNING, UserWarning, stacklevel=2)
    dt = D.as_dtype(dtype) if dtype is not None else None
    return _finish(_to_array(data, dt), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor, sharing memory with a tensor or NumPy array when the dtype allows."""
    check_device(device)
    dt = D.as_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        return data if dt is None or dt.numpy == data._data.dtype else data.to(dt)
    if isinstance(data, np.generic) and data.dtype in D._BY_NUMPY:
        data = np.asarray(data)
    if isinstance(data, np.ndarray) and data.dtype in D._BY_NUMPY:
        if dt is None or dt.numpy == data.dtype:
            return make(data, False, None, 0)
        return make(data.astype(dt.numpy), False, None, 0)
    return _finish(_to_array(data, dt), False)


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """torch.asarray: like as_tensor, with an explicit copy choice."""
    out = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        out = make(np.array(out._data, copy=True), False, None, 0)
    if requires_grad:
        out.requires_grad_(True)
    return out


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if ndarray.dtype not in D._BY_NUMPY:
        raise TypeError(f"can't convert np.ndarray of type numpy.{ndarray.dtype.name}. The only supported types "
                        "are: float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, "
                        "uint32, uint16, uint8, and bool.")
    return make(ndarray, False, None, 0)


# --- sized factories --------------------------------------------------------------------
def size_args(size: Sequence[Any]) -> tuple:
    """`f(2, 3)`, `f((2, 3))` or `f(torch.Size(...))` as a tuple of non-negative ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"expected a sequence of integers or a single integer, got '{type(s).__name__}'")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: [{', '.join(map(str, size))}]")
        out.append(int(s))
    return tuple(out)


def _factory_dtype(dtype: Any) -> np.dtype:
    return D.as_dtype(dtype).numpy if dtype is not None else D.get_default_dtype().numpy


def zeros(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of zeros."""
    check_device(device)
    return _finish(np.zeros(size_args(size), _factory_dtype(dtype)), requires_grad)


def ones(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor of ones."""
    check_device(device)
    return _finish(np.ones(size_args(size), _factory_dtype(dtype)), requires_grad)


def empty(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, pin_memory: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialised tensor (zero-filled here, so runs are reproducible)."""
    check_device(device)
    return _finish(np.zeros(size_args(size), _factory_dtype(dtype)), requires_grad)


def _fill_dtype(fill_value: Any) -> np.dtype:
    if isinstance(fill_value, Tensor):
        return fill_value._data.dtype
    return D.scalar_dtype(fill_value).numpy


def full(size: Sequence[int], fill_value: Any, *, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A tensor filled with `fill_value` (its dtype inferred from the value unless given)."""
    check_device(device)
    npd = D.as_dtype(dtype).numpy if dtype is not None else _fill_dtype(fill_value)
    value = fill_value._data if isinstance(fill_value, Tensor) else fill_value
    return _finish(np.full(size_args((size,) if not isinstance(size, (int, np.integer)) else (size,)), value, npd),
                   requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A 0-dim tensor (default float dtype)."""
    return _finish(np.array(s, _factory_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """The n x m identity matrix."""
    check_device(device)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(np.eye(n, n if m is None else m, dtype=_factory_dtype(dtype)), requires_grad)


def _number(x: Any) -> Any:
    return x.item() if isinstance(x, Tensor) else x


def arange(start: Any, end: Any = None, step: Any = 1, *, out: Any = None, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Values from start (inclusive) to end (exclusive) by step."""
    check_device(device)
    start, end, step = _number(start), _number(end), _number(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        floating = any(isinstance(v, float) for v in (start, end, step))
        npd = D.get_default_dtype().numpy if floating else np.int64
    else:
        npd = D.as_dtype(dtype).numpy
    n = max(int(math.ceil((end - start) / step)), 0)
    values = start + np.arange(n, dtype=np.float64) * step if np.dtype(npd).kind == "f" else \
        np.arange(start, start + n * step, step)[:n]
    return _finish(np.asarray(values).astype(npd), requires_grad)


def range_(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """torch.range (deprecated): like arange but including end."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    n = int(math.floor((end - start) / step)) + 1
    return _finish((start + np.arange(n, dtype=np.float64) * step).astype(_factory_dtype(dtype)), requires_grad)


def _linspace_values(start: float, end: float, steps: int) -> np.ndarray:
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 1:
        return np.array([start], dtype=np.float64)
    step = (end - start) / (steps - 1)
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    return np.where(i < half, start + step * i, end - step * (steps - 1 - i))


def linspace(start: Any, end: Any, steps: int, *, out: Any = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive."""
    check_device(device)
    values = _linspace_values(float(_number(start)), float(_number(end)), int(steps))
    return _finish(values.astype(_factory_dtype(dtype)), requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, out: Any = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """`steps` values base**x for x evenly spaced from start to end."""
    check_device(device)
    values = np.power(base, _linspace_values(float(_number(start)), float(_number(end)), int(steps)))
    return _finish(values.astype(_factory_dtype(dtype)), requires_grad)


# --- *_like -------------------------------------------------------------------------------
def _like_dtype(input: Tensor, dtype: Any) -> np.dtype:
    return D.as_dtype(dtype).numpy if dtype is not None else input._data.dtype


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Zeros with input's shape and dtype."""
    return _finish(np.zeros(input._data.shape, _like_dtype(input, dtype)), requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Ones with input's shape and dtype."""
    return _finish(np.ones(input._data.shape, _like_dtype(input, dtype)), requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """An uninitialised (zero-filled) tensor with input's shape and dtype."""
    return _finish(np.zeros(input._data.shape, _like_dtype(input, dtype)), requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """`fill_value` everywhere, with input's shape and dtype."""
    value = fill_value._data if isinstance(fill_value, Tensor) else fill_value
    return _finish(np.full(input._data.shape, value, _like_dtype(input, dtype)), requires_grad)


# --- legacy constructors ------------------------------------------------------------------
def legacy_tensor_new(cls: type, *args: Any, dtype: D.dtype | None = None, device: Any = None) -> Tensor:
    """`torch.Tensor(2, 3)` (uninitialised, here zeros), `torch.Tensor([1, 2])` (values), `torch.Tensor()`."""
    check_device(device)
    dt = dtype or D.get_default_dtype()
    if len(args) == 0:
        return make(np.zeros((0,), dt.numpy), False, None, 0, cls=cls)
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if src._data.dtype != dt.numpy:
            raise TypeError(f"expected {dt._legacy} (got {src.dtype._legacy})")
        return make(src._data, False, None, 0, src._version_counter, cls=cls)
    if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args) or \
            (len(args) == 1 and type(args[0]).__name__ == "Size"):
        return make(np.zeros(size_args(args), dt.numpy), False, None, 0, cls=cls)
    if len(args) == 1:
        return make(_to_array(args[0], dt), False, None, 0, cls=cls)
    raise TypeError("new() received an invalid combination of arguments")


def legacy_constructor(dtype: D.dtype, name: str) -> type:
    """A class like torch.FloatTensor: calling it builds a tensor of that dtype."""
    def new(cls: type, *args: Any, device: Any = None) -> Tensor:
        return legacy_tensor_new(Tensor, *args, dtype=dtype, device=device)
    return type(name, (), {"__new__": new, "dtype": dtype, "__doc__": f"Legacy constructor for {dtype} tensors."})


# --- Tensor.new_* (same dtype as self unless given) ---------------------------------------
def _new_dtype(self: Tensor, dtype: Any) -> D.dtype:
    return D.as_dtype(dtype) if dtype is not None else self.dtype


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """A new leaf tensor from data, with self's dtype unless given."""
    if isinstance(data, Tensor):
        warnings.warn(_COPY_WARNING, UserWarning, stacklevel=2)
    return _finish(_to_array(data, _new_dtype(self, dtype)), requires_grad)


def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              **kwargs: Any) -> Tensor:
    return zeros(*size, dtype=_new_dtype(self, dtype), requires_grad=requires_grad)


def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
             **kwargs: Any) -> Tensor:
    return ones(*size, dtype=_new_dtype(self, dtype), requires_grad=requires_grad)


def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              **kwargs: Any) -> Tensor:
    return empty(*size, dtype=_new_dtype(self, dtype), requires_grad=requires_grad)


def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, **kwargs: Any) -> Tensor:
    return full(size, fill_value, dtype=_new_dtype(self, dtype), requires_grad=requires_grad)


for _fn in (new_tensor, new_zeros, new_ones, new_empty, new_full):
    setattr(Tensor, _fn.__name__, _fn)
