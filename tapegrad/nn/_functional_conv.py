"""nn.functional: convolutions, unfold/fold and pooling (entries in ops/nn_conv.py, ops/nn_pool.py)."""
from __future__ import annotations

from typing import Any

from ..ops import nn_conv as C
from ..ops import nn_misc as M
from ..ops import nn_pool as P
from ..ops._nn_args import ntuple
from ..ops._registry import dispatch

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold",
           "fold", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "max_unpool1d", "max_unpool2d", "lp_pool1d", "lp_pool2d"]


def _shape(t: Any) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def _check_channels(input: Any, weight: Any, groups: int, nd: int, transposed: bool) -> None:
    if input.dim() != nd + 2:
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to conv{nd}d, but got "
                           f"input of size: {_shape(input)}")
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    if input.shape[1] != expected:
        if transposed:
            raise RuntimeError(f"Given transposed=1, weight of size {_shape(weight)}, expected input{_shape(input)} "
                               f"to have {expected} channels, but got {input.shape[1]} channels instead")
        raise RuntimeError(f"Given groups={groups}, weight of size {_shape(weight)}, expected input{_shape(input)} to "
                           f"have {expected} channels, but got {input.shape[1]} channels instead")


def _same_padding(input: Any, weight: Any, stride: tuple, dilation: tuple, nd: int) -> tuple:
    """('same' padding) symmetric padding, plus a right pad of the input where the total is odd."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    sym = []
    extra = []
    for d, k in zip(dilation, weight.shape[2:]):
        total = d * (k - 1)
        sym.append(total // 2)
        extra.append(total - 2 * (total // 2))
    if any(extra):
        import warnings
        warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a zero-padded copy "
                      "of the input be created", UserWarning, stacklevel=4)
        pad = []
        for e in reversed(extra):
            pad += [0, e]
        input = dispatch(M.CONSTANT_PAD, (input, tuple(pad), 0))
    return input, tuple(sym)


def _conv(nd: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: int) -> Any:
    unbatched = input.dim() == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    _check_channels(input, weight, groups, nd, False)
    stride, dilation = ntuple(stride, nd), ntuple(dilation, nd)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            input, padding = _same_padding(input, weight, stride, dilation, nd)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    out = dispatch(C.CONVOLUTION, (input, weight, bias, stride, ntuple(padding, nd), dilation, False, (0,) * nd,
                                   groups))
    return out.squeeze(0) if unbatched else out


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """1-d convolution (cross-correlation) over (N, C, L) or (C, L)."""
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """2-d convolution over (N, C, H, W) or (C, H, W)."""
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """3-d convolution over (N, C, D, H, W) or (C, D, H, W)."""
    return _conv(3, input, weight, bias, stride, padding, dilation, groups)


def _conv_t(nd: int, input: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any,
            groups: int, dilation: Any) -> Any:
    unbatched = input.dim() == nd + 1
    if unbatched:
        input = input.unsqueeze(0)
    _check_channels(input, weight, groups, nd, True)
    stride, dilation, output_padding = ntuple(stride, nd), ntuple(dilation, nd), ntuple(output_padding, nd)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_height: {output_padding[0]} output_padding_width: "
                               f"{output_padding[-1]} stride_height: {stride[0]} stride_width: {stride[-1]} "
                               f"dilation_height: {dilation[0]} dilation_width: {dilation[-1]}")
    out = dispatch(C.CONVOLUTION, (input, weight, bias, stride, ntuple(padding, nd), dilation, True, output_padding,
                                   groups))
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """1-d transposed convolution (the gradient of conv1d with respect to its input)."""
    return _conv_t(1, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """2-d transposed convolution."""
    return _conv_t(2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """3-d transposed convolution."""
    return _conv_t(3, input, weight, bias, stride, padding, output_padding, groups, dilation)


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    """Sliding blocks of a (N, C, H, W) input as columns (N, C*kh*kw, L) (im2col)."""
    if input.dim() not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.dim()}D)")
    return dispatch(C.IM2COL, (input, ntuple(kernel_size, 2), ntuple(dilation, 2), ntuple(padding, 2),
                               ntuple(stride, 2)))


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Any:
    """Sum columns (N, C*kh*kw, L) back into an image (N, C, H, W) (col2im)."""
    if input.dim() not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
                                  f"(got {input.dim()}D)")
    return dispatch(C.COL2IM, (input, ntuple(output_size, 2), ntuple(kernel_size, 2), ntuple(dilation, 2),
                               ntuple(padding, 2), ntuple(stride, 2)))


# ---------------------------------------------------------------------------------------
# pooling

def _stride(stride: Any, kernel: Any) -> Any:
    return kernel if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else stride


def max_pool2d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-d max pooling; returns (output, indices)."""
    k = ntuple(kernel_size, 2)
    return dispatch(P.MAX_POOL2D, (input, k, ntuple(_stride(stride, k), 2), ntuple(padding, 2),
                                   ntuple(dilation, 2), ceil_mode))


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-d max pooling over (N, C, H, W) or (C, H, W); with return_indices also the argmax positions."""
    out, idx = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def _lift1d(v: Any, unit: int) -> tuple:
    return (unit,) + ntuple(v, 1)


def max_pool1d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-d max pooling (a 2-d pooling of unit height, as torch does); returns (output, indices)."""
    k = ntuple(kernel_size, 1)
    out, idx = dispatch(P.MAX_POOL2D, (input.unsqueeze(-2), (1,) + k, _lift1d(_stride(stride, k), 1),
                                       _lift1d(padding, 0), _lift1d(dilation, 1), ceil_mode))
    return out.squeeze(-2), idx.squeeze(-2)


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-d max pooling over (N, C, L) or (C, L)."""
    out, idx = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, idx) if return_indices else out


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: Any = None) -> Any:
    """2-d average pooling."""
    k = ntuple(kernel_size, 2)
    return dispatch(P.AVG_POOL2D, (input, k, ntuple(_stride(stride, k), 2), ntuple(padding, 2), ceil_mode,
                                   count_include_pad, divisor_override))


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Any:
    """1-d average pooling (a 2-d pooling of unit height)."""
    k = ntuple(kernel_size, 1)
    out = dispatch(P.AVG_POOL2D, (input.unsqueeze(-2), (1,) + k, _lift1d(_stride(stride, k), 1),
                                  _lift1d(padding, 0), ceil_mode, count_include_pad, None))
    return out.squeeze(-2)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    """Average pooling to a fixed output size (a mean when it is 1x1, as torch does)."""
    size = tuple(output_size) if isinstance(output_size, (list, tuple)) and len(output_size) == 2 else \
        ntuple(output_size, 2)
    if size == (1, 1):
        return input.mean((-1, -2), keepdim=True)
    return dispatch(P.ADAPTIVE_AVG_POOL2D, (input, size))


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Any:
    """1-d adaptive average pooling (2-d of unit height)."""
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1,) + ntuple(output_size, 1)).squeeze(-2)


def adaptive_max_pool2d_with_indices(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Adaptive 2-d max pooling; returns (output, indices)."""
    size = tuple(output_size) if isinstance(output_size, (list, tuple)) else ntuple(output_size, 2)
    return dispatch(P.ADAPTIVE_MAX_POOL2D, (input, size))


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Max pooling to a fixed output size."""
    out, idx = adaptive_max_pool2d_with_indices(input, output_size)
    return (out, idx) if return_indices else out


def adaptive_max_pool1d_with_indices(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Adaptive 1-d max pooling; returns (output, indices)."""
    out, idx = dispatch(P.ADAPTIVE_MAX_POOL2D, (input.unsqueeze(-2), (1,) + ntuple(output_size, 1)))
    return out.squeeze(-2), idx.squeeze(-2)


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """1-d adaptive max pooling."""
    out, idx = adaptive_max_pool1d_with_indices(input, output_size)
    return (out, idx) if return_indices else out


def _unpool_output_size(input: Any, kernel_size: tuple, stride: tuple, padding: tuple, output_size: Any) -> list:
    """The unpooled spatial size: the pooling's input size by default, else output_size checked against it."""
    nd = len(kernel_size)
    in_size = tuple(input.shape)
    default = [(in_size[-nd + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        return default
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                         f"length of '{len(output_size)}'")
    for d in range(nd):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < output_size[d] < hi:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})')
    return list(output_size)


def max_unpool2d(input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Any:
    """Inverse of max_pool2d: each value goes back to the position its index names, zeros elsewhere."""
    k = ntuple(kernel_size, 2)
    size = _unpool_output_size(input, k, ntuple(_stride(stride, k), 2), ntuple(padding, 2), output_size)
    return dispatch(P.MAX_UNPOOL2D, (input, indices, tuple(size)))


def max_unpool1d(input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Any:
    """Inverse of max_pool1d (a 2-d unpooling of unit width, as torch does)."""
    k = ntuple(kernel_size, 1)
    size = _unpool_output_size(input, k, ntuple(_stride(stride, k), 1), ntuple(padding, 1), output_size)
    return dispatch(P.MAX_UNPOOL2D, (input.unsqueeze(-1), indices.unsqueeze(-1), tuple(size) + (1,))).squeeze(-1)


def _lp_root(out: Any, window: int, norm_type: float) -> Any:
    from ._functional_activation import relu
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool2d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Any:
    """(sum over each window of x^p)^(1/p)."""
    kh, kw = ntuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_root(out, kh * kw, norm_type)


def lp_pool1d(input: Any, norm_type: float, kernel_size: int, stride: Any = None, ceil_mode: bool = False) -> Any:
    """(sum over each window of x^p)^(1/p), in 1-d."""
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_root(out, kernel_size, norm_type)
