"""torch.func.vmap itself: in_dims/out_dims, moving inputs in as batched tensors and results out,
chunking, and torch's errors. The machinery (batched tensors, levels, batched_dispatch) is in
_vmap.py (see its docstring)."""
from __future__ import annotations

import functools
import sys
from typing import Any, Callable

from .._vmap_state import VM
from ..ops import _registry as R
from ._pytree import tree_flatten, tree_unflatten
from ._vmap import (_get_physical, _tangents_of, carry_tangents, levels_of, mark, no_forward, physical,
                    visible_levels)

def _spec_text(x: Any) -> str:
    return str(x)


def _broadcast_in_dims(in_dims: Any, args: tuple, name: str) -> list:
    """One in_dim per flattened argument leaf (torch's errors)."""
    head = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
    if isinstance(in_dims, int) or in_dims is None:
        return [in_dims] * len(tree_flatten(args)[0])
    if not isinstance(in_dims, tuple):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if len(in_dims) != len(args):
        raise ValueError(f"{head}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
                         f"{tree_flatten(in_dims)[1]} but inputs has structure {tree_flatten(args)[1]}.")
    out: list = []

    def walk(d: Any, a: Any) -> None:
        if isinstance(d, int) or d is None:
            out.extend([d] * len(tree_flatten(a)[0]))
        elif isinstance(d, (tuple, list)) and isinstance(a, (tuple, list)) and len(d) == len(a):
            for dd, aa in zip(d, a):
                walk(dd, aa)
        elif isinstance(d, dict) and isinstance(a, dict) and d.keys() == a.keys():
            for k in a:
                walk(d[k], a[k])
        else:
            raise ValueError(f"{head}: in_dims is not compatible with the structure of `inputs`. in_dims has "
                             f"structure {tree_flatten(in_dims)[1]} but inputs has structure {tree_flatten(args)[1]}.")
    for d, a in zip(in_dims, args):
        walk(d, a)
    return out


def _move_in(x: Any, dim: int, level: int) -> Any:
    """`x` (logical dim `dim` is the batch) as a tensor batched at `level` in front; its tangents
    are moved in alike (each by its own layout)."""
    nvis = len(visible_levels(x))
    with physical(), no_forward():
        src = nvis + dim
        if src == 0:
            t = R.dispatch(R.OPS["alias"], (x,))
        else:
            t = R.FUNCTIONS["movedim"](x, src, 0)
    t = mark(t, (level,) + levels_of(x))
    return carry_tangents(t, x, lambda tan: _move_in(tan, dim, level))


def _move_out(t: Any, level: int, size: int, out_dim: int | None, name: str) -> Any:
    if _tangents_of(t):
        out = _move_out_primal(t, level, size, out_dim, name)
        return carry_tangents(out, t, lambda tan: _move_out_primal(tan, level, size, out_dim, name))
    return _move_out_primal(t, level, size, out_dim, name)


def _sole_holder(t: Any) -> bool:
    """Whether nothing but vmap's unwrapping holds `t` (so it may be unmarked in place). CPython's count:
    the function's output and its flattened list, wrapped_one's loop variable, the arguments of
    _move_out, _move_out_primal and this function, getrefcount's own and one more (3.11). A tensor held anywhere
    else (returned twice, kept by the user, or by views an enclosing graph keeps) gets an alias instead:
    telling those views apart would take a gc.get_referrers scan per output (3-6x slower per-sample
    gradients), so AliasBackward0 stays there where torch shows the op's own node."""
    return sys.getrefcount(t) <= _OUT_REFS


_OUT_REFS = 8


def _move_out_primal(t: Any, level: int, size: int, out_dim: int | None, name: str) -> Any:
    lv = levels_of(t)
    if out_dim is None:
        if lv and lv[0] == level:
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
        return t
    rest = lv[1:] if lv and lv[0] == level else lv
    nrest = 0
    for x in rest:
        if x <= VM.floor or x not in VM.live:
            break
        nrest += 1
    logical_rank = _get_physical(t).ndim - (len(lv) - len(rest)) - nrest
    if not -(logical_rank + 1) <= out_dim <= logical_rank:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-(logical_rank + 1)}, "
                         f"{logical_rank}], but got {out_dim})")
    od = out_dim % (logical_rank + 1)
    with physical(), no_forward():
        if lv and lv[0] == level:
            if nrest + od:
                out = R.FUNCTIONS["movedim"](t, 0, nrest + od)
            elif _sole_holder(t):  # vmap's own result: it leaves the level as it is (as torch's)
                out = t
            else:
                out = R.dispatch(R.OPS["alias"], (t,))
        else:
            shape = list(t._data.shape)
            u = R.FUNCTIONS["unsqueeze"](t, nrest + od)
            shape.insert(nrest + od, size)
            out = u.expand(*shape)
    return mark(out, rest)


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """`func` mapped over dimension `in_dims` of its inputs, results stacked along `out_dims`."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and not (isinstance(chunk_size, int) and chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    name = getattr(func, "__name__", repr(func))

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        flat, spec = tree_flatten(args)
        dims = _broadcast_in_dims(in_dims, args, name)
        size = None
        for x, d in zip(flat, dims):
            if d is None:
                continue
            if not isinstance(d, int):
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims must be int or None")
            if not isinstance(x, R.Tensor):
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                                 f"the input is of type {type(x)}. We cannot vmap over non-Tensor arguments, please "
                                 f"use None as the respective in_dim")
            n = x.dim()
            if not -n <= d < n:
                raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, but "
                                 f"that input is a Tensor of dimensionality {n} so expected in_dim to satisfy "
                                 f"-{n} <= in_dim < {n}.")
        sizes = [x.shape[d] for x, d in zip(flat, dims) if d is not None]
        if not sizes:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): at least one input must be batched "
                             f"(got in_dims that are all None)")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                             f"{sizes} for the mapped dimension")
        size = sizes[0]
        if chunk_size is not None and size > chunk_size:
            return _chunked(wrapped_one, flat, dims, spec, size, kwargs)
        return wrapped_one(flat, dims, spec, size, kwargs)

    def wrapped_one(flat: list, dims: list, spec: Any, size: int, kwargs: dict) -> Any:
        VM.counter += 1
        level = VM.counter
        VM.stack.append((level, size, randomness))
        VM.refresh()
        try:
            moved = [x if d is None else _move_in(x, d % x.dim(), level) for x, d in zip(flat, dims)]
            out = func(*tree_unflatten(moved, spec), **kwargs)
            out_flat, out_spec = tree_flatten(out)
            if isinstance(out_dims, tuple):
                if not isinstance(out, tuple) or len(out_dims) != len(out):
                    raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible "
                                     f"with the structure of `outputs`. out_dims has structure "
                                     f"{tree_flatten(out_dims)[1]} but outputs has structure {out_spec}.")
                ods = []
                for od, o in zip(out_dims, out):
                    ods.extend([od] * len(tree_flatten(o)[0]))
            else:
                ods = [out_dims] * len(out_flat)
            results = []
            for o, od in zip(out_flat, ods):
                if not isinstance(o, R.Tensor):
                    if od is None:
                        results.append(o)
                        continue
                    raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(o)}. "
                                     f"Did you mean to set out_dims= to None for output?")
                results.append(_move_out(o, level, size, od, name))
        finally:
            VM.stack.pop()
            VM.refresh()
        return tree_unflatten(results, out_spec)

    def _chunked(run: Callable, flat: list, dims: list, spec: Any, size: int, kwargs: dict) -> Any:
        pieces = []
        for start in range(0, size, chunk_size):
            n = min(chunk_size, size - start)
            part = [x if d is None else x.narrow(d, start, n) for x, d in zip(flat, dims)]
            pieces.append(run(part, dims, spec, n, kwargs))
        first_flat, out_spec = tree_flatten(pieces[0])
        ods = out_dims if not isinstance(out_dims, tuple) else None
        cols = []
        for k in range(len(first_flat)):
            od = ods if ods is not None else tree_flatten(out_dims)[0][k]
            items = [tree_flatten(p)[0][k] for p in pieces]
            cols.append(items[0] if od is None else R.FUNCTIONS["cat"](items, od))
        return tree_unflatten(cols, out_spec)

    return wrapped
