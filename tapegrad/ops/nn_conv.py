"""Convolutions (1-d, 2-d, 3-d, plain and transposed) and im2col/col2im (unfold/fold).

Note [Convolution as im2col + GEMM]
A convolution gathers every input window into columns (one strided view of the padded input,
copied once into a [N, C*kernel, L] array) and multiplies them by the [O, C*kernel] weight in
one batched matmul. The adjoint, col2im, adds columns back into an image with one strided add per
kernel position. The input gradient of a convolution is a transposed convolution with the same
weight, and the input gradient of a transposed convolution is a convolution; the weight gradient
is its own entry (`_convolution_weight`), bilinear in the input and the output gradient, whose
derivatives are again convolutions. So every derivative of every order is one of these entries.
"""
from __future__ import annotations

import itertools
import math
import weakref
from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd.grad_mode import _state
from ._registry import defop, dispatch
from ._samples import Sample, arr


# ---------------------------------------------------------------------------------------
# array kernels

def _pad_zeros(x: np.ndarray, before: tuple, after: tuple | None = None) -> np.ndarray:
    after = before if after is None else after
    if not any(before) and not any(after):
        return x
    nd = len(before)
    shape = x.shape[:-nd] + tuple(s + b + a for s, b, a in zip(x.shape[-nd:], before, after))
    out = np.zeros(shape, x.dtype)
    out[(Ellipsis,) + tuple(slice(b, b + s) for b, s in zip(before, x.shape[-nd:]))] = x
    return out


def conv_out_size(size: tuple, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> tuple:
    """Output spatial size of a convolution (or pooling without ceil mode)."""
    return tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                 for s, k, st, p, d in zip(size, kernel, stride, padding, dilation))


def windows(xp: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """Strided view [N, C, *out, *kernel] of the windows of an (already padded) input."""
    nd = len(kernel)
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    win = sliding_window_view(xp, eff, axis=tuple(range(xp.ndim - nd, xp.ndim)))
    sl = (Ellipsis,) + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)
    return win[sl]


def im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple) -> np.ndarray:
    """Columns [N, C, *kernel, *out] (contiguous) of x [N, C, *spatial]."""
    nd = len(kernel)
    win = windows(_pad_zeros(x, padding), kernel, stride, dilation)
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))
    return np.ascontiguousarray(win.transpose(perm))


def col2im(cols: np.ndarray, out_size: tuple, kernel: tuple, stride: tuple, padding: tuple,
           dilation: tuple) -> np.ndarray:
    """Adjoint of im2col: add cols [N, C, *kernel, *inner] into an image [N, C, *out_size]."""
    nd = len(kernel)
    inner = cols.shape[2 + nd:]
    need = tuple((n - 1) * s + d * (k - 1) + 1 if n else 0 for n, s, d, k in zip(inner, stride, dilation, kernel))
    padded = tuple(max(o + 2 * p, q) for o, p, q in zip(out_size, padding, need))
    buf = np.zeros(cols.shape[:2] + padded, cols.dtype)
    if all(inner):
        for pos in itertools.product(*(range(k) for k in kernel)):
            target = (Ellipsis,) + tuple(slice(j * d, j * d + (n - 1) * s + 1, s)
                                         for j, d, n, s in zip(pos, dilation, inner, stride))
            buf[target] += cols[(slice(None), slice(None)) + pos]
    crop = (Ellipsis,) + tuple(slice(p, p + o) for p, o in zip(padding, out_size))
    return buf[crop]


# Note [Columns reused by the weight gradient]
# The weight gradient needs the same im2col columns the forward built. Recomputing them costs a
# copy as large as the columns; instead the forward (when grad mode is on) leaves them in a small
# bounded cache keyed by the input array (held weakly) and the geometry, and the weight gradient
# takes them out once. A miss (evicted, other geometry, input array gone) just recomputes, so the
# cache never changes a result; an input modified in place is caught before, by the version
# check of the saved input.
_COLS_CACHE: "OrderedDict[int, tuple]" = OrderedDict()
_COLS_CACHE_SIZE = 4


def _remember_cols(x: np.ndarray, key: tuple, cols: np.ndarray) -> None:
    if not _state.enabled:
        return
    _COLS_CACHE[id(x)] = (weakref.ref(x), key, cols)
    while len(_COLS_CACHE) > _COLS_CACHE_SIZE:
        _COLS_CACHE.popitem(last=False)


def _take_cols(x: np.ndarray, key: tuple) -> np.ndarray | None:
    entry = _COLS_CACHE.get(id(x))
    if entry is None or entry[0]() is not x or entry[1] != key:
        return None
    del _COLS_CACHE[id(x)]
    return entry[2]


def _check_kernel_fits(x_shape: tuple, kernel: tuple, padding: tuple, dilation: tuple) -> None:
    padded = tuple(s + 2 * p for s, p in zip(x_shape[2:], padding))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(e > p for e, p in zip(eff, padded)):
        fmt = " x ".join
        raise RuntimeError(f"Calculated padded input size per channel: ({fmt(str(p) for p in padded)}). Kernel size: "
                           f"({fmt(str(e) for e in eff)}). Kernel size can't be greater than actual input size")


def conv_arrays(x: np.ndarray, w: np.ndarray, stride: tuple, padding: tuple, dilation: tuple,
                groups: int) -> np.ndarray:
    """Plain convolution (cross-correlation) of x [N, C, *s] with w [O, C/groups, *k]."""
    n, c = x.shape[:2]
    o = w.shape[0]
    kernel = w.shape[2:]
    _check_kernel_fits(x.shape, kernel, padding, dilation)
    cols = im2col(x, kernel, stride, padding, dilation)
    _remember_cols(x, (tuple(kernel), stride, padding, dilation), cols)
    out_sp = cols.shape[2 + len(kernel):]
    cols = cols.reshape(n, groups, c // groups * math.prod(kernel), math.prod(out_sp))
    out = np.matmul(w.reshape(groups, o // groups, cols.shape[2]), cols)
    return out.reshape((n, o) + out_sp)


def conv_transpose_arrays(x: np.ndarray, w: np.ndarray, stride: tuple, padding: tuple, output_padding: tuple,
                          dilation: tuple, groups: int) -> np.ndarray:
    """Transposed convolution of x [N, Cin, *s] with w [Cin, Cout/groups, *k] (adjoint of conv_arrays)."""
    n, cin = x.shape[:2]
    kernel = w.shape[2:]
    cout = w.shape[1] * groups
    in_sp = x.shape[2:]
    out_sp = tuple((i - 1) * s - 2 * p + d * (k - 1) + 1 + op
                   for i, s, p, d, k, op in zip(in_sp, stride, padding, dilation, kernel, output_padding))
    w2 = w.reshape(groups, cin // groups, w.shape[1] * math.prod(kernel)).swapaxes(-1, -2)
    cols = np.matmul(w2, x.reshape(n, groups, cin // groups, math.prod(in_sp)))
    cols = cols.reshape((n, cout) + tuple(kernel) + tuple(in_sp))
    return col2im(cols, out_sp, kernel, stride, padding, dilation)


def conv_weight_arrays(x: np.ndarray, gy: np.ndarray, weight_size: tuple, stride: tuple, padding: tuple,
                       dilation: tuple, groups: int) -> np.ndarray:
    """Weight gradient of conv_arrays(x, w): sum over the batch of gy_n @ cols_n^T."""
    n = x.shape[0]
    kernel = tuple(weight_size[2:])
    cols = _take_cols(x, (kernel, stride, padding, dilation))
    if cols is None:
        cols = im2col(x, kernel, stride, padding, dilation)
    out_sp = cols.shape[2 + len(kernel):]
    if tuple(gy.shape[2:]) != tuple(out_sp):  # rows/cols the forward never reached (stride remainder)
        cols = cols[(Ellipsis,) + tuple(slice(0, s) for s in gy.shape[2:])]
    L = math.prod(gy.shape[2:])
    cols = cols.reshape(n, groups, x.shape[1] // groups * math.prod(kernel), L)
    g = gy.reshape(n, groups, gy.shape[1] // groups, L)
    gw = np.matmul(g, cols.swapaxes(-1, -2)).sum(0)
    return gw.reshape(weight_size)


# ---------------------------------------------------------------------------------------
# the entries

def _args(input_ndim: int, stride, padding, dilation, output_padding=None) -> tuple:
    nd = input_ndim - 2
    from ._nn_args import ntuple
    out = (ntuple(stride, nd), ntuple(padding, nd), ntuple(dilation, nd))
    if output_padding is not None:
        out += (ntuple(output_padding, nd),)
    return out


def _convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    stride, padding, dilation, output_padding = _args(input.ndim, stride, padding, dilation, output_padding)
    if transposed:
        out = conv_transpose_arrays(input, weight, stride, padding, output_padding, dilation, groups)
    else:
        out = conv_arrays(input, weight, stride, padding, dilation, groups)
    if bias is not None:
        out = out + bias.reshape((-1,) + (1,) * (out.ndim - 2))
    return out


def _transpose_output_padding(input_shape: tuple, grad_shape: tuple, weight_shape: tuple, stride: tuple,
                              padding: tuple, dilation: tuple) -> tuple:
    """output_padding that makes a transposed convolution of grad come back to input's size."""
    return tuple(i - ((g - 1) * s - 2 * p + d * (k - 1) + 1)
                 for i, g, s, p, d, k in zip(input_shape[2:], grad_shape[2:], stride, padding, dilation,
                                             weight_shape[2:]))


def _conv_input_grad(grad, weight, input_shape, stride, padding, dilation, transposed, groups):
    stride, padding, dilation = _args(len(input_shape), stride, padding, dilation)
    if transposed:
        return dispatch(CONVOLUTION, (grad, weight, None, stride, padding, dilation, False, (0,) * len(stride),
                                      groups))
    op = _transpose_output_padding(input_shape, grad.shape, weight.shape, stride, padding, dilation)
    return dispatch(CONVOLUTION, (grad, weight, None, stride, padding, dilation, True, op, groups))


def _conv_weight_grad(grad, input, weight_shape, stride, padding, dilation, transposed, groups):
    if transposed:  # <G, convT(x, w)> = <conv(G, w), x>
        return dispatch(CONV_WEIGHT, (grad, input, tuple(weight_shape), stride, padding, dilation, groups))
    return dispatch(CONV_WEIGHT, (input, grad, tuple(weight_shape), stride, padding, dilation, groups))


def _conv_bias_grad(grad):
    return grad.sum([0] + list(range(2, grad.ndim)))


def _conv_samples():
    yield Sample(arr(1, 1, 3, 3), arr(1, 1, 2, 2), arr(1), (1, 1), (0, 0), (1, 1), False, (0, 0), 1)
    yield Sample(arr(2, 2, 5, 4), arr(3, 2, 3, 2), arr(3), (2, 1), (1, 0), (1, 1), False, (0, 0), 1)
    yield Sample(arr(1, 2, 3, 3), arr(2, 1, 2, 2), None, (1, 1), (1, 1), (1, 1), False, (0, 0), 2)
    yield Sample(arr(1, 2, 7), arr(2, 2, 2), arr(2), (2,), (1,), (2,), False, (0,), 1)
    yield Sample(arr(1, 2, 3, 3), arr(2, 1, 2, 2), arr(1), (2, 2), (0, 0), (1, 1), True, (1, 1), 1)
    yield Sample(arr(1, 2, 3), arr(2, 1, 2), None, (2,), (1,), (1,), True, (0,), 2)
    yield Sample(arr(1, 1, 3, 3, 3), arr(1, 1, 2, 2, 2), arr(1), (1, 1, 1), (0, 0, 0), (1, 1, 1), False,
                 (0, 0, 0), 1)
    yield Sample(arr(0, 2, 4, 4), arr(2, 2, 3, 3), arr(2), (1, 1), (0, 0), (1, 1), False, (0, 0), 1)


CONVOLUTION = defop(
    "convolution", _convolution, node="ConvolutionBackward0", method=False, promote="common", scalar_edges=True,
    tensors=("input", "weight", "bias"),
    grads={"input": _conv_input_grad, "weight": _conv_weight_grad, "bias": _conv_bias_grad},
    samples=_conv_samples)


def _conv_weight_forward(input, grad_output, weight_size, stride, padding, dilation, groups):
    stride, padding, dilation = _args(input.ndim, stride, padding, dilation)
    return conv_weight_arrays(input, grad_output, tuple(weight_size), stride, padding, dilation, groups)


def _cw_input_grad(grad, grad_output, input_shape, stride, padding, dilation, groups):
    # d/dx <G, W(x, gy)> = d/dx <conv(x, G), gy> = convT(gy, G)
    return _conv_input_grad(grad_output, grad, input_shape, stride, padding, dilation, False, groups)


def _cw_grad_output_grad(grad, input, grad_output_shape, stride, padding, dilation, groups):
    out = dispatch(CONVOLUTION, (input, grad, None, stride, padding, dilation, False, (0,) * len(stride), groups))
    if tuple(out.shape) != tuple(grad_output_shape):
        raise NotImplementedError("_convolution_weight: output gradient of a shape the convolution does not produce")
    return out


def _cw_samples():
    yield Sample(arr(1, 1, 3, 3), arr(1, 1, 2, 2), (1, 1, 2, 2), (1, 1), (0, 0), (1, 1), 1)
    yield Sample(arr(1, 2, 4, 4), arr(1, 2, 2, 2), (2, 1, 2, 2), (2, 2), (0, 0), (1, 1), 2)
    yield Sample(arr(1, 2, 5), arr(1, 1, 3), (1, 2, 2), (2,), (1,), (1,), 1)


CONV_WEIGHT = defop(
    "_convolution_weight", _conv_weight_forward, node="ConvolutionBackwardBackward0", function=False, method=False,
    promote="common", grads={"input": _cw_input_grad, "grad_output": _cw_grad_output_grad}, samples=_cw_samples)


# ---------------------------------------------------------------------------------------
# unfold / fold (im2col / col2im), torch's aten signatures

def _im2col(self, kernel_size, dilation, padding, stride):
    kernel, dilation, padding, stride = (tuple(kernel_size), tuple(dilation), tuple(padding), tuple(stride))
    batched = self.ndim == 4
    x = self if batched else self[None]
    _check_kernel_fits(x.shape, kernel, padding, dilation)
    cols = im2col(x, kernel, stride, padding, dilation)
    n, c = cols.shape[:2]
    out = cols.reshape(n, c * math.prod(kernel), math.prod(cols.shape[2 + len(kernel):]))
    return out if batched else out[0]


def _col2im(self, output_size, kernel_size, dilation, padding, stride):
    kernel, dilation, padding, stride = (tuple(kernel_size), tuple(dilation), tuple(padding), tuple(stride))
    output_size = tuple(output_size)
    batched = self.ndim == 3
    x = self if batched else self[None]
    n, ck, L = x.shape
    k = math.prod(kernel)
    if ck % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
                           f"but got input.size(1)={ck} and kernel_size=({', '.join(map(str, kernel))})")
    inner = conv_out_size(output_size, kernel, stride, padding, dilation)
    if math.prod(inner) != L:
        raise RuntimeError(f"Given output_size=({', '.join(map(str, output_size))}), kernel_size=("
                           f"{', '.join(map(str, kernel))}), dilation=({', '.join(map(str, dilation))}), padding=("
                           f"{', '.join(map(str, padding))}), stride=({', '.join(map(str, stride))}), expected "
                           f"size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{' * '.join(map(str, inner))} = {math.prod(inner)}, but got input.size(2)={L}.")
    cols = x.reshape((n, ck // k) + kernel + inner)
    out = col2im(cols, output_size, kernel, stride, padding, dilation)
    return out if batched else out[0]


IM2COL = defop(
    "im2col", _im2col, node="Im2ColBackward0", function=False, method=False,
    grads={"self": lambda grad, self_shape, kernel_size, dilation, padding, stride:
           dispatch(COL2IM, (grad, tuple(self_shape[-2:]), kernel_size, dilation, padding, stride))},
    samples=lambda: iter([Sample(arr(1, 2, 3, 3), (2, 2), (1, 1), (0, 0), (1, 1)),
                          Sample(arr(2, 1, 4, 5), (2, 3), (1, 1), (1, 0), (2, 1)),
                          Sample(arr(1, 3, 3), (2, 2), (1, 1), (0, 0), (1, 1))]))
COL2IM = defop(
    "col2im", _col2im, node="Col2ImBackward0", function=False, method=False,
    grads={"self": lambda grad, kernel_size, dilation, padding, stride:
           dispatch(IM2COL, (grad, kernel_size, dilation, padding, stride))},
    samples=lambda: iter([Sample(arr(1, 8, 4), (3, 3), (2, 2), (1, 1), (0, 0), (1, 1)),
                          Sample(arr(2, 6, 9), (4, 5), (2, 3), (1, 1), (1, 0), (2, 1)),
                          Sample(arr(4, 4), (3, 3), (2, 2), (1, 1), (0, 0), (1, 1))]))
