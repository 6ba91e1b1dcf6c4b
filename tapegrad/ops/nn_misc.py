"""Embedding, padding, upsampling, pixel shuffle and one_hot (torch's aten signatures).

Note [Separable linear maps]
Reflection/replication padding and nearest/linear upsampling move values along each spatial
axis independently, so each is `A_h @ x @ A_w^T` for small per-axis matrices (one-hot rows for
padding and nearest, two weights per row for linear). The gradient is `A_h^T @ g @ A_w`, written
with tapegrad matmuls of constant matrices, so every order of derivative follows.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from . import _registry as R
from ._registry import defop, dispatch
from ._samples import Sample, arr, ints


# ---------------------------------------------------------------------------------------
# embedding

def _embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    if indices.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{D.from_numpy(indices.dtype)._legacy}Tensor instead (while "
                           f"checking arguments for embedding)")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexError("index out of range in self")
    return np.take(weight, indices, axis=0)


def _position_factors(indices: np.ndarray, num_weights: int, padding_idx: int, scale_grad_by_freq: bool,
                      dtype: Any) -> np.ndarray | None:
    """Per lookup factor of the weight gradient: 0 at padding_idx, 1/count with scale_grad_by_freq."""
    if padding_idx is None or padding_idx < 0:
        padding_idx = None
    if padding_idx is None and not scale_grad_by_freq:
        return None
    f = np.ones(indices.shape, dtype)
    if scale_grad_by_freq:
        counts = np.bincount(indices.ravel(), minlength=num_weights)
        f = f / counts[indices]
    if padding_idx is not None:
        f = np.where(indices == padding_idx, 0, f)
    return f.astype(dtype)


def _embedding_backward(grad_output, indices, num_weights, padding_idx, scale_grad_by_freq):
    d = grad_output.shape[-1]
    g = grad_output.reshape(-1, d)
    idx = indices.ravel().astype(np.int64)
    f = _position_factors(indices, num_weights, padding_idx, scale_grad_by_freq, grad_output.dtype)
    if f is not None:
        g = g * f.reshape(-1, 1)
    out = np.zeros((num_weights, d), grad_output.dtype)
    np.add.at(out, idx, g)
    return out


def _embedding_backward_grad(grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    g = dispatch(EMBEDDING, (grad, indices, -1, False, False))
    f = _position_factors(indices._data, num_weights, padding_idx, scale_grad_by_freq, grad._data.dtype)
    return g if f is None else g * R._make(f[..., None], False, None, 0)


EMBEDDING = defop(
    "embedding", _embedding, node="EmbeddingBackward0", method=False, tensors=("weight", "indices"),
    inputs=("weight",),
    grads={"weight": lambda grad, indices, weight_shape, padding_idx, scale_grad_by_freq:
           dispatch(EMBEDDING_BACKWARD, (grad, indices, weight_shape[0], padding_idx, scale_grad_by_freq))},
    samples=lambda: iter([Sample(arr(5, 3), ints(4, high=5)), Sample(arr(4, 2), ints(2, 3, high=4), 1),
                          Sample(arr(6, 2), np.array([1, 1, 2, 5]), -1, True), Sample(arr(3, 2), np.array(2))]),
    jvps={"weight": "linear"})
EMBEDDING_BACKWARD = defop(
    "embedding_dense_backward", _embedding_backward, node="EmbeddingDenseBackwardBackward0", method=False, function=False,
    tensors=("grad_output", "indices"), inputs=("grad_output",), grads={"grad_output": _embedding_backward_grad},
    samples=lambda: iter([Sample(arr(4, 3), ints(4, high=5), 5, -1, False),
                          Sample(arr(2, 3, 2), np.array([[1, 1, 0], [3, 1, 2]]), 4, 1, True)]))


# ---------------------------------------------------------------------------------------
# constant padding (negative pads crop)

def _pad_check(x: np.ndarray, pad: tuple) -> None:
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > x.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {x.ndim}")


def _constant_pad(self, pad, value=0):
    pad = tuple(int(p) for p in pad)
    _pad_check(self, pad)
    nd = len(pad) // 2
    before = [0] * self.ndim
    after = [0] * self.ndim
    for k in range(nd):
        before[self.ndim - 1 - k] = pad[2 * k]
        after[self.ndim - 1 - k] = pad[2 * k + 1]
    shape = tuple(s + b + a for s, b, a in zip(self.shape, before, after))
    if any(s < 0 for s in shape):
        raise RuntimeError(f"The input size {self.shape[-1]}, plus negative padding {pad[0]} and {pad[1]} resulted "
                           f"in a negative output size, which is invalid. Check dimension {self.ndim - 1} of your "
                           f"input.")
    out = np.full(shape, value, self.dtype)
    src = tuple(slice(max(-b, 0), s - max(-a, 0)) for s, b, a in zip(self.shape, before, after))
    dst = tuple(slice(max(b, 0), max(b, 0) + (sl.stop - sl.start)) for b, sl in zip(before, src))
    if all(sl.stop > sl.start for sl in src):
        out[dst] = self[src]
    return out


CONSTANT_PAD = defop(
    "constant_pad_nd", _constant_pad, node="ConstantPadNdBackward0", method=False,
    grads={"self": lambda grad, pad: dispatch(CONSTANT_PAD, (grad, tuple(-p for p in pad), 0))},
    samples=lambda: iter([Sample(arr(2, 3), (1, 2)), Sample(arr(1, 2, 3, 3), (1, 0, 2, 1), 1.5),
                          Sample(arr(3, 4), (-1, 1, 1, -2)), Sample(arr(4), (0, 0))]))


# ---------------------------------------------------------------------------------------
# separable linear maps: reflection/replication padding, upsampling (Note [Separable linear maps])

def _onehot_matrix(index: np.ndarray, size: int, dtype: Any) -> np.ndarray:
    m = np.zeros((len(index), size), dtype)
    m[np.arange(len(index)), index] = 1
    return m


def _apply_matrices(x: np.ndarray, mats: list) -> np.ndarray:
    """Multiply the last len(mats) axes of x by the per-axis matrices [out, in]."""
    out = x
    nd = len(mats)
    for k, m in enumerate(mats):
        axis = x.ndim - nd + k
        out = np.moveaxis(np.tensordot(out, m.astype(x.dtype, copy=False), axes=([axis], [1])), -1, axis)
    return np.ascontiguousarray(out)


def _matrices_grad(grad: Any, mats: list) -> Any:
    out = grad
    nd = len(mats)
    for k, m in enumerate(mats):
        axis = grad.ndim - nd + k
        mt = R._make(np.ascontiguousarray(m.astype(grad._data.dtype)), False, None, 0)
        out = out.transpose(axis, -1).matmul(mt).transpose(axis, -1)
    return out


def _separable(name: str, node: str, nd: int, build: Callable, samples: Callable) -> Any:
    """An entry `forward(self, *params)` = A @ x along the last nd axes, A from build(sizes, *params)."""
    def forward(self, *params):
        return _apply_matrices(self, build(self.shape[-nd:], *params))
    import inspect
    params = list(inspect.signature(build).parameters.values())[1:]
    forward.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] +
        [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params])
    names = [p.name for p in params]

    def formula(grad, self_shape, **kw):
        return _matrices_grad(grad, build(tuple(self_shape[-nd:]), *[kw[n] for n in names]))
    formula.__signature__ = inspect.Signature(
        [inspect.Parameter("grad", inspect.Parameter.POSITIONAL_OR_KEYWORD),
         inspect.Parameter("self_shape", inspect.Parameter.POSITIONAL_OR_KEYWORD)] +
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names])

    def call_formula(*args):
        return formula(args[0], args[1], **dict(zip(names, args[2:])))
    call_formula.__signature__ = formula.__signature__
    return defop(name, forward, node=node, method=False, function=False, grads={"self": call_formula},
                 samples=samples)


def _pad_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    pos = np.arange(-before, size + after)
    if mode == "reflect":
        if before >= size or after >= size:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension of input of size {size}")
        pos = np.abs(pos)
        pos = np.where(pos >= size, 2 * (size - 1) - pos, pos)
        return pos
    if size == 0:
        raise RuntimeError("input tensor must have a non-empty last dimension")
    return np.clip(pos, 0, size - 1)


def _pad_builder(mode: str, nd: int) -> Callable:
    def build(sizes, padding):
        pad = tuple(int(p) for p in padding)
        if len(pad) != 2 * nd:
            raise RuntimeError(f"padding size is expected to be {2 * nd}, but got: {len(pad)}")
        mats = []
        for k, size in enumerate(sizes):
            j = nd - 1 - k  # padding lists the last dim first
            idx = _pad_index(size, pad[2 * j], pad[2 * j + 1], mode)
            mats.append(_onehot_matrix(idx, size, np.float64))
        return mats
    return build


REFLECTION_PAD1D = _separable("reflection_pad1d", "ReflectionPad1DBackward0", 1, _pad_builder("reflect", 1),
                              lambda: iter([Sample(arr(2, 5), (2, 1)), Sample(arr(1, 2, 4), (3, 0))]))
REFLECTION_PAD2D = _separable("reflection_pad2d", "ReflectionPad2DBackward0", 2, _pad_builder("reflect", 2),
                              lambda: iter([Sample(arr(1, 3, 4), (1, 2, 2, 1)), Sample(arr(1, 1, 3, 3), (1, 1, 1, 1))]))
REPLICATION_PAD1D = _separable("replication_pad1d", "ReplicationPad1DBackward0", 1, _pad_builder("replicate", 1),
                               lambda: iter([Sample(arr(2, 3), (2, 1)), Sample(arr(1, 2, 4), (3, 0))]))
REPLICATION_PAD2D = _separable("replication_pad2d", "ReplicationPad2DBackward0", 2, _pad_builder("replicate", 2),
                               lambda: iter([Sample(arr(1, 3, 4), (1, 2, 2, 1)), Sample(arr(1, 1, 2, 2), (2, 1, 0, 1))]))


def _nearest_matrix(size: int, out: int, scale: Any) -> np.ndarray:
    if out == size:
        idx = np.arange(out)
    elif out == 2 * size:
        idx = np.arange(out) >> 1
    else:
        s = np.float32(1.0 / scale) if scale else np.float32(size) / np.float32(out)
        idx = np.minimum(np.floor(np.arange(out, dtype=np.float32) * s).astype(np.int64), size - 1)
    return _onehot_matrix(idx, size, np.float64)


def _linear_matrix(size: int, out: int, align_corners: bool, scale: Any) -> np.ndarray:
    if align_corners:
        ratio = (size - 1) / (out - 1) if out > 1 else 0.0
        src = np.arange(out) * ratio
    else:
        ratio = 1.0 / scale if scale else size / out
        src = np.maximum((np.arange(out) + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    lam = src - i0
    m = np.zeros((out, size))
    rows = np.arange(out)
    np.add.at(m, (rows, i0), 1 - lam)
    np.add.at(m, (rows, i1), lam)
    return m


def _nearest1d(sizes, output_size, scales=None):
    return [_nearest_matrix(sizes[0], int(output_size[0]), scales)]


def _nearest2d(sizes, output_size, scales_h=None, scales_w=None):
    return [_nearest_matrix(sizes[0], int(output_size[0]), scales_h),
            _nearest_matrix(sizes[1], int(output_size[1]), scales_w)]


def _linear1d(sizes, output_size, align_corners, scales=None):
    return [_linear_matrix(sizes[0], int(output_size[0]), align_corners, scales)]


def _bilinear2d(sizes, output_size, align_corners, scales_h=None, scales_w=None):
    return [_linear_matrix(sizes[0], int(output_size[0]), align_corners, scales_h),
            _linear_matrix(sizes[1], int(output_size[1]), align_corners, scales_w)]


UPSAMPLE_NEAREST1D = _separable("upsample_nearest1d", "UpsampleNearest1DBackward0", 1, _nearest1d,
                                lambda: iter([Sample(arr(1, 2, 3), (6,)), Sample(arr(1, 1, 4), (3,)),
                                              Sample(arr(1, 1, 3), (7,), 2.5)]))
UPSAMPLE_NEAREST2D = _separable("upsample_nearest2d", "UpsampleNearest2DBackward0", 2, _nearest2d,
                                lambda: iter([Sample(arr(1, 1, 2, 3), (4, 6)), Sample(arr(1, 2, 3, 3), (5, 2)),
                                              Sample(arr(1, 1, 2, 2), (5, 5), 2.5, 2.5)]))
UPSAMPLE_LINEAR1D = _separable("upsample_linear1d", "UpsampleLinear1DBackward0", 1, _linear1d,
                               lambda: iter([Sample(arr(1, 2, 3), (6,), False), Sample(arr(1, 1, 4), (7,), True),
                                             Sample(arr(1, 1, 3), (7,), False, 2.5)]))
UPSAMPLE_BILINEAR2D = _separable("upsample_bilinear2d", "UpsampleBilinear2DBackward0", 2, _bilinear2d,
                                 lambda: iter([Sample(arr(1, 1, 2, 3), (4, 6), False),
                                               Sample(arr(1, 2, 3, 3), (5, 2), True),
                                               Sample(arr(1, 1, 2, 2), (5, 5), False, 2.5, 2.5)]))


# ---------------------------------------------------------------------------------------
# pixel shuffle

def _pixel_shuffle(self, upscale_factor):
    r = int(upscale_factor)
    *lead, c, h, w = self.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    x = self.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    n = len(lead)
    x = x.transpose(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return np.ascontiguousarray(x).reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def _pixel_unshuffle(self, downscale_factor):
    r = int(downscale_factor)
    *lead, c, h, w = self.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor")
    x = self.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    n = len(lead)
    x = x.transpose(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return np.ascontiguousarray(x).reshape(tuple(lead) + (c * r * r, h // r, w // r))


PIXEL_SHUFFLE = defop("pixel_shuffle", _pixel_shuffle, node="PixelShuffleBackward0", method=False,
                      grads={"self": lambda grad, upscale_factor: dispatch(PIXEL_UNSHUFFLE, (grad, upscale_factor))},
                      samples=lambda: iter([Sample(arr(1, 4, 2, 3), 2), Sample(arr(9, 1, 2), 3)]),
                      jvps={"self": "linear"})
PIXEL_UNSHUFFLE = defop("pixel_unshuffle", _pixel_unshuffle, node="PixelUnshuffleBackward0", method=False,
                        grads={"self": lambda grad, downscale_factor: dispatch(PIXEL_SHUFFLE, (grad, downscale_factor))},
                        samples=lambda: iter([Sample(arr(1, 1, 4, 6), 2), Sample(arr(1, 3, 3), 3)]),
                        jvps={"self": "linear"})


# ---------------------------------------------------------------------------------------
# one_hot

def _one_hot(self, num_classes=-1):
    if self.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if self.size == 0 and num_classes == -1:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if self.size and self.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    n = int(self.max()) + 1 if num_classes == -1 else int(num_classes)
    if self.size and self.max() >= n:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (self[..., None] == np.arange(n)).astype(np.int64)


ONE_HOT = defop("one_hot", _one_hot, tensors=("self",), differentiable=False, method=False, function=False,
                samples=lambda: iter([Sample(ints(4, high=3)), Sample(ints(2, 3, high=4), 5), Sample(np.array(2), 4)]))


# --- embedding_bag: per bag of indices, the sum, mean or max of the picked rows
BAG_SUM, BAG_MEAN, BAG_MAX = 0, 1, 2


def _bag_plan(indices: np.ndarray, offsets: np.ndarray, include_last_offset: bool, padding_idx: int) -> tuple:
    """(number of bags, bag of each used position, the used positions that are not padding, their bag, count of
    such positions per bag)."""
    n = indices.shape[0]
    starts = offsets[:-1] if include_last_offset else offsets
    stop = min(int(offsets[-1]), n) if include_last_offset else n
    n_bags = starts.shape[0]
    positions = np.arange(stop)
    bag_of = np.searchsorted(starts, positions, side="right") - 1
    kept = positions[indices[:stop] != padding_idx]
    kept_bag = bag_of[kept]
    counts = np.bincount(kept_bag, minlength=n_bags)
    return n_bags, kept, kept_bag, counts


def _bag_max_rows(weight: np.ndarray, indices: np.ndarray, kept: np.ndarray, kept_bag: np.ndarray,
                  out: np.ndarray) -> np.ndarray:
    """For each bag and feature, the first kept position whose row holds the bag's max (-1 for empty bags)."""
    rows = weight[indices[kept]]
    big = np.iinfo(np.int64).max
    pos = np.where(rows == out[kept_bag], kept[:, None], big)
    best = np.full(out.shape, big, np.int64)
    np.minimum.at(best, kept_bag, pos)
    return np.where(best == big, -1, best)


def _embedding_bag(weight, indices, offsets, mode=BAG_MEAN, per_sample_weights=None, include_last_offset=False,
                   padding_idx=-1, scale_grad_by_freq=False):
    n_bags, kept, kept_bag, counts = _bag_plan(indices, offsets, include_last_offset, padding_idx)
    rows = weight[indices[kept]]
    dim = weight.shape[1]
    if mode == BAG_MAX:
        out = np.full((n_bags, dim), -np.inf, weight.dtype)
        np.maximum.at(out, kept_bag, rows)
        return np.where(counts[:, None] > 0, out, 0).astype(weight.dtype, copy=False)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights[kept][:, None]
    out = np.zeros((n_bags, dim), weight.dtype)
    np.add.at(out, kept_bag, rows)
    if mode == BAG_MEAN:
        out = out / np.maximum(counts, 1)[:, None].astype(weight.dtype)
    return out.astype(weight.dtype, copy=False)


def _const(a: np.ndarray) -> Any:
    return R._make(a, False, None, 0)


def _bag_weight_grad(grad, weight, indices, offsets, mode, per_sample_weights, include_last_offset, padding_idx,
                     scale_grad_by_freq):
    w, idx = weight._data, indices._data
    n_bags, kept, kept_bag, counts = _bag_plan(idx, offsets._data, include_last_offset, padding_idx)
    num, dim = w.shape
    zeros = _const(np.zeros(num * dim if mode == BAG_MAX else (num, dim), grad._data.dtype))
    if mode == BAG_MAX:
        out = _embedding_bag(w, idx, offsets._data, mode, None, include_last_offset, padding_idx)
        best = _bag_max_rows(w, idx, kept, kept_bag, out)
        bag, feat = np.nonzero(best >= 0)
        target = idx[best[bag, feat]] * dim + feat
        picked = grad.reshape(-1).index_select(0, _const(bag * dim + feat))
        return zeros.index_add(0, _const(target), picked).view(num, dim)
    vals = grad.index_select(0, _const(kept_bag))
    scale = np.ones(kept.shape[0])
    if mode == BAG_MEAN:
        scale = scale / np.maximum(counts, 1)[kept_bag]
    if scale_grad_by_freq:
        scale = scale / np.bincount(idx[kept], minlength=num)[idx[kept]]
    if mode == BAG_MEAN or scale_grad_by_freq:
        vals = vals * _const(scale.astype(grad._data.dtype)[:, None])
    if per_sample_weights is not None:
        vals = vals * per_sample_weights.index_select(0, _const(kept)).unsqueeze(1)
    return zeros.index_add(0, _const(idx[kept]), vals)


def _bag_psw_grad(grad, weight, indices, offsets, include_last_offset, padding_idx):
    idx = indices._data
    n_bags, kept, kept_bag, counts = _bag_plan(idx, offsets._data, include_last_offset, padding_idx)
    dots = (grad.index_select(0, _const(kept_bag)) * weight.index_select(0, _const(idx[kept]))).sum(1)
    zeros = _const(np.zeros(idx.shape[0], grad._data.dtype))
    return zeros.index_add(0, _const(kept), dots)


def _bag_samples():
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9])
    yield Sample(arr(10, 3), idx, np.array([0, 3, 3, 6]), BAG_SUM)
    yield Sample(arr(10, 3), idx, np.array([0, 3, 3, 6]), BAG_MEAN, None, False, 4)
    yield Sample(away_rows(10, 3), idx, np.array([0, 2, 5]), BAG_MAX)
    yield Sample(arr(10, 3), idx, np.array([0, 2, 5]), BAG_SUM, arr(8), False, 2)
    yield Sample(arr(10, 3), idx, np.array([0, 2, 5, 7]), BAG_MEAN, None, True, -1, True)


def away_rows(*shape: int) -> np.ndarray:
    """Distinct values (no ties for max), spaced apart so finite differences do not reorder them."""
    return np.random.RandomState(5).permutation(int(np.prod(shape))).reshape(shape) * 0.5 - 5.0


EMBEDDING_BAG = defop(
    "_embedding_bag_impl", _embedding_bag, node="EmbeddingBagBackward0", method=False, function=False,
    promote="none", tensors=("weight", "indices", "offsets", "per_sample_weights"),
    inputs=("weight", "per_sample_weights"), promote_on=("weight",),
    grads={"weight": _bag_weight_grad, "per_sample_weights": _bag_psw_grad}, samples=_bag_samples)
