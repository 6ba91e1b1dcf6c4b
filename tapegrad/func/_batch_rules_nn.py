"""Batching rules for indexing, filling, nn kernels, their backward-only entries and losses.

Same contract as func/_batch_rules.py (whose `_NAMED` takes `NAMED` from here): a rule gets
(op, args, union), runs with dispatch in physical mode and returns the physical result with
the batch dims of `union` in front, or None to ask for the loop fallback. A rule with an
`inplace` attribute also batches the op's in-place form: `rule.inplace(op, args, levels)`
returns the (op, physical args) that `apply_inplace` then runs into self (see
`inplace_batched` in func/_vmap.py).

Note [Batched advanced indexing]
`x[i0, ..., ik]` with batched x or indices becomes one advanced index of the physical x: an
arange per batch dim, and an arange for every sliced dim before the last index, each laid
along its own dim of the index broadcast, so the result is the batch dims followed by the
logical result (NumPy's placement of split advanced indices included). index_put writes
through the same index, so accumulate=True adds each batch element into its own slice.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from ..ops import _registry as R
from ._batch_rules import (_full, _lrank, _wrap, align, all_reduction, dim_expand_rule, fold_rule, leading_rule,
                           pointwise)
from ._vmap import BatchedTensor, _Lane, batch_size_of, physical_data, visible_levels

_NONE, _MEAN, _SUM = 0, 1, 2


def _batched(t: Any) -> bool:
    return t.__class__ is BatchedTensor and bool(visible_levels(t))


def _sizes(union: tuple) -> tuple:
    return tuple(batch_size_of(lv) for lv in union)


def _const(a: np.ndarray) -> Any:
    return R._make(a, False, None, 0)


def _np_aligned(t: Any, union: tuple) -> np.ndarray:
    """The physical array of an index (tensor, lane or array) with one dim per level of `union`
    (size 1 where it is not batched) in front of its logical dims."""
    if isinstance(t, _Lane) and t._src is not None:
        t = t._src
    if isinstance(t, R.Tensor):
        if not _batched(t):
            return np.asarray(physical_data(t)).reshape((1,) * len(union) + physical_data(t).shape)
        return align(t, union, None)._data
    a = np.asarray(t).view(np.ndarray)
    return a.reshape((1,) * len(union) + a.shape)


def _index_batched(e: Any) -> bool:
    if isinstance(e, _Lane):
        return e._src is not None
    return isinstance(e, R.Tensor) and _batched(e)


def physical_indices(indices: Any, logical_shape: tuple, union: tuple) -> list:
    """The physical index for `x[indices]` with the batch dims of `union` in front of x
    (Note [Batched advanced indexing])."""
    nb = len(union)
    sizes = _sizes(union)
    used = [k for k, e in enumerate(indices) if e is not None]
    if not used:
        return [None] * (nb + len(indices))
    first, last = used[0], used[-1]
    split = used != list(range(first, last + 1))
    sliced = [k for k in range(last) if indices[k] is None]
    arrs = {k: _np_aligned(indices[k], union) for k in used}
    r = max(a.ndim - nb for a in arrs.values())
    total = nb + len(sliced) + r
    r_at = nb if split else nb + len(sliced)           # where the broadcast index dims go
    s_at = nb + r if split else nb                     # where the sliced dims go
    out: list = []
    for j, s in enumerate(sizes):
        shape = [1] * total
        shape[j] = s
        out.append(np.arange(s).reshape(shape))
    for k in range(last + 1):
        if k in arrs:
            a = arrs[k]
            body = a.shape[nb:]
            shape = [1] * total
            shape[:nb] = a.shape[:nb]
            shape[r_at + r - len(body):r_at + r] = body
            out.append(a.astype(np.int64, copy=False).reshape(shape))
        else:
            shape = [1] * total
            m = sliced.index(k)
            shape[s_at + m] = logical_shape[k]
            out.append(np.arange(logical_shape[k]).reshape(shape))
    return out


def _logical_shape(t: Any) -> tuple:
    d = physical_data(t)
    return tuple(d.shape[len(visible_levels(t)):]) if t.__class__ is BatchedTensor else tuple(d.shape)


def index_rule(op: Any, args: tuple, union: tuple) -> Any:
    """self[indices], self and indices batched in any combination: one advanced index."""
    self, indices = args[0], args[1]
    x = _full(self, union)
    return R.dispatch(op, (x, physical_indices(indices, _logical_shape(self), union)))


def _logical_index_shape(e: Any) -> tuple:
    if isinstance(e, _Lane):
        return e.shape
    if isinstance(e, R.Tensor):
        return _logical_shape(e)
    return np.shape(e)


def _index_put_args(args: tuple, union: tuple, x: Any) -> tuple:
    from ..ops.indexing import index_result_shape
    self, indices, values = args[0], args[1], args[2]
    idx = physical_indices(indices, _logical_shape(self), union)
    if _batched(values):
        probe = [None if e is None else np.empty(_logical_index_shape(e), np.int8) for e in indices]
        values = align(values, union, len(index_result_shape(_logical_shape(self), probe)))
    return (x, idx, values) + tuple(args[3:])


def index_put_rule(op: Any, args: tuple, union: tuple) -> Any:
    """index_put (x[idx] = v, accumulate too) with self, indices and values batched in any combination."""
    return R.dispatch(op, _index_put_args(args, union, _full(args[0], union)))


def _index_put_inplace(op: Any, args: tuple, levels: tuple) -> tuple:
    return op, _index_put_args(args, levels, args[0])


index_put_rule.inplace = _index_put_inplace
_index_put_inplace.torch_name = "index_put_"  # named in torch's error for an unbatched self


def _flat_positions(index: Any, n: int, union: tuple) -> Any:
    """take/put's flat index into each batch element, offset into the whole physical tensor."""
    sizes = _sizes(union)
    a = _np_aligned(index, union)
    if a.dtype != np.int64:
        return None
    total = math.prod(sizes) * n
    wrapped = np.where(a < 0, a + n, a)
    wrapped = np.where((a < -n) | (a >= n), total, wrapped)  # out of range for the whole tensor too
    offset = (np.arange(math.prod(sizes)) * n).reshape(sizes + (1,) * (a.ndim - len(sizes)))
    return _const(np.broadcast_to(wrapped + offset, sizes + a.shape[len(sizes):]).copy())


def take_rule(op: Any, args: tuple, union: tuple) -> Any:
    self, index = args
    n = math.prod(_logical_shape(self))
    pos = _flat_positions(index, n, union)
    if pos is None:
        return None
    return R.dispatch(op, (_full(self, union).contiguous(), pos))


def put_rule(op: Any, args: tuple, union: tuple) -> Any:
    self, index, source, accumulate = args
    n = math.prod(_logical_shape(self))
    pos = _flat_positions(index, n, union)
    if pos is None:
        return None
    src = _full(source, union)
    return R.dispatch(op, (_full(self, union).contiguous(), pos, src, accumulate))


# ---------------------------------------------------------------------------------------
# copy / fill / masked_fill

def _copy_rule(op: Any, args: tuple, union: tuple) -> Any:
    self, src = args[0], args[1]
    rank = _lrank(self)
    s = align(src, union, rank) if _batched(src) else src
    return R.dispatch(op, (_full(self, union), s) + tuple(args[2:]))


def _copy_inplace(op: Any, args: tuple, levels: tuple) -> tuple:
    rank = _lrank(args[0])
    return op, tuple(align(a, levels, rank) if isinstance(a, R.Tensor) and _batched(a) else a for a in args)


_copy_rule.inplace = _copy_inplace
_copy_inplace.torch_name = "inplace arithmetic"


def _fill_rule(op: Any, args: tuple, union: tuple) -> Any:
    self, value = args
    x = _full(self, union)
    if not (isinstance(value, R.Tensor) and _batched(value)):
        return R.dispatch(op, (x, value))
    if _lrank(value) != 0:
        return None  # the op's own error, per element
    v = align(value, union, _lrank(self)).expand(*x._data.shape)
    return R.dispatch(R.OPS["copy_"], (x, v, False))


def _fill_inplace(op: Any, args: tuple, levels: tuple) -> tuple:
    self, value = args
    if isinstance(value, R.Tensor) and _batched(value):
        if _lrank(value) != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {_lrank(value)} "
                               "dimensions.")
        return R.OPS["copy_"], (self, align(value, levels, _lrank(self)), False)
    return op, args


_fill_rule.inplace = _fill_inplace
_fill_inplace.torch_name = "fill_"


def masked_fill_tensor_rule(op: Any, args: tuple, union: tuple) -> Any:
    """masked_fill with a 0-dim value tensor: a batched value becomes where(mask, value, self)."""
    self, mask, value = args
    if not _batched(value):
        return pointwise(op, args, union)
    if _lrank(value) != 0:
        return None
    rank = max(_lrank(self), _lrank(mask))
    x = align(self, union, rank) if _batched(self) else self
    m = align(mask, union, rank) if _batched(mask) else mask
    if m._data.dtype != np.bool_:
        return None
    out = R.FUNCTIONS["where"](m, align(value, union, rank).to(self.dtype), x)
    full = _sizes(union) + tuple(np.broadcast_shapes(_logical_shape(self), _logical_shape(mask)))
    return out.expand(*full) if tuple(out._data.shape) != full else out


# ---------------------------------------------------------------------------------------
# reductions and shape-like ops

def aminmax_rule(op: Any, args: tuple, union: tuple) -> Any:
    self, dim, keepdim = args
    nb = len(union)
    x = align(self, union, None)
    lr = _lrank(self)
    if dim is None:
        out = R.dispatch(op, (x.reshape(x._data.shape[:nb] + (-1,)), nb, False))
        if keepdim:
            shape = x._data.shape[:nb] + (1,) * lr
            return type(out)(*(o.reshape(shape) for o in out))
        return out
    return R.dispatch(op, (x, _wrap(dim, lr) + nb, keepdim))


def renorm_rule(op: Any, args: tuple, union: tuple) -> Any:
    """renorm: each batch element's sub-tensors along `dim` on their own: the batch dims join `dim`."""
    self, p, dim, maxnorm = args
    nb = len(union)
    lr = _lrank(self)
    if lr == 0:
        return None
    d = _wrap(dim, lr)
    x = align(self, union, None).movedim(nb + d, nb)
    shape = x._data.shape
    out = R.dispatch(op, (x.reshape((-1,) + shape[nb + 1:]), p, 0, maxnorm))
    return out.reshape(shape).movedim(nb, nb + d)


def diag_rule(op: Any, args: tuple, union: tuple) -> Any:
    self, diagonal = args
    nb = len(union)
    x = align(self, union, None)
    lr = _lrank(self)
    if lr == 1:
        return R.FUNCTIONS["diag_embed"](x, diagonal, -2, -1)
    if lr == 2:
        return R.FUNCTIONS["diagonal"](x, diagonal, nb, nb + 1).contiguous()
    return None


def block_diag_rule(op: Any, args: tuple, union: tuple) -> Any:
    """block_diag of batched matrices: each block padded to the full width, then one cat."""
    tensors = args[0]
    nb = len(union)
    mats = []
    for t in tensors:
        lr = _lrank(t)
        if lr > 2:
            return None
        x = _full(t, union)
        mats.append(x.reshape(x._data.shape[:nb] + (1,) * (2 - lr) + x._data.shape[nb:]))
    width = sum(m._data.shape[-1] for m in mats)
    pad = R.FUNCTIONS["constant_pad_nd"]
    left, parts = 0, []
    for m in mats:
        c = m._data.shape[-1]
        parts.append(pad(m, (left, width - left - c)))
        left += c
    return R.FUNCTIONS["cat"](parts, -2)


def one_hot_rule(op: Any, args: tuple, union: tuple) -> Any:
    if args[1] == -1:
        raise RuntimeError("When vmap-ing torch.nn.functional.one_hot, please provide an explicit positive "
                           "num_classes argument.")
    return leading_rule(op, args, union)


def cdist_rule(op: Any, args: tuple, union: tuple) -> Any:
    """cdist: both inputs' leading dims broadcast; the batch dims lead both."""
    x1, x2 = args[0], args[1]
    rank = max(_lrank(x1), _lrank(x2))
    a = align(x1, union, rank) if _batched(x1) else x1.reshape((1,) * (len(union) + rank - x1._data.ndim)
                                                              + x1._data.shape)
    b = align(x2, union, rank) if _batched(x2) else x2.reshape((1,) * (len(union) + rank - x2._data.ndim)
                                                              + x2._data.shape)
    lead = tuple(np.broadcast_shapes(a._data.shape[:-2], b._data.shape[:-2]))
    a = a.expand(*(lead + a._data.shape[-2:]))
    b = b.expand(*(lead + b._data.shape[-2:]))
    return R.dispatch(op, (a, b) + tuple(args[2:]))


# ---------------------------------------------------------------------------------------
# nn kernels: batch dims folded into N (or into the channels)

def lead_all_rule(size_param: str | None = None) -> Callable:
    """Ops that treat every leading dim as rows (max_unpool2d, the max-pool gather/scatter): all
    tensors materialised over the batch; a size parameter gets the batch sizes in front."""
    def rule(op: Any, args: tuple, union: tuple) -> Any:
        new = list(args)
        for i in op.tensor_idx:
            if isinstance(args[i], R.Tensor):
                new[i] = _full(args[i], union)
        if size_param is not None:
            i = op.param_names.index(size_param)
            new[i] = _sizes(union) + tuple(args[i])
        return R.dispatch(op, tuple(new))
    return rule


def fold_all_rule(rank: int, size_param: str | None = None) -> Callable:
    """Ops on (N, ...) tensors of rank `rank` (or rank-1 without N): every tensor materialised over
    the batch, the batch dims folded into N; a size parameter (an input's shape) folded alike."""
    def rule(op: Any, args: tuple, union: tuple) -> Any:
        nb = len(union)
        sizes = _sizes(union)
        lr = _lrank(args[op.tensor_idx[0]])
        if lr not in (rank, rank - 1):
            return None
        k = lr - rank + 1                   # 1: the logical tensors have N
        new = list(args)
        n = None
        for i in op.tensor_idx:
            t = args[i]
            if not isinstance(t, R.Tensor):
                continue
            x = _full(t, union)
            n = x._data.shape[nb] if k else 1
            new[i] = x.reshape((-1,) + x._data.shape[nb + k:])
        if size_param is not None:
            i = op.param_names.index(size_param)
            s = tuple(args[i])
            new[i] = (math.prod(sizes) * (s[0] if k else 1),) + s[k:]
        out = R.dispatch(op, tuple(new))
        lead = sizes + ((n,) if k else ())
        outs = [o.reshape(lead + o._data.shape[1:]) for o in ((out,) if isinstance(out, R.Tensor) else out)]
        if isinstance(out, R.Tensor):
            return outs[0]
        return type(out)(*outs) if hasattr(out, "_fields") else tuple(outs)
    return rule


def conv_weight_rule(op: Any, args: tuple, union: tuple) -> Any:
    """The weight gradient of a convolution per batch element: the batch joins the channels as
    groups of one grouped weight gradient."""
    input, grad_output, weight_size, stride, padding, dilation, groups = args
    if _lrank(input) != len(weight_size) or len(union) != 1:
        return None
    b = batch_size_of(union[0])
    x, g = _full(input, union), _full(grad_output, union)          # (B, N, C, *s), (B, N, O, *o)
    xin = x.movedim(0, 1).reshape((x._data.shape[1], -1) + x._data.shape[3:])
    gin = g.movedim(0, 1).reshape((g._data.shape[1], -1) + g._data.shape[3:])
    ws = tuple(weight_size)
    out = R.dispatch(op, (xin, gin, (b * ws[0],) + ws[1:], stride, padding, dilation, groups * b))
    return out.reshape((b,) + ws)


def embedding_backward_rule(op: Any, args: tuple, union: tuple) -> Any:
    """embedding_dense_backward: each batch element's rows offset into its own block of one
    (batch * num_weights) table; padding positions go to one extra row, dropped."""
    grad, indices, num_weights, padding_idx, scale = args
    nb = len(union)
    sizes = _sizes(union)
    nbatch = math.prod(sizes)
    g = _full(grad, union)
    idx = np.broadcast_to(_np_aligned(indices, union), g._data.shape[:-1]).astype(np.int64)
    offset = (np.arange(nbatch) * num_weights).reshape(sizes + (1,) * (idx.ndim - nb))
    pos = idx + offset
    extra = nbatch * num_weights
    if padding_idx is not None and padding_idx >= 0:
        pos = np.where(idx == padding_idx, extra, pos)
    out = R.dispatch(op, (g, _const(pos), extra + 1, extra if padding_idx is not None and padding_idx >= 0
                          else -1, scale))
    return out[:extra].reshape(sizes + (num_weights, g._data.shape[-1]))


def batch_norm_rule(op: Any, args: tuple, union: tuple) -> Any:
    """batch_norm: the batch dims join the channels, so each batch element has its own statistics;
    running statistics are written back into each batch element's own copy."""
    input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn = args
    stats = [t for t in (running_mean, running_var) if t is not None]
    if training and stats and _batched(input):
        mine = set(visible_levels(input))
        if any(not mine <= set(visible_levels(t)) for t in stats):
            raise RuntimeError(
                "Batch norm got a batched tensor as input while the running_mean or running_var, which will be "
                "updated in place, were not batched.\nIf you are using a module and do not need eval mode, please "
                "set `track_running_stats` to be False.If you are using a prebuilt module and do not need eval "
                "mode, please see the functorch website for resources on how to patch your module to work with vmap")
    nb = len(union)
    lr = _lrank(input)
    if lr < 2:
        return None
    x = _full(input, union)
    shape = x._data.shape
    xin = x.movedim(tuple(range(nb)), tuple(range(1, nb + 1))).reshape((shape[nb], -1) + shape[nb + 2:])

    def channels(t: Any) -> Any:
        return None if t is None else _full(t, union).reshape(-1)
    rm, rv = channels(running_mean), channels(running_var)
    if training and stats:  # the forward updates owned copies; each batch element's are written back
        if any(visible_levels(t) != union for t in stats):
            return None
        rm = None if rm is None else _const(np.ascontiguousarray(rm._data))
        rv = None if rv is None else _const(np.ascontiguousarray(rv._data))
    out = R.dispatch(op, (xin, channels(weight), channels(bias), rm, rv, training, momentum, eps, cudnn))
    if training and stats:
        for t, new in ((running_mean, rm), (running_var, rv)):
            if t is not None:
                phys = physical_data(t)
                np.copyto(phys, new._data.reshape(phys.shape))
    out = out.reshape((shape[nb],) + shape[:nb] + shape[nb + 1:])
    return out.movedim(0, nb)


# ---------------------------------------------------------------------------------------
# losses whose unreduced form is one value per row

def _reduce(out: Any, red: Any, nb: int) -> Any:
    if red in (_NONE, "none"):
        return out
    dims = tuple(range(nb, out._data.ndim))
    if not dims:
        return out
    return out.mean(dims) if red in (_MEAN, "mean") else out.sum(dims)


def row_loss_rule(target_rank: int) -> Callable:
    """Losses on (N, C) / (C,) inputs (multi_margin, multilabel_margin): the batch folds into N,
    unreduced, then each batch element's losses are reduced."""
    def rule(op: Any, args: tuple, union: tuple) -> Any:
        wi = op.param_names.index("weight") if "weight" in op.param_names else None
        if wi is not None and args[wi] is not None and _batched(args[wi]):
            return None
        ri = op.param_names.index("reduction")
        red = args[ri]
        nb = len(union)
        sizes = _sizes(union)
        lr = _lrank(args[0])
        if lr not in (1, 2):
            return None
        new = list(args)
        new[ri] = _NONE if isinstance(red, int) else "none"
        k = lr - 1                                  # 1: the input has an N dim
        x, t = _full(args[0], union), _full(args[1], union)
        n = x._data.shape[nb] if k else 1
        new[0] = x.reshape((-1,) + x._data.shape[nb + k:])
        new[1] = t.reshape((-1,) + (t._data.shape[-1:] if target_rank == 2 else ()))
        out = R.dispatch(op, tuple(new)).reshape(sizes + ((n,) if k else ()))
        return _reduce(out, red, nb)
    return rule


def nll_loss2d_rule(op: Any, args: tuple, union: tuple) -> Any:
    """nll_loss2d with an unbatched weight: the batch folds into N, unreduced, then each batch
    element is reduced on its own (mean: divided by its summed target weights)."""
    self, target, weight, reduction, ignore_index = args
    if weight is not None and _batched(weight):
        return None
    if _lrank(self) != 4:
        return None
    nb = len(union)
    sizes = _sizes(union)
    x, t = _full(self, union), _full(target, union)
    out = R.dispatch(op, (x.reshape((-1,) + x._data.shape[nb + 1:]), t.reshape((-1,) + t._data.shape[nb + 1:]),
                          weight, _NONE, ignore_index))
    out = out.reshape(sizes + t._data.shape[nb:])
    if reduction == _NONE:
        return out
    dims = tuple(range(nb, out._data.ndim))
    total = out.sum(dims)
    if reduction == _SUM:
        return total
    tt = t._data.astype(np.int64)
    ignored = tt == ignore_index
    safe = np.where(ignored, 0, tt)
    w = np.ones(tt.shape, x._data.dtype) if weight is None else weight._data.astype(x._data.dtype)[safe]
    denom = np.where(ignored, 0, w).sum(dims).astype(x._data.dtype)
    return total / _const(denom)


def selected_rule(op: Any, args: tuple, union: tuple) -> Any:
    """_gather_selected / _scatter_selected (index as self's rank): all expanded over the batch,
    dim shifted, the output shape given the batch sizes."""
    new = list(args)
    for i in op.tensor_idx:
        new[i] = _full(args[i], union).contiguous()
    lr = _lrank(next(args[i] for i in op.tensor_idx if _batched(args[i])))
    if lr == 0:
        return None
    new[1] = _wrap(args[1], lr) + len(union)
    if "shape" in op.param_names:
        i = op.param_names.index("shape")
        new[i] = _sizes(union) + tuple(args[i])
    return R.dispatch(op, tuple(new))


def masked_scatter_rule(op: Any, args: tuple, union: tuple) -> Any:
    """masked_scatter: each batch element's k-th masked position takes its source's k-th element,
    one index into the flattened sources (positions from the mask's running count), then where."""
    self, mask, source = args
    nb = len(union)
    sizes = _sizes(union)
    rank = max(_lrank(self), _lrank(mask))
    ma = _np_aligned(mask, union)
    ma = ma.reshape(ma.shape[:nb] + (1,) * (rank - _lrank(mask)) + ma.shape[nb:])
    m = np.broadcast_to(ma, sizes + np.broadcast_shapes(_logical_shape(self), _logical_shape(mask)))
    if m.dtype != np.bool_:
        return None
    nbatch = math.prod(sizes)
    flat = m.reshape(nbatch, -1)
    src = _full(source, union).reshape(nbatch, -1)
    counts = flat.sum(1)
    if counts.size and counts.max(initial=0) > src._data.shape[1]:
        return None  # the op's own error, per element
    pos = np.clip(np.cumsum(flat, 1) - 1, 0, max(src._data.shape[1] - 1, 0))
    if src._data.shape[1] == 0:
        picked = _const(np.zeros(flat.shape, src._data.dtype))
    else:
        picked = R.dispatch(R.OPS["index.Tensor"], (src, [np.arange(nbatch)[:, None], pos]))
    x = align(self, union, rank) if _batched(self) else self.reshape((1,) * (nb + rank - self._data.ndim)
                                                                       + self._data.shape)
    return R.FUNCTIONS["where"](_const(m), picked.reshape(m.shape), x)


def embedding_rule(op: Any, args: tuple, union: tuple) -> Any:
    """embedding: batched indices index with their leading dims; a batched weight (per-sample
    gradients batch the parameters) becomes one (batch * rows) table, each batch element's indices
    offset into its own block (a padding_idx names one row of each block: left to the loop)."""
    weight, indices, padding_idx = args[0], args[1], args[2]
    if not _batched(weight):
        new = list(args)
        new[1] = align(indices, union, None)
        return R.dispatch(op, tuple(new))
    if padding_idx is not None and padding_idx >= 0:
        return None
    sizes = _sizes(union)
    w = _full(weight, union)
    rows = w._data.shape[len(union)]
    idx = _np_aligned(indices, union).astype(np.int64)
    offset = (np.arange(math.prod(sizes)) * rows).reshape(sizes + (1,) * (idx.ndim - len(sizes)))
    bad = (idx < 0) | (idx >= rows)
    pos = _const(np.broadcast_to(np.where(bad, idx + rows * math.prod(sizes), idx + offset),
                                 sizes + idx.shape[len(sizes):]).copy())
    return R.dispatch(op, (w.reshape((-1,) + w._data.shape[len(union) + 1:]), pos) + tuple(args[2:]))


def embedding_bag_rule(op: Any, args: tuple, union: tuple) -> Any:
    """embedding_bag on 1-d indices with offsets: the batch elements' index lists laid end to end,
    their offsets shifted to match, so each batch element's bags are bags of one call (a batched
    weight: one table with each element's indices offset into its block, as embedding)."""
    weight, indices, offsets, mode, psw, include_last, padding_idx = args[:7]
    wb = _batched(weight)
    if (wb and padding_idx is not None and padding_idx >= 0) or _lrank(indices) != 1 or _lrank(offsets) != 1:
        return None
    sizes = _sizes(union)
    nbatch = math.prod(sizes)
    n = _logical_shape(indices)[0]
    m = _logical_shape(offsets)[0]
    idx = np.broadcast_to(_np_aligned(indices, union), sizes + (n,)).astype(np.int64)
    off = np.broadcast_to(_np_aligned(offsets, union), sizes + (m,)).astype(np.int64)
    # with include_last_offset, indices past each element's last offset are in no bag: dropped
    used = np.clip(off[..., -1], 0, n).reshape(-1) if include_last else np.full(nbatch, n)
    keep = np.concatenate([np.arange(k) + b * n for b, k in enumerate(used)] + [np.zeros(0, np.int64)])
    base = np.concatenate([[0], np.cumsum(used)[:-1]]).reshape(sizes + (1,))
    if include_last:
        new_off = np.concatenate([(off[..., :-1] + base).reshape(-1), [used.sum()]])
        nbags = m - 1
    else:
        new_off = (off + base).reshape(-1)
        nbags = m
    w = weight
    if wb:
        w = _full(weight, union)
        rows = w._data.shape[len(union)]
        block = (np.arange(nbatch) * rows).reshape(sizes + (1,))
        idx = np.where((idx < 0) | (idx >= rows), idx + nbatch * rows, idx + block)
        w = w.reshape((-1,) + w._data.shape[len(union) + 1:])
    p = None if psw is None else _full(psw, union).reshape(-1)
    if p is not None and keep.size != p._data.shape[0]:
        p = R.FUNCTIONS["index_select"](p, 0, _const(keep))
    out = R.dispatch(op, (w, _const(idx.reshape(-1)[keep]), _const(new_off), mode, p, include_last,
                          padding_idx) + tuple(args[7:]))
    return out.reshape(sizes + (nbags,) + out._data.shape[1:])


def rnn_layer_rule(states: int) -> Callable:
    """_lstm_layer / _gru_layer with unbatched weights: the batch dims folded into the sequences'
    batch dim B (input (T, B, I), states (B, H)); batched weights go to the loop fallback."""
    def rule(op: Any, args: tuple, union: tuple) -> Any:
        tensors = list(args[0])
        seqs = [tensors[0]] + tensors[len(tensors) - states:]
        if any(_batched(w) for w in tensors[1:len(tensors) - states]):
            return None
        if _lrank(seqs[0]) != 3 or any(_lrank(s) != 2 for s in seqs[1:]):
            return None
        nb = len(union)
        sizes = _sizes(union)
        n = math.prod(sizes)
        x = _full(seqs[0], union)
        steps, batch = x._data.shape[nb:nb + 2]
        x = x.movedim(nb, 0).reshape((steps, n * batch) + x._data.shape[nb + 2:])
        new_states = [_full(s, union).reshape((n * batch,) + s._data.shape[-1:]) for s in seqs[1:]]
        out = R.dispatch(op, ([x] + tensors[1:len(tensors) - states] + new_states,) + tuple(args[1:]))
        result = []
        for o in out:
            if o._data.ndim == 3:  # (T, N*B, K) -> (*batch, T, B, K)
                o = o.reshape((o._data.shape[0],) + sizes + (batch, o._data.shape[2])).movedim(0, nb)
            else:
                o = o.reshape(sizes + (batch, o._data.shape[1]))
            result.append(o)
        return tuple(result)
    return rule


def pointwise_loss_backward_rule(op: Any, args: tuple, union: tuple) -> Any:
    """mse/smooth_l1/huber_loss_backward: a reduced grad_output (one per batch element) scaled by
    the reduction's factor, then the op as an elementwise 'sum' (its numel must be the logical one)."""
    new = list(args)
    idx = [i for i in op.tensor_idx if isinstance(args[i], R.Tensor)]
    rank = max(_lrank(args[i]) for i in idx)
    for i in idx:
        if visible_levels(args[i]):
            new[i] = align(args[i], union, rank)
    reduction = args[3]
    if reduction != _NONE:
        go = new[0]
        if reduction == _MEAN:
            n = math.prod(args[1]._data.shape[len(visible_levels(args[1])):])
            go = go / n if n else go * float("nan")
        new[0], new[3] = go, _SUM
    return R.dispatch(op, tuple(new))


def nll_backward_rule(op: Any, args: tuple, union: tuple) -> Any:
    """nll_loss(2d)_backward with an unbatched weight: the batch folds into N, grad_output made
    per element (a reduced one divided by each batch element's summed target weights for 'mean')."""
    grad_output, self, target, weight, reduction, ignore_index, total_weight = args
    if (weight is not None and _batched(weight)) or total_weight is not None:
        return None
    lr = _lrank(self)
    if lr not in ((4,) if op.name == "nll_loss2d_backward" else (1, 2)):
        return None
    nb = len(union)
    sizes = _sizes(union)
    x, t = _full(self, union), _full(target, union)
    tshape = t._data.shape
    g = _full(grad_output, union)
    if reduction != _NONE:
        if reduction == _MEAN:
            tt = t._data.astype(np.int64)
            ignored = tt == ignore_index
            safe = np.where(ignored, 0, tt)
            w = np.ones(tt.shape, x._data.dtype) if weight is None else weight._data.astype(x._data.dtype)[safe]
            denom = np.where(ignored, 0, w).sum(tuple(range(nb, tt.ndim))).astype(x._data.dtype)
            with np.errstate(invalid="ignore", divide="ignore"):
                g = g / _const(denom)
        g = g.reshape(sizes + (1,) * (len(tshape) - nb)).expand(*tshape)
    x2 = x.reshape((-1,) + x._data.shape[nb + 1:]) if lr > 1 else x.reshape(-1, x._data.shape[-1])
    t2 = t.reshape((-1,) + tshape[nb + 1:]) if lr > 1 else t.reshape(-1)
    g2 = g.reshape((-1,) + tshape[nb + 1:]) if lr > 1 else g.reshape(-1)
    out = R.dispatch(op, (g2, x2, t2, weight, _NONE, ignore_index, None))
    return out.reshape(x._data.shape)


NAMED: dict[str, Any] = {
    "_softmax_backward_data": dim_expand_rule(("grad_output", "output")),
    "glu_backward": dim_expand_rule(("grad_output", "self")),
    "_log_softmax_backward_data": dim_expand_rule(("grad_output", "output")),
    "mse_loss_backward": pointwise_loss_backward_rule, "smooth_l1_loss_backward": pointwise_loss_backward_rule,
    "huber_loss_backward": pointwise_loss_backward_rule,
    "nll_loss_backward": nll_backward_rule, "nll_loss2d_backward": nll_backward_rule,
    "index.Tensor": index_rule, "index_put": index_put_rule, "take": take_rule, "put": put_rule,
    "copy_": _copy_rule, "fill.Tensor": _fill_rule, "fill_.Scalar": _fill_rule, "fill_.Tensor": _fill_rule,
    "masked_fill.Tensor": masked_fill_tensor_rule,
    "aminmax": aminmax_rule, "nanmedian": all_reduction("nanmedian"), "renorm": renorm_rule,
    "diag.impl": diag_rule, "block_diag.default": block_diag_rule, "one_hot": one_hot_rule,
    "_cdist_forward": cdist_rule, "_prelu_kernel": "pointwise",
    "im2col": fold_rule(4), "col2im": fold_rule(3),
    "max_unpool2d": fold_all_rule(4), "_max_pool_gather": lead_all_rule(),
    "_max_pool_scatter": lead_all_rule("input_size"),
    "_avg_pool2d_backward": fold_all_rule(4, "input_size"),
    "_lstm_cell": fold_all_rule(2), "_gru_cell": fold_all_rule(2),
    "_lstm_layer": rnn_layer_rule(2), "_gru_layer": rnn_layer_rule(1),
    "_convolution_weight": conv_weight_rule, "embedding": embedding_rule,
    "_embedding_bag_impl": embedding_bag_rule, "embedding_dense_backward": embedding_backward_rule,
    "batch_norm": batch_norm_rule,
    "multi_margin_loss": row_loss_rule(1), "multilabel_margin_loss": row_loss_rule(2),
    "nll_loss2d": nll_loss2d_rule,
    "_gather_selected": selected_rule, "_scatter_selected": selected_rule, "masked_scatter": masked_scatter_rule,
    "_leaky_relu_inplace": "pointwise", "_elu_inplace": "pointwise", "_celu_inplace": "pointwise",
    "_threshold_inplace": "pointwise",
}
