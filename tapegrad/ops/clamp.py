"""clamp (clip), clamp_min, clamp_max and their in-place forms.

Number bounds record ClampBackward1 (ClampMin/MaxBackward0), tensor bounds ClampBackward0
(ClampMin/MaxBackward1), as in torch. The gradient reaches self where it lies within the
bounds, inclusive; a tensor bound gets it where it clipped self (max wins when min > max).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from . import _registry as R
from ._inplace import _can_cast, apply_inplace
from ._registry import defop, dispatch, public
from ._samples import UNARY_SHAPES, Sample, away
from .pointwise_binary import _off_grid
from .pointwise_extra import _C_TYPE_NAMES, _not_implemented, _where


# --- clamp --------------------------------------------------------------------------------
CLAMP_NONE_ERROR = "torch.clamp: At least one of 'min' or 'max' must not be None"


def _clamp(self, min=None, max=None):
    """torch.clamp: min(max(self, min), max) with NaN propagated from every argument."""
    if self.dtype == np.bool_:
        _refuse_bool_clamp(self, min, max)
    out = self
    if min is not None:
        out = np.maximum(out, min)
    if max is not None:
        out = np.minimum(out, max)
    return out if out is not self else self.copy()


def _refuse_bool_clamp(self, min, max):
    tensor_bounds = isinstance(min, np.ndarray) or isinstance(max, np.ndarray)
    if min is not None and max is not None:
        raise _not_implemented("clamp_cpu" if tensor_bounds else "clamp_scalar_cpu", self.dtype)
    if not tensor_bounds:
        raise _not_implemented("clamp_min_scalar_cpu" if max is None else "clamp_max_scalar_cpu", self.dtype)


def _within(self, min, max):
    """Where self lies in [min, max] (a missing bound does not constrain)."""
    if min is None:
        return self <= max
    if max is None:
        return self >= min
    return (self >= min).logical_and(self <= max)


def _clamp_grad_self(grad, self, min, max):
    return _where(_within(self, min, max), grad, 0.0)


def _clamp_grad_min(grad, self, min, max):
    below = self < min
    if max is not None:
        below = below.logical_and(min < max)
    return _where(below, grad, 0.0)


def _clamp_grad_max(grad, self, min, max):
    above = self > max
    if min is not None:
        above = above.logical_or(max < min)
    return _where(above, grad, 0.0)


def _clamp_scalar_samples() -> Iterator[Sample]:
    for shape in UNARY_SHAPES:
        yield Sample(away(*shape), -1.0, 1.0)
    yield Sample(away(3, 4), 0.5)
    yield Sample(away(3, 4), None, 0.5)
    yield Sample(away(5), 1.0, -1.0)


def _clamp_tensor_samples() -> Iterator[Sample]:
    yield Sample(away(3, 4), away(3, 4) - 5, away(3, 4) + 5)
    yield Sample(away(3, 4), _off_grid(4), None)
    yield Sample(away(3, 4), None, _off_grid(3, 1))
    yield Sample(away(2, 3), _off_grid(3), _off_grid(2, 1, shift=0.21))
    yield Sample(away(), _off_grid(), _off_grid(shift=0.21))
    yield Sample(away(0, 3), _off_grid(3), _off_grid(3))
    yield Sample(away(6), _off_grid(6), _off_grid(6, shift=0.21))  # min > max in some places


CLAMP = defop("clamp", _clamp, node="ClampBackward1", promote="common", function=False, method=False,
              tensors=("self", "min", "max"), inputs=("self",), grads={"self": _clamp_grad_self},
              samples=_clamp_scalar_samples,
              jvps={"self": "pointwise"})
CLAMP_TENSOR = defop("clamp.Tensor", _clamp, node="ClampBackward0", promote="common", function=False,
                     method=False, scalar_edges=True, inputs=("self", "min", "max"),
                     grads={"self": _clamp_grad_self, "min": _clamp_grad_min, "max": _clamp_grad_max},
                     samples=_clamp_tensor_samples,
                     jvps={"self": "pointwise", "min": "pointwise", "max": "pointwise"})


def _clamp_op(min: Any, max: Any) -> R.OpDef:
    """The clamp overload for these bounds, with torch's argument errors."""
    if min is None and max is None:
        raise RuntimeError(CLAMP_NONE_ERROR)
    tensor_min, tensor_max = isinstance(min, R.Tensor), isinstance(max, R.Tensor)
    if not (tensor_min or tensor_max):
        return CLAMP
    if (min is not None and not tensor_min) or (max is not None and not tensor_max):
        def kind(v: Any) -> str:
            return "Tensor" if isinstance(v, R.Tensor) else type(v).__name__
        raise TypeError(f"clamp() received an invalid combination of arguments - got (Tensor, {kind(min)}, "
                        f"{kind(max)}), but expected one of:\n"
                        " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
                        " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)\n")
    return CLAMP_TENSOR


def _inplace_scalar_bound(op: R.OpDef, args: tuple) -> Any:
    """apply_inplace, with the message torch's scalar-bound kernels give for a dtype change."""
    self = args[0]
    target = R.compute_dtype(op, args)
    if not _can_cast(target, self.dtype):
        raise RuntimeError(f"result type {target._legacy} can't be cast to the desired output type "
                           f"{_C_TYPE_NAMES.get(self.dtype.numpy.name, self.dtype._legacy)}")
    return apply_inplace(op, args)


def clamp(input: Any, min: Any = None, max: Any = None) -> Any:
    """Limit every element to [min, max]; bounds are numbers or tensors (broadcast)."""
    return dispatch(_clamp_op(min, max), (input, min, max))


def clamp_(input: Any, min: Any = None, max: Any = None) -> Any:
    """In-place clamp."""
    op = _clamp_op(min, max)
    if op is CLAMP:
        return _inplace_scalar_bound(op, (input, min, max))
    return apply_inplace(op, (input, min, max))


for _name in ("clamp", "clip"):
    public(_name)(clamp)
    public(_name + "_")(clamp_)


def _clamp_side_samples(tensor_bound: bool) -> Callable:
    def samples() -> Iterator[Sample]:
        if tensor_bound:
            yield Sample(away(3, 4), _off_grid(4))
            yield Sample(away(2, 3), _off_grid(2, 1))
            yield Sample(away(), _off_grid(2))
            yield Sample(away(0, 2), _off_grid(2))
        else:
            yield Sample(away(3, 4), 0.5)
            yield Sample(away(), -0.5)
            yield Sample(away(0, 2), 0.5)
    return samples


def _clamp_min(self, min):
    """torch.clamp_min: max(self, min), NaN propagated."""
    if self.dtype == np.bool_ and not isinstance(min, np.ndarray):
        raise _not_implemented("clamp_min_scalar_cpu", self.dtype)
    return np.maximum(self, min)


def _clamp_max(self, max):
    """torch.clamp_max: min(self, max), NaN propagated."""
    if self.dtype == np.bool_ and not isinstance(max, np.ndarray):
        raise _not_implemented("clamp_max_scalar_cpu", self.dtype)
    return np.minimum(self, max)


CLAMP_MIN = defop("clamp_min", _clamp_min, node="ClampMinBackward0", promote="common", function=False,
                  method=False, tensors=("self", "min"), inputs=("self",),
                  grads={"self": lambda grad, self, min: _where(self >= min, grad, 0.0)},
                  samples=_clamp_side_samples(False),
                  jvps={"self": "pointwise"})
CLAMP_MIN_TENSOR = defop("clamp_min.Tensor", _clamp_min, node="ClampMinBackward1", promote="common",
                         function=False, method=False,
                         grads={"self": lambda grad, self, min: _where(self >= min, grad, 0.0),
                                "min": lambda grad, self, min: _where(self < min, grad, 0.0)},
                         samples=_clamp_side_samples(True),
                         jvps={"self": "pointwise", "min": "pointwise"})
CLAMP_MAX = defop("clamp_max", _clamp_max, node="ClampMaxBackward0", promote="common", function=False,
                  method=False, tensors=("self", "max"), inputs=("self",),
                  grads={"self": lambda grad, self, max: _where(self <= max, grad, 0.0)},
                  samples=_clamp_side_samples(False),
                  jvps={"self": "pointwise"})
CLAMP_MAX_TENSOR = defop("clamp_max.Tensor", _clamp_max, node="ClampMaxBackward1", promote="common",
                         function=False, method=False,
                         grads={"self": lambda grad, self, max: _where(self <= max, grad, 0.0),
                                "max": lambda grad, self, max: _where(self > max, grad, 0.0)},
                         samples=_clamp_side_samples(True),
                         jvps={"self": "pointwise", "max": "pointwise"})


def _clamp_side(input: Any, bound: Any, scalar_op: R.OpDef, tensor_op: R.OpDef, inplace: bool) -> Any:
    if isinstance(bound, R.Tensor):
        return apply_inplace(tensor_op, (input, bound)) if inplace else dispatch(tensor_op, (input, bound))
    return _inplace_scalar_bound(scalar_op, (input, bound)) if inplace else dispatch(scalar_op, (input, bound))


@public("clamp_min")
def clamp_min(input: Any, min: Any) -> Any:
    """max(input, min) elementwise; min a number or a tensor."""
    return _clamp_side(input, min, CLAMP_MIN, CLAMP_MIN_TENSOR, False)


@public("clamp_min_")
def clamp_min_(input: Any, min: Any) -> Any:
    """In-place clamp_min."""
    return _clamp_side(input, min, CLAMP_MIN, CLAMP_MIN_TENSOR, True)


@public("clamp_max")
def clamp_max(input: Any, max: Any) -> Any:
    """min(input, max) elementwise; max a number or a tensor."""
    return _clamp_side(input, max, CLAMP_MAX, CLAMP_MAX_TENSOR, False)


@public("clamp_max_")
def clamp_max_(input: Any, max: Any) -> Any:
    """In-place clamp_max."""
    return _clamp_side(input, max, CLAMP_MAX, CLAMP_MAX_TENSOR, True)
