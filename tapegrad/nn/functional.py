"""torch.nn.functional: the functions layers are built from."""
from __future__ import annotations

import warnings
from typing import Any

from .._vmap_state import VM
from ..autograd._function_vmap import TRANSFORM_DEPTH
from ..ops._registry import FUNCTIONS, OPS, dispatch

__all__ = ["binary_cross_entropy_with_logits", "linear", "bilinear"]


def _legacy_reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    """Map the deprecated size_average/reduce flags to a reduction string, warning as torch does."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{_legacy_name(size_average, reduce)}' instead.", UserWarning, stacklevel=3)
    return _legacy_name(size_average, reduce)


def _legacy_name(size_average: Any, reduce: Any) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean", pos_weight: Any = None) -> Any:
    """Binary cross entropy between sigmoid(input) and target, computed stably from the logits."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return dispatch(OPS["binary_cross_entropy_with_logits"], (input, target, weight, pos_weight, reduction))


# ---------------------------------------------------------------------------------------
# Linear layers (nn.Linear, nn.Bilinear)

def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    """y = input @ weight.T + bias, built from the ops torch uses (so grad_fn names match).

    With a bias: a 2-D input is one addmm; any other contiguous input is flattened to 2-D,
    passed through addmm and viewed back; otherwise matmul then add. Under a torch.func transform
    torch flattens only 3-D inputs, and under vmap it does not use addmm for 2-D ones either.
    """
    if bias is None:
        return input.matmul(weight.t())
    if input.dim() == 2 and not VM.active:
        return FUNCTIONS["addmm"](bias, input, weight.t())
    transformed = TRANSFORM_DEPTH[0] or VM.active
    if input.is_contiguous() and (input.dim() == 3 if transformed else input.dim() > 0):
        flat = input.view(-1, input.shape[-1])
        out = FUNCTIONS["addmm"](bias, flat, weight.t())
        return out.view(*input.shape[:-1], weight.shape[0]) if input.dim() > 1 else out.view(weight.shape[0])
    return input.matmul(weight.t()) + bias


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Any:
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    for d in range(input1.dim() - 1):
        if input1.shape[d] != input2.shape[d]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: got "
                               f"{input1.shape[d]} and {input2.shape[d]}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {weight.shape[2]}")
    if bias is not None and bias.shape[-1] != weight.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} but "
                           f"expected {weight.shape[0]}")
    out_f, in1, in2 = weight.shape
    batch = input1.shape[:-1]
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    mixed = x1.matmul(weight.permute(1, 0, 2).reshape(in1, out_f * in2)).view(-1, out_f, in2)
    out = (mixed * x2.unsqueeze(1)).sum(-1).view(*batch, out_f)
    return out if bias is None else out + bias


# ---------------------------------------------------------------------------------------
# Layers' functions: convolution and pooling, normalization, losses, activations, and the rest.
# Each family lives in its own module (entries in tapegrad/ops/nn_*.py); they are re-exported here.
from . import _functional_activation as _act  # noqa: E402
from . import _functional_conv as _conv  # noqa: E402
from . import _functional_loss as _loss  # noqa: E402
from . import _functional_misc as _misc  # noqa: E402
from . import _functional_norm as _norm  # noqa: E402
from ._functional_activation import *  # noqa: E402,F401,F403
from ._functional_conv import *  # noqa: E402,F401,F403
from ._functional_loss import *  # noqa: E402,F401,F403
from ._functional_misc import *  # noqa: E402,F401,F403
from ._functional_norm import *  # noqa: E402,F401,F403

__all__ += _act.__all__ + _conv.__all__ + _loss.__all__ + _misc.__all__ + _norm.__all__
from ._functional_attention import multi_head_attention_forward  # noqa: E402,F401
