"""nn.functional: embedding, dropout, pad, one_hot, normalize, interpolate, pixel shuffle, distances and
scaled dot-product attention (entries in ops/nn_misc.py; the rest composed as torch composes them)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops import nn_misc as M
from ..ops._registry import FUNCTIONS, dispatch
from ..ops.arithmetic import ADD_SCALAR
from ..ops.norm import NORM_DIM, _vector_norm
from ..ops.shape import SLICE

__all__ = ["embedding", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "pad", "one_hot", "normalize", "interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle",
           "cosine_similarity", "pairwise_distance", "scaled_dot_product_attention", "embedding_bag"]


def _tg() -> Any:
    import tapegrad
    return tapegrad


# ---------------------------------------------------------------------------------------
# embedding

def embedding(input: Any, weight: Any, padding_idx: Any = None, max_norm: Any = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Any:
    """Rows of weight selected by the indices in input."""
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -weight.size(0):
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return dispatch(M.EMBEDDING, (weight, input, padding_idx, scale_grad_by_freq, sparse))


def embedding_bag(input: Any, weight: Any, offsets: Any = None, max_norm: Any = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Any = None, include_last_offset: bool = False, padding_idx: Any = None) -> Any:
    """Sum, mean or max of the weight rows in each bag: the rows of a 2-d input, or the slices of a 1-d input
    that offsets start."""
    tg = _tg()
    if per_sample_weights is not None and input.size() != per_sample_weights.size():
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if not weight.dim() == 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        offsets = tg.arange(0, input.numel(), input.size(1), dtype=input.dtype)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    modes = {"sum": M.BAG_SUM, "mean": M.BAG_MEAN, "max": M.BAG_MAX}
    if mode not in modes:
        raise ValueError("mode has to be one of sum, mean or max")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    num = weight.size(0)
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} through {num - 1}, but "
                               f"got {padding_idx}")
        padding_idx = padding_idx + num if padding_idx < 0 else padding_idx
    idx, off = input._data, offsets._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.type()} instead (while checking arguments for embedding_bag)")
    if off.shape[0] and off[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {off[0]}\n[ torch.{'Long' if off.dtype == np.int64 else 'Int'}"
                           "Tensor{} ]")
    if off.shape[0] and off[-1] > idx.shape[0]:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {idx.shape[0]} but got offsets[-1] "
                           f"of {off[-1]}")
    bad = np.nonzero((idx < 0) | (idx >= num))[0]
    if bad.size:  # torch's float32 kernel and its generic one word this differently
        if weight.dtype == tg.float32:
            raise RuntimeError(f"Index {bad[0]} of input takes value {idx[bad[0]]} which is not in the valid range "
                               f"[0, {num})")
        raise RuntimeError(f"embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be "
                           f"{idx[bad[0]]}")
    return dispatch(M.EMBEDDING_BAG, (weight, input, offsets, modes[mode], per_sample_weights, include_last_offset,
                                      -1 if padding_idx is None else padding_idx, scale_grad_by_freq))


def _embedding_renorm_(weight: Any, input: Any, max_norm: float, norm_type: float) -> None:
    """Scale in place the looked-up rows whose norm exceeds max_norm (no gradient, as torch)."""
    with no_grad():
        rows = np.unique(input._data.ravel())
        w = weight._data
        # as torch: each row's norm in the weight's dtype, the scale in double, the product in the weight's dtype
        norms = _vector_norm(w[rows], norm_type, 1).astype(np.float64)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w[rows] = w[rows] * scale.astype(w.dtype)[:, None]
        weight._version_counter[0] += 1


# ---------------------------------------------------------------------------------------
# dropout (masks drawn from the generator as torch's CPU kernels draw them)

def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _bernoulli_noise(input: Any, shape: tuple, p: float) -> np.ndarray:
    """The keep mask of `shape`; inside vmap(randomness='different'), one mask per batch element (the
    batch sizes in front, see `_mask_tensor`)."""
    from ..random import default_generator
    from .._vmap_state import VM, check_random, random_batch
    dt = input._data.dtype
    if VM.active:
        levels = check_random()
        if levels:
            mask = default_generator.bernoulli(1 - p, random_batch(levels) + tuple(shape), dt).view(_BatchMask)
            mask.levels = levels
            return mask
    return default_generator.bernoulli(1 - p, shape, dt)


class _BatchMask(np.ndarray):
    """A dropout mask drawn per vmap batch element: `levels` name its leading dims."""

    def __array_finalize__(self, obj: Any) -> None:
        self.levels = getattr(obj, "levels", ())


def _mask_tensor(a: np.ndarray) -> Any:
    levels = getattr(a, "levels", ())
    if levels:
        from ..func._vmap import mark
        return mark(_tg().from_numpy(a.view(np.ndarray)), levels)
    return _tg().from_numpy(a)


def _dropout_impl(input: Any, p: float, training: bool, inplace: bool, shape: tuple, alpha: bool) -> Any:
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1 and not alpha:
        zero = _mask_tensor(np.zeros((), input._data.dtype))
        return input.mul_(zero) if inplace else input * zero
    noise = _bernoulli_noise(input, shape, p)
    if alpha:
        a_const = 1.7580993408473766
        a = 1.0 / math.sqrt((a_const * a_const * p + 1) * (1 - p))
        dt = noise.dtype.type
        b = (noise - dt(1)) * dt(a_const * a) + dt(a_const * a * p)
        noise = noise * dt(a)
        b_t = _mask_tensor(b.astype(noise.dtype, copy=False))
        out = input.mul_(_mask_tensor(noise)) if inplace else input * _mask_tensor(noise)
        return out.add_(b_t) if inplace else out + b_t
    noise = noise / noise.dtype.type(1 - p)
    return input.mul_(_mask_tensor(noise)) if inplace else input * _mask_tensor(noise)


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero each element with probability p and scale the rest by 1 / (1 - p), in training."""
    return _dropout_impl(input, p, training, inplace, tuple(input.shape), False)


def _feature_shape(input: Any, batched_dims: int) -> tuple:
    shape = tuple(input.shape)
    if input.dim() == batched_dims:  # unbatched: (C, *spatial)
        return shape[:1] + (1,) * (len(shape) - 1)
    return shape[:2] + (1,) * (len(shape) - 2)


def _feature_dropout(input: Any, p: float, training: bool, inplace: bool, nd: int, alpha: bool = False) -> Any:
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"dropout{nd}d: Expected {nd + 1}D or {nd + 2}D input, but received a {input.dim()}D "
                           f"input. Note that dropout{nd}d exists to provide channel-wise dropout on inputs with "
                           f"{nd} spatial dimension{'s' if nd > 1 else ''}, a channel dimension, and an optional "
                           "batch dimension (i.e. 2D or 3D inputs)." if nd == 1 else
                           f"dropout{nd}d: Expected {nd + 1}D or {nd + 2}D input, but received a {input.dim()}D input")
    return _dropout_impl(input, p, training, inplace, _feature_shape(input, nd + 1), alpha)


def dropout1d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, L) with probability p."""
    if input.dim() == 2 and not inplace:  # torch batches an unbatched input: unsqueeze, drop, squeeze(0)
        return _feature_dropout(input.unsqueeze(0), p, training, inplace, 1).squeeze(0)
    return _feature_dropout(input, p, training, inplace, 1)


def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, H, W) with probability p."""
    _check_p(p)
    if input.dim() not in (3, 4):
        import warnings
        warnings.warn(f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will result "
                      f"in an error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      f"spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      f"inputs).", UserWarning, stacklevel=2)
    if input.dim() == 3:
        import warnings
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, "
                      "i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", UserWarning, stacklevel=2)
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    return _dropout_impl(input, p, training, inplace, shape, False)


def dropout3d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    """Zero whole channels of (N, C, D, H, W) with probability p."""
    return _feature_dropout(input, p, training, inplace, 3)


def alpha_dropout(input: Any, p: float = 0.5, training: bool = False, inplace: bool = False) -> Any:
    """Dropout that keeps SELU's self-normalizing mean and variance."""
    return _dropout_impl(input, p, training, inplace, tuple(input.shape), True)


def feature_alpha_dropout(input: Any, p: float = 0.5, training: bool = False, inplace: bool = False) -> Any:
    """Alpha dropout of whole channels."""
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    return _dropout_impl(input, p, training, inplace, shape, True)


# ---------------------------------------------------------------------------------------
# pad

_PAD_OPS = {("reflect", 1): M.REFLECTION_PAD1D, ("reflect", 2): M.REFLECTION_PAD2D,
            ("replicate", 1): M.REPLICATION_PAD1D, ("replicate", 2): M.REPLICATION_PAD2D}


def pad(input: Any, pad: Any, mode: str = "constant", value: Any = None) -> Any:
    """Pad the last len(pad) // 2 dims (pad lists the last dim first): constant, reflect, replicate, circular."""
    pad = tuple(int(p) for p in pad)
    if mode == "constant":
        return dispatch(M.CONSTANT_PAD, (input, pad, 0 if value is None else value))
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = len(pad) // 2
    if input.dim() not in (nd + 1, nd + 2) or nd > 3:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":
        return _circular_pad(input, pad)
    op = _PAD_OPS.get((mode, nd))
    if op is None:
        raise NotImplementedError(f"padding mode {mode!r} over {nd} dims is not implemented in tapegrad")
    return dispatch(op, (input, pad))


def _circular_pad(input: Any, pad: tuple) -> Any:
    """Circular padding written as torch does it (grad_fn CopySlices): copy the input into the middle of a
    new tensor, then, dim by dim from the last, copy the wrapped-around borders from that tensor itself."""
    nd = len(pad) // 2
    ndim = input.dim()
    in_shape = tuple(input.shape)
    for k in range(nd):
        size = in_shape[ndim - 1 - k]
        if pad[2 * k] > size or pad[2 * k + 1] > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
    out_shape = list(in_shape)
    for k in range(nd):
        out_shape[ndim - 1 - k] += pad[2 * k] + pad[2 * k + 1]

    def cut(t: Any, dim: int, start: int, stop: int) -> Any:
        return dispatch(SLICE, (t, dim, start, stop, 1))

    out = _tg().empty(out_shape, dtype=input.dtype)
    out_mid, in_mid = out, input
    for k in range(nd):
        dim, left, right = ndim - 1 - k, pad[2 * k], pad[2 * k + 1]
        out_mid = cut(out_mid, dim, max(left, 0), out_shape[dim] - max(right, 0))
        in_mid = cut(in_mid, dim, max(-left, 0), in_shape[dim] - max(-right, 0))
    out_mid.copy_(in_mid)
    for k in range(nd):
        dim, left, right = ndim - 1 - k, pad[2 * k], pad[2 * k + 1]
        if left > 0:
            stop = out_shape[dim] - max(right, 0)
            cut(out, dim, 0, left).copy_(cut(out, dim, stop - left, stop))
        if right > 0:
            start = max(left, 0)
            cut(out, dim, out_shape[dim] - right, out_shape[dim]).copy_(cut(out, dim, start, start + right))
    return out


def one_hot(tensor: Any, num_classes: int = -1) -> Any:
    """int64 one-hot encoding with a new last dim of num_classes."""
    return dispatch(M.ONE_HOT, (tensor, num_classes))


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Any:
    """input / max(||input||_p along dim, eps)."""
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


# ---------------------------------------------------------------------------------------
# interpolate

def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: Any = None, recompute_scale_factor: Any = None, antialias: bool = False) -> Any:
    """Resize the spatial dims: nearest, linear (3-d input), bilinear (4-d input), area."""
    nd = input.dim() - 2
    if nd not in (1, 2):
        raise NotImplementedError(f"interpolate over {nd} spatial dims is not implemented in tapegrad")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = tuple(input.shape[2:])
    scales: tuple = (None,) * nd
    if size is not None:
        out = tuple(int(s) for s in (size if isinstance(size, (list, tuple)) else (size,) * nd))
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {list(spatial)} and output size of {list(out)}. Please provide "
                             f"input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                             f"format.")
    elif scale_factor is not None:
        factors = tuple(float(f) for f in (scale_factor if isinstance(scale_factor, (list, tuple))
                                           else (scale_factor,) * nd))
        out = tuple(int(math.floor(s * f)) for s, f in zip(spatial, factors))
        if not recompute_scale_factor:
            scales = factors
    else:
        raise ValueError("either size or scale_factor should be defined")
    if mode == "nearest":
        op = M.UPSAMPLE_NEAREST1D if nd == 1 else M.UPSAMPLE_NEAREST2D
        return dispatch(op, (input, out) + scales)
    if mode in ("linear", "bilinear"):
        if (mode == "linear") != (nd == 1):
            raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                      f"{'3D' if mode == 'linear' else '4D'} input")
        op = M.UPSAMPLE_LINEAR1D if nd == 1 else M.UPSAMPLE_BILINEAR2D
        return dispatch(op, (input, out, bool(align_corners)) + scales)
    if mode == "area":
        from ._functional_conv import adaptive_avg_pool1d, adaptive_avg_pool2d
        return (adaptive_avg_pool1d if nd == 1 else adaptive_avg_pool2d)(input, out)
    raise NotImplementedError(f"interpolate mode {mode!r} is not implemented in tapegrad")


def upsample(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: Any = None) -> Any:
    """Deprecated alias of interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def pixel_shuffle(input: Any, upscale_factor: int) -> Any:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    return dispatch(M.PIXEL_SHUFFLE, (input, upscale_factor))


def pixel_unshuffle(input: Any, downscale_factor: int) -> Any:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    return dispatch(M.PIXEL_UNSHUFFLE, (input, downscale_factor))


# ---------------------------------------------------------------------------------------
# distances, attention

def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Any:
    """Cosine of the angle between x1 and x2 along dim (each norm clamped below by eps)."""
    shape = _tg().broadcast_shapes(x1.shape, x2.shape)
    if x1.shape != shape:
        x1 = x1.expand(shape)
    if x2.shape != shape:
        x2 = x2.expand(shape)
    n1 = x1.norm(2, dim, keepdim=True).clone()
    n2 = x2.norm(2, dim, keepdim=True).clone()
    with no_grad():
        n1.clamp_(min=eps)
        n2.clamp_(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Any:
    """p-norm of x1 - x2 + eps along the last dim."""
    out_dim = max(x1.dim(), x2.dim())
    inner = out_dim - 1
    diff = dispatch(ADD_SCALAR, (x1 - x2, eps))
    if out_dim == 0:
        return diff.abs() if p != 0 else diff.ne(0).to(x1.dtype)
    return dispatch(NORM_DIM, (diff, p, [inner], keepdim))


def scaled_dot_product_attention(query: Any, key: Any, value: Any, attn_mask: Any = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: Any = None, enable_gqa: bool = False) -> Any:
    """softmax(q k^T * scale + mask) v, with an optional causal mask and dropout on the weights."""
    tg = _tg()
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and key.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, -3)
        value = value.repeat_interleave(rep, -3)
    root = math.sqrt(scale)
    attn = (query * root).matmul(key.transpose(-2, -1) * root)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
        keep = np.tril(np.ones((L, S), bool))
        attn = attn.masked_fill(tg.from_numpy(~keep), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == tg.bool:
            attn = attn.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            attn = attn + attn_mask
    attn = FUNCTIONS["softmax"](attn, -1)
    # rows with every position masked give zeros (torch's safe softmax), not NaN
    if is_causal or attn_mask is not None:
        attn = attn.nan_to_num(0.0)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn.matmul(value)
