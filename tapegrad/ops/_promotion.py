"""The dtype an op computes in: torch's result type over tensors (dimensioned, 0-dim) and Python
scalars (see Note [Type promotion] in tapegrad/_dtype.py), and the casting of the inputs to it."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from . import _registry as R


def _result_dtype(values: Sequence[Any]) -> D.dtype:
    dims = zeros = scalars = None
    promote = D._PROMOTE
    for v in values:
        if isinstance(v, R.Tensor):
            d = D._BY_NUMPY[v._data.dtype]
            if v._data.ndim:
                dims = d if dims is None else promote[(dims, d)]
            else:
                zeros = d if zeros is None else promote[(zeros, d)]
        elif v is not None and not isinstance(v, str):
            d = D.scalar_dtype(v)
            scalars = d if scalars is None else promote[(scalars, d)]
    return D.result_type_of(dims, zeros, scalars)


def result_type(*values: Any) -> D.dtype:
    """torch.result_type over tensors and Python scalars."""
    return _result_dtype(values)


def _to_float(d: D.dtype) -> D.dtype:
    return d if (d._category >= 2) else D.get_default_dtype()


def compute_dtype(op: Any, args: tuple) -> D.dtype | None:
    """The dtype the op computes in (inputs are cast to it), or None when it keeps its inputs'."""
    kind = op.promote
    if kind == "none":
        return None
    vals = [args[i] for i in op.promote_idx]
    if op.list_input:
        vals = list(vals[0])
    if kind == "float":  # unary math: integers become the default float dtype
        return _to_float(D._BY_NUMPY[vals[0]._data.dtype])
    dt = _result_dtype(vals)
    if kind == "common_float":
        return _to_float(dt)
    return dt


def _cast_arrays(op: Any, args: list, target: D.dtype) -> None:
    npd = target.numpy
    for i in op.promote_idx:
        a = args[i]
        if op.list_input:
            args[i] = [x if x.dtype == npd else x.astype(npd) for x in a]
        elif a.__class__ is np.ndarray and a.dtype != npd:
            args[i] = a.astype(npd)
