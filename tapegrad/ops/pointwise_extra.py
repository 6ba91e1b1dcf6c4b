"""More one-input pointwise ops: exp2/log2..., trigonometric and hyperbolic, the erf family,
logit, rounding (floor, ceil, round, trunc, frac), sgn, nan_to_num, square, positive.

Integer inputs to the float ops give the default float dtype; rounding ops keep integer dtypes
and have zero gradient, as in torch. The two-input ops are in pointwise_binary.py and clamp in
clamp.py (imported at the end of this module, which the op table loads).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import _registry as R
from . import _special_functions as special
from ._inplace import apply_inplace
from ._registry import FUNCTIONS, METHODS, defop, dispatch, public
from ._samples import UNARY_SHAPES, Sample, arr, away, pos, unary

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)

# C++ names torch prints for scalar types in some kernel messages ("expected dtype float").
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
                 "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
                 "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _legacy(dt: np.dtype) -> str:
    return R.D.from_numpy(dt)._legacy


def _not_implemented(kernel: str, dt: np.dtype) -> NotImplementedError:
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_legacy(dt)}'")


def _where(condition: Any, a: Any, b: Any) -> Any:
    return FUNCTIONS["where"](condition, a, b)


def _zeros(grad: Any) -> Any:
    """A gradient of zeros (no graph), as torch's zeros_like(grad)."""
    return R._make(np.zeros(grad._data.shape, grad._data.dtype), False, None, 0)


def _alias_inplace_functions(names: Sequence[str]) -> None:
    """torch.sin_(t) and friends: the in-place methods, also reachable as functions."""
    for name in names:
        if name not in FUNCTIONS:
            FUNCTIONS[name] = METHODS[name]


# --- one-input float ops -----------------------------------------------------------------
def _between(low: float, high: float) -> Callable:
    def make(*shape: int) -> np.ndarray:
        return arr(*shape, low=low, high=high)
    return make


def _float_unary(name: str, forward: Callable, node: str, grad: Callable, *, make: Callable = arr,
                 aliases: tuple = ()) -> R.OpDef:
    """A one-input op computing in floating point (integer inputs give the default float dtype)."""
    def array_forward(self):
        return forward(self)  # NumPy's RuntimeWarnings are silenced: Note [NumPy warnings]
    array_forward.__doc__ = f"torch.{name} elementwise."
    names = (name,) + aliases
    return defop(name, array_forward, node=node, promote="float", grads={"self": grad},
                 function=names, method=names, inplace=tuple(n + "_" for n in names), samples=unary(make),
                 jvps={"self": "pointwise"})


EXP2 = _float_unary("exp2", np.exp2, "Exp2Backward0", lambda grad, result: grad * (result * _LN2))
LOG2 = _float_unary("log2", np.log2, "Log2Backward0", lambda grad, self: grad / (self * _LN2), make=pos)
LOG10 = _float_unary("log10", np.log10, "Log10Backward0", lambda grad, self: grad / (self * _LN10), make=pos)
LOG1P = _float_unary("log1p", np.log1p, "Log1PBackward0", lambda grad, self: grad / (self + 1),
                     make=_between(-0.8, 2.0))
EXPM1 = _float_unary("expm1", np.expm1, "Expm1Backward0", lambda grad, result: grad * (result + 1))
RSQRT = _float_unary("rsqrt", lambda x: 1 / np.sqrt(x), "RsqrtBackward0",
                     lambda grad, result: grad * (result * result * result * -0.5), make=pos)
SIN = _float_unary("sin", np.sin, "SinBackward0", lambda grad, self: grad * self.cos())
COS = _float_unary("cos", np.cos, "CosBackward0", lambda grad, self: grad * -self.sin())
TAN = _float_unary("tan", np.tan, "TanBackward0", lambda grad, result: grad * (1 + result * result),
                   make=_between(-1.2, 1.2))
ASIN = _float_unary("asin", np.arcsin, "AsinBackward0", lambda grad, self: grad * (1 - self * self).rsqrt(),
                    make=_between(-0.9, 0.9), aliases=("arcsin",))
ACOS = _float_unary("acos", np.arccos, "AcosBackward0", lambda grad, self: grad * -(1 - self * self).rsqrt(),
                    make=_between(-0.9, 0.9), aliases=("arccos",))
ATAN = _float_unary("atan", np.arctan, "AtanBackward0", lambda grad, self: grad / (self * self + 1),
                    aliases=("arctan",))
SINH = _float_unary("sinh", np.sinh, "SinhBackward0", lambda grad, self: grad * self.cosh())
COSH = _float_unary("cosh", np.cosh, "CoshBackward0", lambda grad, self: grad * self.sinh())
ASINH = _float_unary("asinh", np.arcsinh, "AsinhBackward0", lambda grad, self: grad * (self * self + 1).rsqrt(),
                     aliases=("arcsinh",))
ACOSH = _float_unary("acosh", np.arccosh, "AcoshBackward0", lambda grad, self: grad * (self * self - 1).rsqrt(),
                     make=_between(1.2, 3.0), aliases=("arccosh",))
ATANH = _float_unary("atanh", np.arctanh, "AtanhBackward0", lambda grad, self: grad / (1 - self * self),
                     make=_between(-0.9, 0.9), aliases=("arctanh",))
ERF = _float_unary("erf", special.erf, "ErfBackward0",
                   lambda grad, self: grad * ((-self * self).exp() * (2 / math.sqrt(math.pi))))
ERFC = _float_unary("erfc", special.erfc, "ErfcBackward0",
                    lambda grad, self: grad * ((-self * self).exp() * (-2 / math.sqrt(math.pi))))
ERFINV = _float_unary("erfinv", special.erfinv, "ErfinvBackward0",
                      lambda grad, result: grad * ((result * result).exp() * (math.sqrt(math.pi) / 2)),
                      make=_between(-0.9, 0.9))


def _logit(self, eps=None):
    """torch.logit: log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    if eps is not None:
        low, high = self.dtype.type(eps), self.dtype.type(1 - eps)
        self = np.where(self < low, low, np.where(self > high, high, self))
    with np.errstate(all="ignore"):
        return np.log(self / (1 - self))


def _logit_grad(grad, self, eps):
    slope = grad / (self * (1 - self) + 0.0)  # + 0.0 turns -0 into +0: torch's inf at -0 has grad's sign
    if eps is None:
        return _where((self < 0).logical_or(self > 1), math.nan, slope)
    return _where((self < eps).logical_or(self > 1 - eps), 0.0, slope)


def _logit_samples() -> Iterator[Sample]:
    for shape in UNARY_SHAPES:
        yield Sample(arr(*shape, low=0.1, high=0.9))
    yield Sample(np.array([0.03, 0.3, 0.5, 0.75, 0.97]), eps=0.2)
    yield Sample(arr(2, 3, low=0.1, high=0.9), 0.0)


LOGIT = defop("logit", _logit, node="LogitBackward0", promote="float", inplace="logit_",
              grads={"self": _logit_grad}, samples=_logit_samples,
              jvps={"self": "pointwise"})


# --- rounding (integer inputs keep their dtype) -------------------------------------------
def _rounding(name: str, node: str, fn: Callable, kernel: str, names: tuple) -> R.OpDef:
    def forward(self):
        if self.dtype == np.bool_:
            raise _not_implemented(kernel, self.dtype)
        if self.dtype.kind in "iu":
            return self.copy()
        return fn(self)
    forward.__doc__ = f"torch.{names[0] if names else 'round'} elementwise; integer tensors come back unchanged."
    return defop(name, forward, node=node, grads={"self": lambda grad: _zeros(grad)}, function=names, method=names,
                 jvps={"self": "pointwise"},
                 inplace=tuple(n + "_" for n in names), samples=unary(away))


FLOOR = _rounding("floor", "FloorBackward0", np.floor, "floor_vml_cpu", ("floor",))
CEIL = _rounding("ceil", "CeilBackward0", np.ceil, "ceil_vml_cpu", ("ceil",))
TRUNC = _rounding("trunc", "TruncBackward0", np.trunc, "trunc_vml_cpu", ("trunc", "fix"))
ROUND = _rounding("round", "RoundBackward0", np.rint, "round_vml_cpu", ())  # public names: see round() below


def _round_decimals(self, decimals=0):
    """torch.round(input, decimals=d): round half to even at 10**-d."""
    if self.dtype.kind in "biu":
        raise _not_implemented("round_vml_cpu" if decimals == 0 else "round_cpu", self.dtype)
    if decimals == 0:
        return np.rint(self)
    scale = self.dtype.type(10.0 ** abs(decimals))
    with np.errstate(all="ignore"):
        if decimals > 0:
            return np.rint(self * scale) / scale
        return np.rint(self / scale) * scale


ROUND_DECIMALS = defop("round.decimals", _round_decimals, node="RoundBackward1", function=False, method=False,
                       inputs=("self",), grads={"self": lambda grad: _zeros(grad)},
                       samples=lambda: iter([Sample(arr(3, 4, low=-50, high=50), decimals=1),
                                             Sample(arr(5, low=-500, high=500), decimals=-2),
                                             Sample(arr(), decimals=0)]),
                       jvps={"self": "pointwise"})

_NO_DECIMALS = object()


@public("round")
def round(input: Any, *, decimals: Any = _NO_DECIMALS) -> Any:
    """Round half to even; with `decimals`, to that many decimal places."""
    if decimals is _NO_DECIMALS:
        return dispatch(ROUND, (input,))
    return dispatch(ROUND_DECIMALS, (input, decimals))


@public("round_", function=True)
def round_(input: Any, *, decimals: Any = _NO_DECIMALS) -> Any:
    """In-place round."""
    if decimals is _NO_DECIMALS:
        return apply_inplace(ROUND, (input,))
    return apply_inplace(ROUND_DECIMALS, (input, decimals))


def _frac(self):
    """torch.frac: self - trunc(self), keeping the sign."""
    if self.dtype.kind in "biu":
        raise _not_implemented("frac_cpu", self.dtype)
    with np.errstate(all="ignore"):
        return self - np.trunc(self)


FRAC = defop("frac", _frac, node="FracBackward0", inplace="frac_", grads={"self": lambda grad: grad},
             samples=unary(away),
             jvps={"self": "pointwise"})


# --- sign, identity-like and cleaning ops -------------------------------------------------
def _sgn(self):
    """torch.sgn: self / |self| (0 at 0); the sign for real tensors, bool unchanged."""
    if self.dtype == np.bool_:
        return self.copy()
    if self.dtype.kind == "c":
        mag = np.abs(self)
        with np.errstate(all="ignore"):
            return np.where(mag == 0, 0, self / np.where(mag == 0, 1, mag)).astype(self.dtype)
    return np.where(np.isnan(self), self.dtype.type(0), np.sign(self))  # torch: sgn(nan) is 0


def _sgn_grad(grad, self_dtype):
    if self_dtype.is_complex:
        raise NotImplementedError("tapegrad: the gradient of sgn for complex tensors is not implemented")
    return _zeros(grad)


SGN = defop("sgn", _sgn, node="SgnBackward0", inplace="sgn_", grads={"self": _sgn_grad}, samples=unary(away),
            jvps={"self": "pointwise"})


def _nan_to_num(self, nan=0.0, posinf=None, neginf=None):
    """torch.nan_to_num: NaN, +inf, -inf replaced (by 0 and the dtype's largest/lowest value)."""
    if self.dtype.kind not in "fc":
        return self.copy()
    info = np.finfo(self.dtype)
    with np.errstate(all="ignore"):
        return np.nan_to_num(self, nan=nan, posinf=info.max if posinf is None else posinf,
                             neginf=info.min if neginf is None else neginf)


def _nan_to_num_samples() -> Iterator[Sample]:
    for shape in UNARY_SHAPES:
        yield Sample(arr(*shape))
    # default posinf/neginf are the dtype's extremes (the float32 run differs): see the dedicated tests
    special_values = np.array([np.nan, np.inf, -np.inf, 1.5, -0.25])
    yield Sample(np.array([np.nan, 1.5, -0.25]))
    yield Sample(special_values, 1.0, 2.0, -3.0)
    yield Sample(special_values, posinf=7.0, neginf=-7.0)


NAN_TO_NUM = defop("nan_to_num", _nan_to_num, node="NanToNumBackward0", inplace="nan_to_num_",
                   grads={"self": lambda grad, self: grad * self.isfinite()}, samples=_nan_to_num_samples,
                   jvps={"self": "pointwise"})


@public("square")
def square(input: Any) -> Any:
    """input ** 2 (torch records it as pow; bool tensors give int64)."""
    if input.dtype is R.D.bool_:
        input = input.to(R.D.int64)
    return FUNCTIONS["pow"](input, 2)


@public("square_")
def square_(input: Any) -> Any:
    """In-place square."""
    return METHODS["pow_"](input, 2)


@public("positive")
def positive(input: Any) -> Any:
    """torch.positive: the input itself (bool tensors are refused, as for unary +)."""
    if input.dtype is R.D.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


_alias_inplace_functions([
    "exp2_", "log2_", "log10_", "log1p_", "expm1_", "rsqrt_", "sin_", "cos_", "tan_", "asin_", "acos_", "atan_",
    "arcsin_", "arccos_", "arctan_", "arcsinh_", "arccosh_", "arctanh_", "sinh_", "cosh_", "asinh_", "acosh_",
    "atanh_", "logit_", "erf_", "erfc_", "floor_", "ceil_", "trunc_", "fix_", "frac_", "nan_to_num_"])


from . import pointwise_binary, clamp  # noqa: E402,F401  (the two-input ops; see the docstring)
