"""Batching rules for vmap, by op category: each turns one batched call into one physical op.

A rule gets (op, args, union): `union` the visible levels in play (innermost first); it runs
with dispatch in physical mode and returns the physical result with the batch dims of `union`
in front, or None to ask for the loop fallback. Categories: 'pointwise' (broadcasting),
'dim' (one batched tensor, dim-like params shifted), 'all' (full reductions), plus callables.
Rules for indexing, filling, nn kernels, their backward entries and losses live in
func/_batch_rules_nn.py (merged into `_NAMED` below); a rule with an `inplace` attribute also
batches the op's in-place form (see `inplace_batched` in func/_vmap.py).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..ops import _registry as R
from ._vmap import BatchedTensor, batch_size_of, visible_levels

_DIM_PARAMS = ("dim", "dim0", "dim1", "dim2", "dims", "dimension")
_RANK_PLUS_ONE = {"unsqueeze", "diag_embed"}
_SIZE_PARAMS = ("input_sizes", "input_size", "self_shape")


def align(t: Any, union: tuple, rank: int | None) -> Any:
    """Physical `t` with a (size-1 if absent) dim per level of `union`, logical rank padded to `rank`."""
    vis = visible_levels(t)
    lr = t._data.ndim - len(vis)
    shape = []
    k = 0
    for lv in union:
        if k < len(vis) and vis[k] == lv:
            shape.append(t._data.shape[k])
            k += 1
        else:
            shape.append(1)
    pad = 0 if rank is None else max(rank - lr, 0)
    shape += [1] * pad + list(t._data.shape[len(vis):])
    if tuple(shape) == t._data.shape:
        return t
    return R.FUNCTIONS["reshape"](t, tuple(shape))


def expand_to(t: Any, sizes: tuple) -> Any:
    shape = tuple(sizes) + tuple(t._data.shape[len(sizes):])
    return t if shape == t._data.shape else t.expand(*shape)


def _full(t: Any, union: tuple) -> Any:
    """`t` (batched or not) materialised over the whole batch of `union` (as a view)."""
    sizes = tuple(batch_size_of(lv) for lv in union)
    if t.__class__ is BatchedTensor and visible_levels(t):
        return expand_to(align(t, union, None), sizes)
    return t.reshape((1,) * len(union) + tuple(t._data.shape)).expand(*(sizes + tuple(t._data.shape)))


def _lrank(t: Any) -> int:
    return t._data.ndim - len(visible_levels(t))


def pointwise(op: Any, args: tuple, union: tuple) -> Any:
    idx = [i for i in op.tensor_idx if isinstance(args[i], R.Tensor)]
    rank = max(_lrank(args[i]) for i in idx)
    new = list(args)
    for i in idx:
        if visible_levels(args[i]):
            new[i] = align(args[i], union, rank)
    return R.dispatch(op, tuple(new))


def _pointwise_inplace(op: Any, args: tuple, levels: tuple) -> tuple:
    """In-place pointwise op: the other operands lined up with self's batch dims (self is physical)."""
    rank = _lrank(args[0])
    return op, tuple([args[0]] + [align(a, levels, rank) if isinstance(a, R.Tensor) and visible_levels(a) else a
                                  for a in args[1:]])


pointwise.inplace = _pointwise_inplace


def _wrap(d: int, n: int) -> int:
    m = max(n, 1)
    if not -m <= d < m:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-m}, {m - 1}], but got {d})")
    return d % m


def dim_rule(op: Any, args: tuple, union: tuple) -> Any:
    """One batched tensor (the first param); dim-like params shift past the batch dims."""
    first = op.tensor_idx[0]
    for i in op.tensor_idx:
        if i != first and isinstance(args[i], R.Tensor) and visible_levels(args[i]):
            return None
    self = args[first]
    lr = _lrank(self)
    if lr == 0 and op.name not in _RANK_PLUS_ONE:
        return None
    nb = len(union)
    n = lr + (1 if op.name in _RANK_PLUS_ONE else 0)
    new = list(args)
    new[first] = align(self, union, None)
    batch = new[first]._data.shape[:nb]
    for pname in _SIZE_PARAMS:  # backward ops name the input's shape: dims refer to it
        if pname in op.param_names:
            i = op.param_names.index(pname)
            n = len(args[i])
            new[i] = batch + tuple(args[i])
    for pname in _DIM_PARAMS:
        if pname not in op.param_names:
            continue
        i = op.param_names.index(pname)
        v = args[i]
        if pname == "dim" and isinstance(v, (tuple, list)) and not v and "keepdim" in op.param_names:
            v = None  # dim=() reduces over every dim, as dim=None
        if v is None:
            if op.name in ("argmax", "argmin", "all", "any"):
                if "keepdim" in op.param_names and args[op.param_names.index("keepdim")]:
                    return None
                new[first] = new[first].reshape(new[first]._data.shape[:nb] + (-1,))
                new[i] = nb
            elif pname == "dim":
                new[i] = tuple(range(nb, nb + lr))
            else:
                return None
        elif isinstance(v, int):
            new[i] = _wrap(v, n) + nb
        elif isinstance(v, (tuple, list)):
            new[i] = type(v)(_wrap(d, n) + nb for d in v)
        else:
            return None
    return R.dispatch(op, tuple(new))


def _flat(args: tuple, union: tuple) -> Any:
    t = align(args[0], union, None)
    return t.reshape(t._data.shape[:len(union)] + (-1,))


def all_reduction(public: str) -> Callable:
    def rule(op: Any, args: tuple, union: tuple) -> Any:
        if len(op.tensor_idx) != 1 or any(v is not None for v in args[1:]):
            return None
        out = R.FUNCTIONS[public](_flat(args, union), -1)
        return out[0] if isinstance(out, tuple) else out
    return rule


def shape_rule(op: Any, args: tuple, union: tuple) -> Any:
    self = align(args[0], union, None)
    nb = len(union)
    batch = self._data.shape[:nb]
    size = tuple(args[1])
    if op.name in ("view", "_unsafe_view"):
        return R.FUNCTIONS["reshape"](self, batch + size)
    if op.name == "expand":
        self = align(args[0], union, len(size))
        return R.dispatch(op, (self, batch + size) + tuple(args[2:]))
    if op.name == "sum_to_size":
        return R.dispatch(op, (self, batch + size))
    if op.name == "repeat":
        self = align(args[0], union, len(size))
        return R.dispatch(op, (self, (1,) * nb + size))
    if op.name == "permute":
        lr = _lrank(args[0])
        return R.dispatch(op, (self, tuple(range(nb)) + tuple(_wrap(d, lr) + nb for d in size)))
    return None


def t_rule(op: Any, args: tuple, union: tuple) -> Any:
    self = align(args[0], union, None)
    nb = len(union)
    if _lrank(args[0]) < 2:
        return R.dispatch(R.OPS["alias"], (self,))
    return R.FUNCTIONS["transpose"](self, nb, nb + 1)


def squeeze_all_rule(op: Any, args: tuple, union: tuple) -> Any:
    self = align(args[0], union, None)
    nb = len(union)
    dims = tuple(i for i in range(nb, self._data.ndim) if self._data.shape[i] == 1)
    return self.reshape(tuple(s for i, s in enumerate(self._data.shape) if i not in dims))


def _bmm_phys(a: Any, b: Any, union: tuple) -> Any:
    """Batched matrix product of logical matrices (either side may be unbatched)."""
    sizes = tuple(batch_size_of(lv) for lv in union)
    a_b = a.__class__ is BatchedTensor and bool(visible_levels(a))
    b_b = b.__class__ is BatchedTensor and bool(visible_levels(b))
    nbatch = 1
    for s in sizes:
        nbatch *= s
    if a_b and not b_b:  # one mm on the rows of the whole batch
        a2 = _full(a, union)
        n, k = a2._data.shape[-2:]
        out = R.FUNCTIONS["mm"](a2.reshape(nbatch * n, k), b)
        return out.reshape(sizes + (n, out._data.shape[-1]))
    a2 = _full(a, union)
    b2 = _full(b, union)
    out = R.FUNCTIONS["bmm"](a2.reshape((nbatch,) + a2._data.shape[-2:]), b2.reshape((nbatch,) + b2._data.shape[-2:]))
    return out.reshape(sizes + out._data.shape[-2:])


def mm_rule(op: Any, args: tuple, union: tuple) -> Any:
    return _bmm_phys(args[0], args[1], union)


def mv_rule(op: Any, args: tuple, union: tuple) -> Any:
    vec = args[1]
    col = align(vec, union, None).unsqueeze(-1) if visible_levels(vec) else vec.unsqueeze(-1)
    if visible_levels(vec):
        col = _mark_like(col, vec)
    return _bmm_phys(args[0], col, union).squeeze(-1)


def _mark_like(t: Any, like: Any) -> Any:
    from ._vmap import mark
    return mark(t, like._levels)


def dot_rule(op: Any, args: tuple, union: tuple) -> Any:
    a, b = (align(x, union, 1) if visible_levels(x) else x for x in args[:2])
    return (a * b).sum(-1)


def bmm_rule(op: Any, args: tuple, union: tuple) -> Any:
    sizes = tuple(batch_size_of(lv) for lv in union)
    a2, b2 = _full(args[0], union), _full(args[1], union)
    nbatch = 1
    for s in a2._data.shape[:-2]:
        nbatch *= s
    out = R.FUNCTIONS["bmm"](a2.reshape((nbatch,) + a2._data.shape[-2:]), b2.reshape((nbatch,) + b2._data.shape[-2:]))
    return out.reshape(sizes + a2._data.shape[-3:-1] + (b2._data.shape[-1],))


def addmm_rule(op: Any, args: tuple, union: tuple) -> Any:
    self, m1, m2, beta, alpha = args
    prod = _bmm_phys(m1, m2, union)
    if alpha != 1:
        prod = prod * alpha
    s = align(self, union, 2) if visible_levels(self) else self
    return prod + (s if beta == 1 else s * beta) if beta != 0 else prod


def list_rule(op: Any, args: tuple, union: tuple) -> Any:
    tensors, dim = args[0], args[1]
    ref = next(t for t in tensors if visible_levels(t))
    lr = _lrank(ref)
    n = lr + (1 if op.name == "stack" else 0)
    if lr == 0 and op.name == "cat":
        return None
    full = [_full(t, union) for t in tensors]
    return R.dispatch(op, (full, _wrap(dim, n) + len(union)))


def gather_rule(op: Any, args: tuple, union: tuple) -> Any:
    """Index-like ops whose tensors share a rank (gather, scatter): all expanded over the batch."""
    new = list(args)
    for i in op.tensor_idx:
        if isinstance(args[i], R.Tensor):
            new[i] = _full(args[i], union).contiguous()
    lr = _lrank(next(args[i] for i in op.tensor_idx if visible_levels(args[i])))
    if lr == 0:
        return None
    new[1] = _wrap(args[1], lr) + len(union)
    return R.dispatch(op, tuple(new))


def leading_rule(op: Any, args: tuple, union: tuple) -> Any:
    """Ops that already treat leading dims as batch (layer_norm, tril): only the first input batched."""
    first = op.tensor_idx[0]
    for i in op.tensor_idx[1:]:
        if isinstance(args[i], R.Tensor) and visible_levels(args[i]):
            return None
    new = list(args)
    new[first] = align(args[first], union, None)
    return R.dispatch(op, tuple(new))


def loss_rule(op: Any, args: tuple, union: tuple) -> Any:
    """Elementwise losses: the unreduced loss batched, then reduced over the logical dims."""
    ri = op.param_names.index("reduction")
    red = args[ri]
    new = list(args)
    new[ri] = 0 if isinstance(red, int) else "none"
    idx = [i for i in op.tensor_idx if isinstance(args[i], R.Tensor)]
    rank = max(_lrank(args[i]) for i in idx)
    nb = len(union)
    for i in idx:  # every operand at the full (batch + broadcast) shape: some kernels want equal shapes
        t = args[i]
        new[i] = align(t, union, rank) if visible_levels(t) else t.reshape((1,) * (nb + rank - t._data.ndim)
                                                                           + t._data.shape)
    shape = np.broadcast_shapes(*(new[i]._data.shape for i in idx))
    for i in idx:
        new[i] = new[i].expand(*shape) if new[i]._data.shape != shape else new[i]
    out = R.dispatch(op, tuple(new))
    if red in (0, "none"):
        return out
    dims = tuple(range(len(union), out._data.ndim))
    if not dims:
        return out
    return out.mean(dims) if red in (1, "mean") else out.sum(dims)


def trace_rule(op: Any, args: tuple, union: tuple) -> Any:
    nb = len(union)
    return align(args[0], union, None).diagonal(0, nb, nb + 1).sum(-1)


def baddbmm_rule(op: Any, args: tuple, union: tuple) -> Any:
    self, b1, b2, beta, alpha = args
    prod = bmm_rule(op, (b1, b2), union)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod
    s = align(self, union, 3) if visible_levels(self) else self
    return prod + (s if beta == 1 else s * beta)


def conv_rule(op: Any, args: tuple, union: tuple) -> Any:
    """convolution with a batched weight: the batch becomes groups of one grouped convolution."""
    input, weight, bias, stride, padding, dilation, transposed, output_padding, groups = args
    if not (visible_levels(weight) or (bias is not None and visible_levels(bias))):
        return fold_rule(None)(op, args, union)
    if transposed or len(union) != 1:
        return None
    b = batch_size_of(union[0])
    w = _full(weight, union)                      # (B, O, C/g, *k)
    x = _full(input, union) if visible_levels(input) else None
    unbatched_n = _lrank(input) == weight._data.ndim - (1 if visible_levels(weight) else 0) - 1
    if x is None:
        xin = input if not unbatched_n else input.unsqueeze(0)
        xin = xin.repeat(*((1, b) + (1,) * (xin._data.ndim - 2)))   # (N, B*C, *s)
    else:
        xb = x.unsqueeze(1) if unbatched_n else x                 # (B, N, C, *s)
        xin = xb.movedim(0, 1).reshape((xb._data.shape[1], -1) + xb._data.shape[3:])
    o = w._data.shape[1]
    wf = w.reshape((b * o,) + w._data.shape[2:])
    bf = None if bias is None else _full(bias, union).reshape(b * o)
    out = R.dispatch(op, (xin, wf, bf, stride, padding, dilation, transposed, output_padding, groups * b))
    n = out._data.shape[0]
    out = out.reshape((n, b, o) + out._data.shape[2:]).movedim(1, 0)
    return out.squeeze(1) if unbatched_n else out


def fold_rule(full_rank: int | None) -> Callable:
    """NCHW-style ops on the first input only: the batch folds into N (or is N for an unbatched input)."""
    def rule(op: Any, args: tuple, union: tuple) -> Any:
        first = op.tensor_idx[0]
        for i in op.tensor_idx[1:]:
            if isinstance(args[i], R.Tensor) and visible_levels(args[i]):
                return None
        x = align(args[first], union, None)
        lr = _lrank(args[first])
        rank = full_rank if full_rank is not None else args[op.tensor_idx[1]]._data.ndim
        if rank < 0:  # the op always has an N dim
            rank = lr
        new = list(args)
        if lr == rank - 1:  # an unbatched (C, H, W) input: the vmap batch is its N
            batch = x._data.shape[:len(union)]
            n = 1
            for b in batch:
                n *= b
            new[first] = x.reshape((n,) + x._data.shape[len(union):])
            out = R.dispatch(op, tuple(new))
            outs = (out,) if isinstance(out, R.Tensor) else tuple(out)
            res = [o.reshape(batch + o._data.shape[1:]) for o in outs]
        elif lr == rank:
            batch = x._data.shape[:len(union)]
            n = 1
            for b in x._data.shape[:len(union) + 1]:
                n *= b
            new[first] = x.reshape((n,) + x._data.shape[len(union) + 1:])
            out = R.dispatch(op, tuple(new))
            outs = (out,) if isinstance(out, R.Tensor) else tuple(out)
            res = [o.reshape(batch + (x._data.shape[len(union)],) + o._data.shape[1:]) for o in outs]
        else:
            return None
        if isinstance(out, R.Tensor):
            return res[0]
        return type(out)(*res) if hasattr(out, "_fields") else tuple(res)
    return rule


def dim_expand_rule(expanded: tuple) -> Callable:
    """Ops with a dim whose named tensors share self's rank (index_add's source): those expand over
    the batch; any other tensor (the 1-d index) must be unbatched."""
    def rule(op: Any, args: tuple, union: tuple) -> Any:
        new = list(args)
        for i in op.tensor_idx:
            name = op.param_names[i]
            t = args[i]
            if not isinstance(t, R.Tensor):
                continue
            if name in expanded:
                new[i] = _full(t, union)
            elif visible_levels(t):
                return None
        lr = _lrank(args[0]) if isinstance(args[0], R.Tensor) else 0
        if lr == 0:
            return None
        d = op.param_names.index("dim")
        new[d] = _wrap(args[d], lr) + len(union)
        return R.dispatch(op, tuple(new))
    return rule


def roll_rule(op: Any, args: tuple, union: tuple) -> Any:
    """roll: dims shift past the batch dims; no dims rolls the flattened logical tensor."""
    self, shifts, dims = args
    nb = len(union)
    x = align(self, union, None)
    lr = _lrank(self)
    if dims is None or (isinstance(dims, (tuple, list)) and not dims):
        shape = x._data.shape
        flat = x.reshape(shape[:nb] + (-1,))
        sh = shifts if isinstance(shifts, int) else tuple(shifts)
        return R.dispatch(op, (flat, sh, (nb,))).reshape(shape)
    ds = (dims,) if isinstance(dims, int) else tuple(dims)
    return R.dispatch(op, (x, shifts, tuple(_wrap(d, lr) + nb for d in ds)))


def cross_rule(op: Any, args: tuple, union: tuple) -> Any:
    """linalg_cross: both operands broadcast (batch dims in front), dim counted in the broadcast rank."""
    self, other, dim = args
    rank = max(_lrank(self), _lrank(other))
    a = align(self, union, rank) if visible_levels(self) else self
    b = align(other, union, rank) if visible_levels(other) else other
    shape = tuple(np.broadcast_shapes(a._data.shape, b._data.shape))
    a, b = a.expand(*shape), b.expand(*shape)
    return R.dispatch(op, (a, b, _wrap(dim, rank) + len(union)))


_MASKED_SELECT_ERROR = ("vmap: Attempted to vmap over `mask` in torch.masked_select(self, mask) We cannot support "
                        "this because for each batch this would return a differently shaped Tensor. Please file an "
                        "issue at https://github.com/pytorch/pytorch/issues if you need this feature.")


def masked_select_rule(op: Any, args: tuple, union: tuple) -> Any:
    """masked_select with an unbatched mask: the same elements of every batch element (torch's error
    for a batched mask: the result shape would depend on the batch element)."""
    self, mask = args
    if visible_levels(mask):
        raise RuntimeError(_MASKED_SELECT_ERROR)
    nb = len(union)
    x = align(self, union, mask._data.ndim)
    logical = tuple(np.broadcast_shapes(x._data.shape[nb:], mask._data.shape))
    x = x.expand(*(x._data.shape[:nb] + logical))
    keep = np.flatnonzero(np.broadcast_to(mask._data, logical))
    index = R._make(keep.astype(np.int64), False, None, 0)
    return R.FUNCTIONS["index_select"](x.reshape(x._data.shape[:nb] + (-1,)), nb, index)


def nll_loss_rule(op: Any, args: tuple, union: tuple) -> Any:
    """nll_loss on (C) or (N, C) inputs with an unbatched weight: the batch folds into N, unreduced,
    then each batch element is reduced on its own (mean: divided by its summed target weights)."""
    self, target, weight, reduction, ignore_index = args
    if weight is not None and visible_levels(weight):
        return None
    lr = _lrank(self)
    if lr not in (1, 2):
        return None
    nb = len(union)
    sizes = tuple(batch_size_of(lv) for lv in union)
    x = _full(self, union)
    t = _full(target, union)
    if lr == 1:
        x, t = x.unsqueeze(nb), t.unsqueeze(nb)
    n, c = x._data.shape[-2:]
    out = R.dispatch(op, (x.reshape(-1, c), t.reshape(-1), weight, 0, ignore_index)).reshape(sizes + (n,))
    if reduction == 0:
        return out.squeeze(-1) if lr == 1 else out
    total = out.sum(-1)
    if reduction == 2:
        return total
    tt = t._data.reshape(sizes + (n,)).astype(np.int64)
    ignored = tt == ignore_index
    safe = np.where(ignored, 0, tt)
    w = np.ones(tt.shape, x._data.dtype) if weight is None else weight._data.astype(x._data.dtype)[safe]
    denom = np.where(ignored, 0, w).sum(-1).astype(x._data.dtype)
    return total / R._make(denom, False, None, 0)


CATEGORIES = {"pointwise": pointwise, "dim": dim_rule, "shape": shape_rule, "leading": leading_rule}

_NAMED: dict[str, Any] = {
    "sum.all": all_reduction("sum"), "mean.all": all_reduction("mean"), "prod": all_reduction("prod"),
    "max": all_reduction("amax"), "min": all_reduction("amin"), "median": all_reduction("median"),
    "view": "shape", "_unsafe_view": "shape", "expand": "shape", "sum_to_size": "shape", "repeat": "shape",
    "permute": "shape", "t": t_rule, "squeeze.all": squeeze_all_rule,
    "mm": mm_rule, "mv": mv_rule, "dot": dot_rule, "bmm": bmm_rule, "addmm": addmm_rule,
    "cat": list_rule, "stack": list_rule,
    "gather": gather_rule, "scatter.src": gather_rule, "scatter.value": gather_rule, "scatter_add": gather_rule,
    "scatter.reduce": gather_rule, "scatter.value_reduce": gather_rule,
    "tril": "leading", "triu": "leading", "layer_norm": "leading", "pixel_shuffle": "leading",
    "pixel_unshuffle": "leading", "where.self": "pointwise", "masked_fill.Scalar": "pointwise",
"clone": "pointwise", "_to_copy": "pointwise", "alias": "pointwise",
    "zero": "pointwise", "fill.Scalar": "pointwise", "threshold_backward": "pointwise",
    "tanh_backward": "pointwise", "sigmoid_backward": "pointwise", "isclose": "pointwise",
    "index_select": "dim", "_squeeze_matmul": "dim",
    "addcmul": "pointwise", "addcdiv": "pointwise", "mul.Scalar": "pointwise", "deg2rad": "pointwise",
    "rad2deg": "pointwise", "constant_pad_nd": "leading",
    "mse_loss": loss_rule, "huber_loss": loss_rule, "smooth_l1_loss": loss_rule, "soft_margin_loss": loss_rule,
    "binary_cross_entropy": loss_rule, "binary_cross_entropy_with_logits": loss_rule,
    "trace": trace_rule,
    "index_add": dim_expand_rule(("self", "source")), "index_copy": dim_expand_rule(("self", "source")),
    "index_fill.int_Scalar": dim_expand_rule(("self",)), "index_fill.int_Tensor": dim_expand_rule(("self",)), "baddbmm": baddbmm_rule,
    "convolution": conv_rule, "max_pool2d_with_indices": fold_rule(4), "avg_pool2d": fold_rule(4),
    "_adaptive_avg_pool2d": fold_rule(4), "adaptive_max_pool2d": fold_rule(4), "group_norm": fold_rule(-1),
    "upsample_nearest2d": fold_rule(4), "upsample_bilinear2d": fold_rule(4), "upsample_nearest1d": fold_rule(3),
    "upsample_linear1d": fold_rule(3), "reflection_pad1d": fold_rule(3), "reflection_pad2d": fold_rule(4),
    "replication_pad1d": fold_rule(3), "replication_pad2d": fold_rule(4),
    "roll": roll_rule, "linalg_cross": cross_rule, "masked_select": masked_select_rule, "nll_loss": nll_loss_rule,
}
_POINTWISE_NAMES = {"eq", "ne", "lt", "le", "gt", "ge", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
                    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
                    "bitwise_xor", "bitwise_not", "floor_divide.impl", "pow.Tensor_Scalar", "clamp", "clamp_min",
                    "clamp_max", "logit", "hardtanh", "leaky_relu", "elu", "celu", "gelu", "threshold",
                    "softplus", "hardshrink", "softshrink", "remainder.Scalar_Tensor"}
_NO_RULE = {"_view_scatter", "as_strided", "as_strided_backward"}


def rule_of(op: Any) -> Callable | None:
    """The op's batching rule: its entry's `batch=`, else one inferred from its signature."""
    rule = getattr(op, "_batch_rule", False)
    if rule is not False:
        return rule
    spec = getattr(op, "batch", None) or _NAMED.get(op.name)
    if spec is None and op.name not in _NO_RULE:
        jv = set(op.jvps.values())
        if op.name in _POINTWISE_NAMES or (jv and jv <= {"pointwise"} and not any(
                p in op.param_names for p in _DIM_PARAMS)):
            spec = "pointwise"
        elif op.tensor_idx == (0,) and any(p in op.param_names for p in _DIM_PARAMS) and not op.list_input:
            spec = "dim"
    rule = CATEGORIES[spec] if isinstance(spec, str) else spec
    op._batch_rule = rule
    return rule


def _register_nn() -> None:
    from ._batch_rules_nn import NAMED
    _NAMED.update(NAMED)


_register_nn()
