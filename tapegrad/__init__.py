"""tapegrad: PyTorch's autograd rebuilt in Python on NumPy, usable as `import tapegrad as torch`."""
from __future__ import annotations

import warnings as _warnings
from typing import Any

# Note [NumPy warnings]: torch computes log(-1) = nan or 1/0 = inf silently; NumPy warns. The
# warnings NumPy raises inside tapegrad's own modules are silenced, and only those (a filter costs
# nothing per op, where np.errstate would cost 1-2 us per op).
_warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"tapegrad(\.|$)")

from . import _dtype
from ._dtype import (dtype, get_default_dtype, set_default_dtype, promote_types, bool_ as bool, uint8, int8, int16,
                     int32, int64, float16, float32, float64, complex64, complex128)
from ._size import Size
from ._device import device
from ._tensor import Tensor
from . import ops as _ops
_ops.operators.attach(Tensor)
from .ops import FUNCTIONS as _FUNCTIONS
from .ops._promotion import result_type
from ._creation import (tensor, as_tensor, asarray, from_numpy, zeros, ones, empty, full, eye, arange, linspace,
                        logspace, zeros_like, ones_like, empty_like, full_like, scalar_tensor, legacy_constructor)
from ._creation import range_ as range  # noqa: A001  (torch.range)
from .autograd.grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled)
from . import autograd
from ._tensor_str import set_printoptions, get_printoptions, printoptions
from . import random
from .random import manual_seed, seed, initial_seed, get_rng_state, set_rng_state, Generator, default_generator
from ._random_factories import (rand, randn, randint, randperm, normal, bernoulli, multinomial, rand_like,
                                randn_like, randint_like, poisson)
from . import nn
from . import linalg
from . import return_types
from . import optim, utils
from . import func
from .func import vmap
from .serialization import save, load
from .autograd.anomaly_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled

__version__ = "0.1.0"

# dtype aliases as torch spells them
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
cfloat = complex64
cdouble = complex128
if hasattr(_dtype, "bfloat16"):
    bfloat16 = _dtype.bfloat16

FloatTensor = legacy_constructor(float32, "FloatTensor")
DoubleTensor = legacy_constructor(float64, "DoubleTensor")
HalfTensor = legacy_constructor(float16, "HalfTensor")
LongTensor = legacy_constructor(int64, "LongTensor")
IntTensor = legacy_constructor(int32, "IntTensor")
ShortTensor = legacy_constructor(int16, "ShortTensor")
CharTensor = legacy_constructor(int8, "CharTensor")
ByteTensor = legacy_constructor(uint8, "ByteTensor")
BoolTensor = legacy_constructor(bool, "BoolTensor")

strided = "torch.strided"
contiguous_format = "torch.contiguous_format"
preserve_format = "torch.preserve_format"
channels_last = "torch.channels_last"


def is_tensor(obj: Any) -> bool:
    """True when obj is a tapegrad Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


def numel(input: Tensor) -> int:
    return input.numel()


def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor."""
    if input.numel() != 1:
        if input.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return input.__bool__()


def can_cast(from_: dtype, to: dtype) -> bool:
    """Whether torch's casting rules allow from_ -> to in an in-place op."""
    return not (from_._category > to._category)


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape that all `shapes` broadcast to (torch's error when they do not)."""
    from .ops.comparison import broadcast_shapes_or_raise
    out: tuple = ()
    for s in shapes:
        s = (s,) if isinstance(s, (type(0),)) else tuple(s)
        out = broadcast_shapes_or_raise(out, s)
    return Size(out)


def _install_functions() -> None:
    g = globals()
    for name, fn in _FUNCTIONS.items():
        if name not in g:
            g[name] = fn


_install_functions()
