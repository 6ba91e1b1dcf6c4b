"""Pooling: max (with indices), average, adaptive average and adaptive max, over 2-d planes.

1-d pooling in `nn.functional` adds a unit height and calls these, as torch does (its grad_fn is
then SqueezeBackward1). Max pooling reads the windows through one strided view and takes an
argmax; its gradient scatters into the positions the indices name (`_max_pool_scatter`), whose
own gradient gathers from them (`_max_pool_gather`). Average pooling's gradient spreads each
output gradient over its window (`_avg_pool_backward`), which is average pooling's adjoint.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _registry as R
from ._nn_args import ntuple
from ._registry import defop, dispatch
from ._samples import Sample, arr, away
from .nn_conv import _pad_zeros, col2im, windows

_ND = 2


def _as_batched(x: np.ndarray, nd: int) -> np.ndarray:
    return x[None] if x.ndim == nd + 1 else x


def _pool_params(self: np.ndarray, kernel_size: Any, stride: Any, padding: Any, dilation: Any = 1) -> tuple:
    nd = _ND
    kernel = ntuple(kernel_size, nd)
    stride = ntuple(stride, nd) if stride not in (None, [], ()) else kernel
    return kernel, stride, ntuple(padding, nd), ntuple(dilation, nd)


def pool_out_size(size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                  ceil_mode: bool) -> tuple:
    """torch's pooling output size (a last window must start inside the input or left padding)."""
    out = []
    for i, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        o = (i + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= i + p:
            o -= 1
        out.append(o)
    return tuple(out)


def _check_pool(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple) -> None:
    for k, s, p, d in zip(kernel, stride, padding, dilation):
        if k <= 0:
            raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[-1]}")
        if s <= 0:
            raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[-1]}")
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    if any(o < 1 for o in out):
        size = "x".join(str(s) for s in x.shape[-3:])
        osize = "x".join(str(s) for s in (x.shape[-3],) + out)
        raise RuntimeError(f"Given input size: ({size}). Calculated output size: ({osize}). Output size is too small")


def _padded_windows(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple, out: tuple,
                    fill: float) -> np.ndarray:
    """[N, C, *out, *kernel] windows of x padded with `fill` (extra on the right for ceil mode)."""
    size = x.shape[-len(kernel):]
    right = tuple(max((o - 1) * s + d * (k - 1) + 1 - i - p, 0)
                  for o, s, d, k, i, p in zip(out, stride, dilation, kernel, size, padding))
    if fill == 0:
        xp = _pad_zeros(x, padding, right)
    elif any(padding) or any(right):
        shape = x.shape[:-len(kernel)] + tuple(i + p + r for i, p, r in zip(size, padding, right))
        xp = np.full(shape, fill, x.dtype)
        xp[(Ellipsis,) + tuple(slice(p, p + i) for p, i in zip(padding, size))] = x
    else:
        xp = x
    win = windows(xp, kernel, stride, dilation)
    return win[(Ellipsis,) + tuple(slice(0, o) for o in out) + (slice(None),) * len(kernel)]


# ---------------------------------------------------------------------------------------
# max pooling

def _window_max(win: np.ndarray, kernel: tuple) -> tuple:
    """Max over the kernel axes of a window view, and the position (row-major in the kernel) of the first
    maximum; a NaN counts as larger than anything, the last NaN winning, as in torch's kernel."""
    views = [win[(Ellipsis,) + pos] for pos in np.ndindex(*kernel)]
    best = views[0]
    for v in views[1:]:
        best = np.maximum(best, v)
    if best.dtype.kind == "f" and np.isnan(best).any():
        return _window_max_nan(views)
    local = np.full(best.shape, len(views) - 1, np.int32)
    for k in range(len(views) - 2, -1, -1):
        np.copyto(local, k, where=views[k] == best)
    return best, local


def _window_max_nan(views: list) -> tuple:
    best = np.array(views[0])
    local = np.zeros(best.shape, np.int32)
    for k, v in enumerate(views[1:], 1):
        better = (v > best) | (v != v)
        np.copyto(best, v, where=better)
        np.copyto(local, k, where=better)
    return best, local


def _max_pool2d_with_indices(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    kernel, stride, padding, dilation = _pool_params(self, kernel_size, stride, padding, dilation)
    x = _as_batched(self, _ND)
    size = x.shape[2:]
    out = pool_out_size(size, kernel, stride, padding, dilation, ceil_mode)
    _check_pool(x, kernel, stride, padding, dilation, out)
    fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    win = _padded_windows(x, kernel, stride, padding, dilation, out, fill)
    values, local = _window_max(win, kernel)
    # flat index into the input plane: sum over dims of (o*s - p + k*d) * plane stride
    plane = [math.prod(size[d + 1:]) for d in range(_ND)]
    base = np.zeros((1,) * local.ndim, np.int64)
    for dim in range(_ND):
        shape = [1] * local.ndim
        shape[2 + dim] = out[dim]
        base = base + ((np.arange(out[dim]) * stride[dim] - padding[dim]) * plane[dim]).reshape(shape)
    offsets = np.array([sum(p * dilation[d] * plane[d] for d, p in enumerate(pos)) for pos in np.ndindex(*kernel)],
                       np.int64)
    index = base + offsets[local]
    if self.ndim == _ND + 1:
        values, index = values[0], index[0]
    return values, index


def _max_pool_self_grad(grad, result, self_shape, kernel_size, stride, padding, dilation):
    kernel, stride_, _, dilation_ = _pool_params(None, kernel_size, stride, padding, dilation)
    disjoint = all(d * (k - 1) + 1 <= s for k, s, d in zip(kernel, stride_, dilation_))
    return dispatch(MAX_POOL_SCATTER, (grads_first(grad), result[1], tuple(self_shape), disjoint))


def grads_first(grad: Any) -> Any:
    return grad[0] if isinstance(grad, tuple) else grad


def _max_pool_samples():
    yield Sample(away(1, 1, 4, 4), 2)
    yield Sample(away(2, 2, 5, 5), (3, 2), (2, 1), (1, 0), 1, True)
    yield Sample(away(1, 6, 7), 2, 2, 1, 2, False)
    yield Sample(away(1, 1, 5, 5), 3, 2, 1, 1, True)
    yield Sample(away(0, 2, 4, 4), 2)


MAX_POOL2D = defop(
    "max_pool2d_with_indices", _max_pool2d_with_indices, node="MaxPool2DWithIndicesBackward0", method=False,
    function=False, outputs=2, differentiable_outputs=1, grads={"self": _max_pool_self_grad},
    samples=_max_pool_samples)


def _scatter(grad_output, indices, input_size, disjoint):
    size = tuple(input_size)
    nd = _ND
    lead = size[:-nd]
    plane = math.prod(size[-nd:])
    rows = math.prod(lead)
    g = grad_output.reshape(rows, math.prod(grad_output.shape[-nd:]))
    idx = indices.reshape(rows, math.prod(indices.shape[-nd:]))
    flat_idx = (idx + (np.arange(rows) * plane)[:, None]).ravel()
    if disjoint:
        out = np.zeros(rows * plane, grad_output.dtype)
        out[flat_idx] = g.ravel()
    else:
        out = np.bincount(flat_idx, weights=g.ravel(), minlength=rows * plane).astype(grad_output.dtype)
    return out.reshape(size)


def _gather(self, indices):
    nd = _ND
    lead = self.shape[:-nd]
    rows = math.prod(lead)
    src = self.reshape(rows, math.prod(self.shape[-nd:]))
    idx = indices.reshape(rows, math.prod(indices.shape[-nd:]))
    return np.take_along_axis(src, idx, axis=1).reshape(indices.shape)


def _scatter_samples():
    x = away(2, 1, 4, 4)
    _, idx = _max_pool2d_with_indices(x, 2)
    yield Sample(arr(*idx.shape), idx, (2, 1, 4, 4), True)
    _, idx = _max_pool2d_with_indices(x, 3, 1)
    yield Sample(arr(*idx.shape), idx, (2, 1, 4, 4), False)


def _gather_samples():
    x = away(2, 1, 4, 4)
    _, idx = _max_pool2d_with_indices(x, 3, 1)
    yield Sample(arr(2, 1, 4, 4), idx)


MAX_POOL_SCATTER = defop(
    "_max_pool_scatter", _scatter, node="MaxPool2DWithIndicesBackwardBackward0", function=False, method=False,
    tensors=("grad_output", "indices"), inputs=("grad_output",),
    grads={"grad_output": lambda grad, indices: dispatch(MAX_POOL_GATHER, (grad, indices))},
    samples=_scatter_samples)
MAX_POOL_GATHER = defop(
    "_max_pool_gather", _gather, node="MaxPoolGatherBackward0", function=False, method=False,
    tensors=("self", "indices"), inputs=("self",),
    grads={"self": lambda grad, indices, self_shape: dispatch(MAX_POOL_SCATTER,
                                                              (grad, indices, tuple(self_shape), False))},
    samples=_gather_samples)


# ---------------------------------------------------------------------------------------
# average pooling

def _divisor(size: tuple, kernel: tuple, stride: tuple, padding: tuple, out: tuple, count_include_pad: bool,
             divisor_override: Any, dtype: Any) -> Any:
    if divisor_override:
        return divisor_override
    div = np.ones((), dtype)
    for dim, (i, k, s, p, o) in enumerate(zip(size, kernel, stride, padding, out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, i + p)
        if count_include_pad:
            n = end - start
        else:
            n = np.minimum(end, i) - np.maximum(start, 0)
        shape = [1] * len(size)
        shape[dim] = o
        div = div * n.reshape(shape).astype(dtype)
    return div


def _avg_pool2d(self, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True,
                divisor_override=None):
    kernel, stride, padding, dilation = _pool_params(self, kernel_size, stride, padding)
    x = _as_batched(self, _ND)
    size = x.shape[2:]
    out = pool_out_size(size, kernel, stride, padding, dilation, ceil_mode)
    _check_pool(x, kernel, stride, padding, dilation, out)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    win = _padded_windows(x, kernel, stride, padding, dilation, out, 0)
    total = win.sum(axis=tuple(range(-_ND, 0)))
    res = total / _divisor(size, kernel, stride, padding, out, count_include_pad, divisor_override, x.dtype)
    res = res.astype(x.dtype, copy=False)
    return res[0] if self.ndim == _ND + 1 else res


def _avg_pool_backward(grad_output, input_size, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override):
    size = tuple(input_size)
    kernel, stride, padding, dilation = _pool_params(None, kernel_size, stride, padding)
    g = _as_batched(grad_output, _ND)
    out = g.shape[2:]
    div = _divisor(size[-_ND:], kernel, stride, padding, out, count_include_pad, divisor_override, g.dtype)
    share = (g / div).astype(g.dtype, copy=False)
    cols = np.broadcast_to(share[:, :, None, None], share.shape[:2] + kernel + out)
    res = col2im(cols, size[-_ND:], kernel, stride, padding, dilation)
    return res[0] if grad_output.ndim == _ND + 1 else res


def _avg_pool_self_grad(grad, self_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override):
    return dispatch(AVG_POOL_BACKWARD, (grad, tuple(self_shape), kernel_size, stride, padding, ceil_mode,
                                        count_include_pad, divisor_override))


def _avg_pool_samples():
    yield Sample(arr(1, 1, 4, 4), 2)
    yield Sample(arr(2, 2, 5, 5), (3, 2), (2, 1), (1, 0), True, False)
    yield Sample(arr(1, 5, 5), 3, 2, 1, True, True)
    yield Sample(arr(1, 1, 4, 5), 2, 1, 1, False, True, 3)
    yield Sample(arr(0, 2, 4, 4), 2)


AVG_POOL2D = defop("avg_pool2d", _avg_pool2d, node="AvgPool2DBackward0", method=False, function=False,
                   grads={"self": _avg_pool_self_grad}, samples=_avg_pool_samples)


def _avg_pool_backward_grad(grad, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    return dispatch(AVG_POOL2D, (grad, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override))


AVG_POOL_BACKWARD = defop(
    "_avg_pool2d_backward", _avg_pool_backward, node="AvgPool2DBackwardBackward0", function=False, method=False,
    grads={"grad_output": _avg_pool_backward_grad},
    samples=lambda: iter([Sample(arr(1, 1, 2, 2), (1, 1, 4, 4), 2, 2, 0, False, True, None),
                          Sample(arr(2, 1, 3, 3), (2, 1, 5, 5), 3, 2, 1, True, False, None)]))


# ---------------------------------------------------------------------------------------
# adaptive pooling

def adaptive_ranges(size: int, out: int) -> list:
    """torch's adaptive windows: [floor(i*size/out), ceil((i+1)*size/out)) for each output i."""
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _averaging_matrix(size: int, out: int, dtype: Any) -> np.ndarray:
    m = np.zeros((out, size), dtype)
    for i, (a, b) in enumerate(adaptive_ranges(size, out)):
        m[i, a:b] = 1.0 / (b - a)
    return m


def _adaptive_out(self: np.ndarray, output_size: Any) -> tuple:
    out = tuple(output_size) if isinstance(output_size, (list, tuple)) and len(output_size) == _ND else \
        ntuple(output_size, _ND)
    return tuple(s if o is None else o for s, o in zip(self.shape[-_ND:], out))


def _adaptive_avg_pool2d(self, output_size):
    out = _adaptive_out(self, output_size)
    h, w = self.shape[-2:]
    ah = _averaging_matrix(h, out[0], self.dtype)
    aw = _averaging_matrix(w, out[1], self.dtype)
    return np.matmul(np.matmul(ah, self), aw.T)


def _adaptive_avg_grad(grad, self_shape, output_size):
    out = grad.shape[-2:]
    dt = grad._data.dtype
    ah = R._make(_averaging_matrix(self_shape[-2], out[0], dt).T.copy(), False, None, 0)
    aw = R._make(_averaging_matrix(self_shape[-1], out[1], dt), False, None, 0)
    return ah.matmul(grad).matmul(aw)


ADAPTIVE_AVG_POOL2D = defop(
    "_adaptive_avg_pool2d", _adaptive_avg_pool2d, node="AdaptiveAvgPool2DBackward0", method=False, function=False,
    grads={"self": _adaptive_avg_grad},
    samples=lambda: iter([Sample(arr(1, 2, 5, 4), (2, 3)), Sample(arr(2, 1, 4, 4), 2), Sample(arr(2, 5, 7), (3, 2)),
                          Sample(arr(1, 1, 3, 3), (4, 5))]))


def _adaptive_max_pool2d(self, output_size):
    out = _adaptive_out(self, output_size)
    h, w = self.shape[-2:]
    values = np.empty(self.shape[:-2] + out, self.dtype)
    index = np.empty(self.shape[:-2] + out, np.int64)
    for i, (h0, h1) in enumerate(adaptive_ranges(h, out[0])):
        for j, (w0, w1) in enumerate(adaptive_ranges(w, out[1])):
            region = self[..., h0:h1, w0:w1].reshape(self.shape[:-2] + (-1,))
            local = np.argmax(region, axis=-1)
            values[..., i, j] = np.take_along_axis(region, local[..., None], -1)[..., 0]
            index[..., i, j] = (h0 + local // (w1 - w0)) * w + w0 + local % (w1 - w0)
    return values, index


ADAPTIVE_MAX_POOL2D = defop(
    "adaptive_max_pool2d", _adaptive_max_pool2d, node="AdaptiveMaxPool2DBackward0", method=False, function=False,
    outputs=2, differentiable_outputs=1,
    grads={"self": lambda grad, result, self_shape: dispatch(MAX_POOL_SCATTER, (grads_first(grad), result[1],
                                                                                tuple(self_shape), False))},
    samples=lambda: iter([Sample(away(1, 2, 5, 4), (2, 3)), Sample(away(2, 1, 4, 4), 2),
                          Sample(away(2, 5, 7), (3, 2))]))


# --- max unpooling: each value goes to the flat position (within its plane) its index names

def _shape_str(shape: tuple) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def _max_unpool2d(self, indices, output_size):
    if self.ndim not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with {self.ndim} "
                           "dimensions.")
    if indices.shape != self.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({_shape_str(self.shape)}) but got indices tensor with shape: {_shape_str(indices.shape)}")
    for d in range(self.ndim - 3, self.ndim):
        if self.shape[d] == 0:
            raise RuntimeError(f"max_unpooling2d_forward_out_cpu(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but got {_shape_str(self.shape)} with dimension {d} being empty.")
    h, w = (int(s) for s in output_size)
    lead = self.shape[:-2]
    out = np.zeros(lead + (h * w,), self.dtype)
    k = self.shape[-2] * self.shape[-1]
    flat_idx = indices.reshape(lead + (k,))
    if flat_idx.size and (flat_idx.min() < 0 or flat_idx.max() >= h * w):
        bad = flat_idx[(flat_idx < 0) | (flat_idx >= h * w)].ravel()[0]
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {h}x{w})")
    np.put_along_axis(out, flat_idx, self.reshape(lead + (k,)), -1)
    return out.reshape(lead + (h, w))


def _max_unpool2d_grad(grad, self_shape, indices):
    lead = tuple(grad.shape[:-2])
    flat = grad.reshape(lead + (grad.shape[-2] * grad.shape[-1],))
    k = self_shape[-2] * self_shape[-1]
    return flat.gather(-1, indices.reshape(lead + (k,))).reshape(tuple(self_shape))


def _unpool_index_sample(*shape: int, plane: int) -> np.ndarray:
    """Distinct indices into a plane of `plane` positions, one per element of shape's trailing 2 dims."""
    rng = np.random.RandomState(3)
    lead, k = shape[:-2], shape[-2] * shape[-1]
    rows = [rng.permutation(plane)[:k] for _ in range(int(np.prod(lead, dtype=np.int64)))]
    return np.array(rows, np.int64).reshape(shape)


MAX_UNPOOL2D = defop(
    "max_unpool2d", _max_unpool2d, node="MaxUnpool2DBackward0", method=False, function=False,
    inputs=("self",), tensors=("self", "indices"), promote_on=("self",),
    grads={"self": _max_unpool2d_grad},
    samples=lambda: iter([Sample(arr(1, 2, 2, 3), _unpool_index_sample(1, 2, 2, 3, plane=24), (4, 6)),
                          Sample(arr(2, 2, 2), _unpool_index_sample(2, 2, 2, plane=9), (3, 3)),
                          Sample(arr(0, 2, 2, 2), np.zeros((0, 2, 2, 2), np.int64), (4, 4))]))
