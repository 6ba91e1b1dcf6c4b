"""Pointwise ops of two tensors: atan2, hypot, maximum/minimum, fmax/fmin, lerp, xlogy.

Gradients follow torch at the special points: maximum/minimum give each side half of the
gradient at ties (and all of it to both where a NaN is involved); fmax/fmin give it to the
non-NaN side, and to self at ties; atan2's gradient at the origin is 0.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from . import _registry as R
from ._inplace import apply_inplace
from ._registry import defop, dispatch, public
from ._samples import BINARY_SHAPES, Sample, arr, away, pos
from .pointwise_extra import _C_TYPE_NAMES, _not_implemented, _where


# --- binary ops on two tensors ------------------------------------------------------------
def _tensor_only(fname: str, args: tuple, kwargs: dict) -> None:
    """torch's argument-parser error when `other` is not a Tensor (position counts self)."""
    if len(args) > 1:
        other, where = args[1], " (position 2)" if fname[0] != "." else " (position 1)"
    elif "other" in kwargs:
        other, where = kwargs["other"], ""
    else:
        return
    if not isinstance(other, R.Tensor):
        raise TypeError(f"{fname.lstrip('.')}(): argument 'other'{where} must be Tensor, not {type(other).__name__}")


def _declare_tensor_pair(op: R.OpDef, names: tuple, inplace: tuple = ()) -> None:
    """Public function, method and in-place names for a binary op taking only tensors."""
    for name in names:
        def function(*args: Any, _name: str = name, **kwargs: Any) -> Any:
            _tensor_only(_name, args, kwargs)
            return op.callable(*args, **kwargs)

        def method(*args: Any, _name: str = name, **kwargs: Any) -> Any:
            _tensor_only("." + _name, args, kwargs)
            return op.callable(*args, **kwargs)
        function.__name__ = method.__name__ = name
        function.__doc__ = method.__doc__ = op.forward.__doc__
        public(name, method=False)(function)
        public(name, function=False)(method)
    for name in inplace:
        def method_(self: Any, other: Any, _name: str = name) -> Any:
            _tensor_only("." + _name, (self, other), {})
            return apply_inplace(op, (self, other))
        method_.__name__ = name
        public(name, function=False)(method_)


def _off_grid(*shape: int, shift: float = 0.11) -> np.ndarray:
    """Like `away`, shifted so that no value ties with one from `away` (kinks at ties)."""
    return np.asarray(away(*shape) + shift)


def _binary_samples(make_a: Callable = arr, make_b: Callable = arr) -> Callable:
    def samples() -> Iterator[Sample]:
        for sa, sb in BINARY_SHAPES:
            yield Sample(make_a(*sa), make_b(*sb))
    return samples


def _atan2(self, other):
    """torch.atan2: the angle of the point (other, self), elementwise."""
    return np.arctan2(self, other)


def _atan2_weight(self, other):
    # 1 / (self^2 + other^2), with 0 where both are 0 (torch's gradient there is 0)
    norm2 = self * self + other * other
    return _where(norm2 == 0, 0.0, norm2.reciprocal())


ATAN2 = defop("atan2", _atan2, node="Atan2Backward0", promote="common_float", function=False, method=False,
              grads={"self": lambda grad, self, other: grad * (other * _atan2_weight(self, other)),
                     "other": lambda grad, self, other: grad * (-self * _atan2_weight(self, other))},
              samples=_binary_samples(away, _off_grid),
              jvps={"self": "pointwise", "other": "pointwise"})
_declare_tensor_pair(ATAN2, ("atan2", "arctan2"), inplace=("atan2_", "arctan2_"))


def _hypot(self, other):
    """torch.hypot: sqrt(self^2 + other^2) without overflow."""
    if self.dtype.kind not in "fc":
        raise _not_implemented("hypot_cpu", self.dtype)
    return np.hypot(self, other)


HYPOT = defop("hypot", _hypot, node="HypotBackward0", promote="common", function=False, method=False,
              grads={"self": lambda grad, self, result: grad * self / result,
                     "other": lambda grad, other, result: grad * other / result},
              samples=_binary_samples(away, _off_grid),
              jvps={"self": "pointwise", "other": "pointwise"})
_declare_tensor_pair(HYPOT, ("hypot",), inplace=("hypot_",))


def _extremum(name: str, ufunc: Any, node: str, grads: dict, doc: str) -> R.OpDef:
    def forward(self, other):
        return ufunc(self, other)
    forward.__doc__ = doc
    op = defop(name, forward, node=node, promote="common", function=False, method=False, grads=grads,
               samples=_binary_samples(away, _off_grid), jvps={"self": "pointwise", "other": "pointwise"})
    _declare_tensor_pair(op, (name,))
    return op


# maximum / minimum: NaN wins; at ties each side gets half of the gradient.
def _max_grad(grad, self, other):
    return _where(self == other, grad / 2, _where(self < other, 0.0, grad))


def _min_grad(grad, self, other):
    return _where(self == other, grad / 2, _where(self > other, 0.0, grad))


MAXIMUM = _extremum("maximum", np.maximum, "MaximumBackward0",
                    {"self": _max_grad, "other": lambda grad, self, other: _max_grad(grad, other, self)},
                    "torch.maximum: the larger element of each pair (NaN if either is NaN).")
MINIMUM = _extremum("minimum", np.minimum, "MinimumBackward0",
                    {"self": _min_grad, "other": lambda grad, self, other: _min_grad(grad, other, self)},
                    "torch.minimum: the smaller element of each pair (NaN if either is NaN).")


# fmax / fmin: NaN loses; self gets the gradient at ties and wherever other is NaN.
def _fmax_picks_self(self, other):
    return (self >= other).logical_or(other.isnan())


def _fmin_picks_self(self, other):
    return (self <= other).logical_or(other.isnan())


FMAX = _extremum("fmax", np.fmax, "FmaxBackward0",
                 {"self": lambda grad, self, other: _where(_fmax_picks_self(self, other), grad, 0.0),
                  "other": lambda grad, self, other: _where(_fmax_picks_self(self, other), 0.0, grad)},
                 "torch.fmax: the larger element of each pair, ignoring a NaN.")
FMIN = _extremum("fmin", np.fmin, "FminBackward0",
                 {"self": lambda grad, self, other: _where(_fmin_picks_self(self, other), grad, 0.0),
                  "other": lambda grad, self, other: _where(_fmin_picks_self(self, other), 0.0, grad)},
                 "torch.fmin: the smaller element of each pair, ignoring a NaN.")


# --- lerp ---------------------------------------------------------------------------------
def _lerp_check(self, end, weight, kernel):
    expected = _C_TYPE_NAMES.get(self.dtype.name, self.dtype.name)
    for label, value in (("end", end), ("weight", weight)):
        checked = isinstance(value, np.ndarray) and (label == "end" or value.ndim > 0)
        if checked and value.dtype != self.dtype:
            raise RuntimeError(f"expected dtype {expected} for `{label}` but got dtype "
                               f"{_C_TYPE_NAMES.get(value.dtype.name, value.dtype.name)}")
    if self.dtype.kind not in "fc":
        raise _not_implemented(kernel, self.dtype)


def _lerp_forward(self, end, weight):
    # self + w (end - self) for |w| < 1/2, else end - (1 - w)(end - self): exact at w = 0 and w = 1
    diff = end - self
    if isinstance(weight, np.ndarray):
        weight = weight.astype(self.dtype, copy=False)
        return np.where(np.abs(weight) < 0.5, self + weight * diff, end - diff * (1 - weight))
    if abs(weight) < 0.5:
        return self + weight * diff
    return end - diff * (1 - weight)


def _lerp_scalar(self, end, weight):
    """torch.lerp with a Number weight: self + weight * (end - self)."""
    _lerp_check(self, end, weight, "lerp_kernel_scalar")
    return _lerp_forward(self, end, weight)


def _lerp_tensor(self, end, weight):
    """torch.lerp with a Tensor weight (all three broadcast)."""
    _lerp_check(self, end, weight, "lerp_kernel_tensor")
    return _lerp_forward(self, end, weight)


LERP_SCALAR = defop("lerp.Scalar", _lerp_scalar, node="LerpBackward0", function=False, method=False,
                    tensors=("self", "end"), inputs=("self", "end"),
                    grads={"self": lambda grad, weight: grad * (1 - weight),
                           "end": lambda grad, weight: grad * weight},
                    samples=lambda: iter([Sample(arr(3, 4), arr(3, 4), 0.3), Sample(arr(3, 1), arr(4), 0.8),
                                          Sample(arr(), arr(2), -0.5), Sample(arr(0, 2), arr(2), 1.5)]),
                    jvps={"self": "pointwise", "end": "pointwise"})
LERP_TENSOR = defop("lerp.Tensor", _lerp_tensor, node="LerpBackward1", function=False, method=False,
                    grads={"self": lambda grad, weight: grad * (1 - weight),
                           "end": lambda grad, weight: grad * weight,
                           "weight": lambda grad, self, end: grad * (end - self)},
                    samples=lambda: iter([Sample(arr(3, 4), arr(3, 4), arr(3, 4)), Sample(arr(3, 1), arr(4), arr(3, 4)),
                                          Sample(arr(), arr(2), arr()), Sample(arr(0, 2), arr(2), arr(2))]),
                    jvps={"self": "pointwise", "end": "pointwise", "weight": "pointwise"})


def _lerp_op(end: Any, weight: Any) -> R.OpDef:
    if not isinstance(end, R.Tensor):
        got = f"Tensor, {type(end).__name__}, {'Tensor' if isinstance(weight, R.Tensor) else type(weight).__name__}"
        raise TypeError(f"lerp() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        " * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
                        " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)\n")
    return LERP_TENSOR if isinstance(weight, R.Tensor) else LERP_SCALAR


@public("lerp")
def lerp(input: Any, end: Any, weight: Any) -> Any:
    """Linear interpolation input + weight * (end - input); weight a number or a tensor."""
    return dispatch(_lerp_op(end, weight), (input, end, weight))


@public("lerp_", function=False)
def lerp_(input: Any, end: Any, weight: Any) -> Any:
    """In-place lerp."""
    return apply_inplace(_lerp_op(end, weight), (input, end, weight))


# --- xlogy --------------------------------------------------------------------------------
def _xlogy(self, other):
    """torch.xlogy: self * log(other), 0 where self is 0 (unless other is NaN)."""
    dt = self.dtype if isinstance(self, np.ndarray) else other.dtype
    self, other = np.asarray(self, dt), np.asarray(other, dt)  # a Python scalar takes the tensor's dtype
    with np.errstate(all="ignore"):
        out = self * np.log(other)
        zero = (self == 0) & ~np.isnan(other)
        return np.where(zero, out.dtype.type(0), out)


def _xlogy_grad_self(grad, self, other):
    # xlogy(grad, other) = grad * log(other), set to 0 where self == 0 and other <= 0
    return _where((self == 0).logical_and(other <= 0), 0.0, xlogy(grad, other))


def _xlogy_grad_self_scalar(grad, self, other):
    scaled = xlogy(grad, other)
    return scaled if other > 0 else _where(self == 0, 0.0, scaled)  # a NaN scalar is masked too, as in torch


XLOGY = defop("xlogy", _xlogy, node="XlogyBackward0", promote="common_float", function=False, method=False,
              grads={"self": _xlogy_grad_self, "other": lambda grad, self, other: grad * self / other},
              samples=_binary_samples(arr, pos),
              jvps={"self": "pointwise", "other": "pointwise"})
XLOGY_SCALAR_SELF = defop("xlogy.Scalar_Self", _xlogy, node="XlogyBackward1", promote="common_float",
                          function=False, method=False, tensors=("self", "other"), inputs=("other",),
                          grads={"other": lambda grad, self, other: grad * self / other},
                          samples=lambda: iter([Sample(2.0, pos(3, 4)), Sample(0.0, pos(5)), Sample(-1.5, pos())]),
                          jvps={"other": "pointwise"})
XLOGY_SCALAR_OTHER = defop("xlogy.Scalar_Other", _xlogy, node="XlogyBackward2", promote="common_float",
                           function=False, method=False, tensors=("self", "other"), inputs=("self",),
                           grads={"self": _xlogy_grad_self_scalar},
                           samples=lambda: iter([Sample(arr(3, 4), 2.5), Sample(arr(), 0.5), Sample(arr(0, 3), 3.0)]),
                           jvps={"self": "pointwise"})


def _xlogy_op(input: Any, other: Any) -> R.OpDef:
    if isinstance(input, R.Tensor):
        return XLOGY if isinstance(other, R.Tensor) else XLOGY_SCALAR_OTHER
    if isinstance(other, R.Tensor):
        return XLOGY_SCALAR_SELF
    raise TypeError(f"xlogy() received an invalid combination of arguments - got ({type(input).__name__}, "
                    f"{type(other).__name__}), but expected one of:\n"
                    " * (Tensor input, Tensor other, *, Tensor out = None)\n"
                    " * (Number self, Tensor other, *, Tensor out = None)\n"
                    " * (Tensor input, Number other, *, Tensor out = None)\n")


@public("xlogy")
def xlogy(input: Any, other: Any) -> Any:
    """input * log(other), defined as 0 where input is 0 (unless other is NaN)."""
    return dispatch(_xlogy_op(input, other), (input, other))


@public("xlogy_")
def xlogy_(input: Any, other: Any) -> Any:
    """In-place xlogy."""
    return apply_inplace(_xlogy_op(input, other), (input, other))
