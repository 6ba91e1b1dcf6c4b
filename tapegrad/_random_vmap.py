"""Random ops inside vmap: which batch elements share values, and where each value is drawn, as
torch's batching rules for random ops decide (batched tensors and levels: func/_vmap.py).

Note [Random batching]
torch applies a random op's batching rule once per vmap level, innermost level first:
- randomness='error' raises at any level;
- 'same': an op reading tensor values (bernoulli, normal, poisson, multinomial, bernoulli_'s p)
  raises if that tensor is batched at the level; the *_like factories draw like one batch element
  (its layout); an in-place fill of a tensor batched at the level draws into a fresh tensor of
  the level's logical shape and copies it over the batch, so an outer 'different' level then
  finds an unbatched tensor and raises as torch does;
- 'different' moves the level's batch dim to the front (expanding an input not batched there).
  An in-place fill refuses it on a tensor not batched at the level.
So the op finally runs once on a physical tensor whose 'different' batch dims lead, outermost
level first, and draws what the plain op draws on that tensor: in memory order for in-place
fills, in the memory order of a fresh tensor with the input's stride order for the *_like
factories (torch's empty_like), in logical order for the others.  Here that tensor is built in
torch's order (`arrange`), the plain op runs on it, and the values go back to tapegrad's layout
(innermost level first).  Factories without tensor inputs draw in the same order (rand(4) under
two 'different' levels draws over (outer, inner, 4)); randperm, which torch loops over the
batch, draws one permutation per element innermost level slowest.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._vmap_state import VM, _RANDOM_ERROR, _SAME_BATCHED, check_random, visible_stack

_UNBATCHED_INPLACE = ("vmap: Cannot ask for different inplace randomness on an unbatched tensor. This will appear "
                      "like same randomness. If this is necessary for your usage, please file an issue with "
                      "functorch.")
_BERNOULLI_INCOMPATIBLE = (
    "vmap: inplace bernoulli(self, *extra_args) is not possible because there exists a Tensor `other` in "
    "extra_args that has more elements than `self`. This happened due to `other` being vmapped over but `self` "
    "not being vmapped over in a vmap. Please try to use out-of-place operators instead of inplace bernoulli. If "
    "said operator is being called inside the PyTorch framework, please file a bug report instead.")


def _vis(t: Any) -> tuple:
    from .func._vmap import visible_levels
    return visible_levels(t)


def _sizes() -> dict:
    return {lv: size for lv, size, _ in VM.stack}


def arrange(arr: np.ndarray, levs: tuple, order: tuple, sizes: dict, broadcast: bool = True) -> np.ndarray:
    """A view of `arr` (leading dims belong to the levels `levs`, the rest are logical) whose leading
    dims are the levels `order`: levels `arr` lacks are broadcast (size 1 if not `broadcast`),
    levels `order` lacks keep index 0."""
    if any(lv not in order for lv in levs):
        arr = arr[tuple(slice(None) if lv in order else 0 for lv in levs)]
        levs = tuple(lv for lv in levs if lv in order)
    missing = tuple(lv for lv in order if lv not in levs)
    if missing:
        arr = arr[(None,) * len(missing)]
    have = missing + levs
    perm = [have.index(lv) for lv in order] + list(range(len(have), arr.ndim))
    if perm != list(range(arr.ndim)):
        arr = arr.transpose(perm)
    if missing and broadcast:
        arr = np.broadcast_to(arr, tuple(sizes[lv] for lv in order) + arr.shape[len(order):])
    return arr


def innermost_first(values: np.ndarray, k: int) -> np.ndarray:
    """Values drawn with `k` batch dims outermost level first, in tapegrad's layout (innermost first)."""
    if k < 2:
        return values
    return values.transpose(tuple(range(k - 1, -1, -1)) + tuple(range(k, values.ndim)))


def factory_levels() -> tuple:
    """(levels, sizes) for a factory without tensor inputs: the 'different' levels (innermost
    first) and their batch sizes outermost first, the order torch draws them in; torch's error
    under randomness='error'."""
    levels = check_random() if VM.active else ()
    sizes = _sizes() if levels else {}
    return levels, tuple(sizes[lv] for lv in reversed(levels))


def batched(t: Any, levels: tuple) -> Any:
    """`t`, drawn with the batch dims of `levels` in front outermost first, batched at `levels`."""
    if levels:
        from .func._vmap import mark
        if len(levels) > 1:
            t._data = innermost_first(t._data, len(levels))
        mark(t, levels)
    return t


# --- ops reading tensors (bernoulli, normal, poisson, multinomial) ------------------------------
def tensor_levels(*inputs: Any) -> tuple | None:
    """None outside vmap; else the 'different' levels (innermost first) over which an op reading
    the tensors among `inputs` draws (torch's errors raised as in Note [Random batching])."""
    if not VM.active:
        return None
    from ._tensor import Tensor
    batched = set()
    for t in inputs:
        if isinstance(t, Tensor):
            batched.update(_vis(t))
    return check_random(batched)


def run_physical(levels: tuple, fn: Callable, *inputs: Any) -> Any:
    """`fn` run once on `inputs` made physical in torch's order (batch dims of `levels` in front,
    outermost first, inputs not batched at a level expanded), its Tensor result put back batched."""
    from ._tensor import Tensor
    from .func._batch_rules import _full
    from .func._vmap import levels_of, mark, physical
    k = len(levels)
    rest: tuple = ()
    with physical():
        args = []
        for t in inputs:
            if isinstance(t, Tensor):
                own = levels_of(t)[len(_vis(t)):]
                rest = own if len(own) > len(rest) else rest
                t = _full(t, levels)
                if k > 1:
                    t = t.permute(tuple(range(k - 1, -1, -1)) + tuple(range(k, t.dim())))
            args.append(t)
        out = fn(*args)
        if k > 1:
            out = out.permute(tuple(range(k - 1, -1, -1)) + tuple(range(k, out.dim())))
    return mark(out, levels + rest)


# --- the *_like factories ---------------------------------------------------------------------
def like_target(input: Any) -> tuple:
    """(array, levels): the physical array in torch's order whose layout a *_like factory copies
    inside vmap, and the 'different' levels (innermost first) its leading dims belong to."""
    from .func._vmap import physical_data
    levels = check_random()
    order = tuple(reversed(levels))
    return arrange(physical_data(input), _vis(input), order, _sizes()), levels


def dense_perm(a: np.ndarray) -> list | None:
    """The dims of a fresh tensor like `a` (torch's empty_like: `a`'s stride order, stride-0 dims
    left in place, equal strides by size) from slowest to fastest; None when that is C order."""
    n = a.ndim
    if n < 2 or a.flags.c_contiguous or a.size == 0 or min(a.strides) < 0:
        return None
    st, sh = a.strides, a.shape

    def after(d0: int, d1: int) -> int:  # 1: d0 is slower than d1, -1: faster, 0: keep the order
        if st[d0] == 0 or st[d1] == 0:
            return 0
        if st[d0] != st[d1]:
            return 1 if st[d0] > st[d1] else -1
        return 1 if sh[d0] > sh[d1] else 0
    fast = list(range(n - 1, -1, -1))  # fastest first, sorted by insertion (stable)
    for i in range(1, n):
        j = i
        for k in range(i - 1, -1, -1):
            c = after(fast[k], fast[j])
            if c > 0:
                fast[k], fast[j] = fast[j], fast[k]
                j = k
            elif c < 0:
                break
    perm = fast[::-1]
    if [d for d in perm if sh[d] != 1] == [d for d in range(n) if sh[d] != 1]:
        return None
    return perm


def like_values(like: np.ndarray, draw: Callable[[tuple], np.ndarray]) -> np.ndarray:
    """`draw`'s values laid out as a fresh tensor like `like`: drawn in its memory order."""
    perm = dense_perm(like)
    if perm is None:
        return draw(like.shape)
    values = draw(tuple(like.shape[i] for i in perm))
    return np.transpose(values, np.argsort(perm))


# --- in-place fills -----------------------------------------------------------------------------
class FillTarget:
    """Where an in-place fill of a tensor inside vmap draws (Note [Random batching]).

    `array`: the physical array in torch's order that the plain fill would fill (a view of the
    tensor's data, or a fresh array for a 'same' level at which the tensor is batched); `probs`:
    bernoulli_'s p as an array broadcast to it (or None); `back(values)`: values drawn over
    `array` in the tensor's physical layout."""

    def __init__(self, self_t: Any, p: Any, quirk: bool = False) -> None:
        from ._tensor import Tensor
        from .func._vmap import physical_data
        own = _vis(self_t)
        p_lv = _vis(p) if isinstance(p, Tensor) else ()
        fresh = False
        different: list = []
        stack = visible_stack()
        for i, (lv, _size, mode) in enumerate(stack):
            outer = [o for o, _, _ in stack[i + 1:]]
            if mode == "error":
                raise RuntimeError(_RANDOM_ERROR)
            if mode == "same" and lv in p_lv:
                raise RuntimeError(_SAME_BATCHED)
            batched = lv in own and not fresh
            if lv in p_lv and not batched:
                raise RuntimeError(_BERNOULLI_INCOMPATIBLE)
            if mode == "different":
                if not batched or (quirk and any(o in own for o in outer)):
                    raise RuntimeError(_UNBATCHED_INPLACE)
                different.append(lv)
            elif batched:
                fresh = True  # drawn into a fresh tensor, copied over this level's batch
        self.order = tuple(reversed(different))
        self.own = own
        self.sizes = _sizes()
        data = physical_data(self_t)
        if fresh:
            lead = tuple(self.sizes[lv] for lv in self.order)
            self.array = np.empty(lead + data.shape[len(own):], data.dtype)
        else:
            self.array = arrange(data, own, self.order, self.sizes)
        self.probs = None
        if isinstance(p, Tensor):
            self.probs = self._align(physical_data(p), p_lv, fresh)

    def _align(self, probs: np.ndarray, levs: tuple, fresh: bool) -> np.ndarray:
        """p broadcast to `array`, with torch's expand errors (shapes as torch's batching rule sees
        them: a batched tensor and a batched p padded to the larger logical rank)."""
        from .ops.shape import _expand
        k = len(self.order)
        target = self.array.shape
        p_rank = probs.ndim - len(levs)
        if levs:
            probs = arrange(probs, levs, self.order, self.sizes, broadcast=False)
            pad = (len(target) - k) - p_rank
            if pad > 0:
                probs = probs.reshape(probs.shape[:k] + (1,) * pad + probs.shape[k:])
        if k and not fresh and p_rank > len(target) - k:
            target = target[:k] + (1,) * (p_rank - (len(target) - k)) + target[k:]
        full = _expand(probs, target)
        return full.reshape(self.array.shape) if full.shape != self.array.shape else full

    def back(self, values: np.ndarray) -> np.ndarray:
        return arrange(values, self.order, self.own, self.sizes)


def fill_target(self_t: Any, p: Any = None) -> FillTarget | None:
    """None outside vmap; else the FillTarget (torch's errors first).  torch refuses bernoulli_
    with a float p at a 'different' level when the tensor is batched at an outer level too (it
    reports the tensor unbatched); so does this."""
    if not VM.active:
        return None
    from ._tensor import Tensor
    return FillTarget(self_t, p, quirk=p is not None and not isinstance(p, Tensor))
