"""The error function family on arrays: erf, erfc, erfinv.

SciPy is optional: `scipy.special` is used when it imports; otherwise a pure-NumPy version
accurate to about 2e-15 relative error in float64 is used. Either way the result has the
input's floating dtype.

Note [erf without SciPy]
For |x| < 1, erf is the everywhere-convergent series of positive terms
    erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_k 2^k x^(2k+1) / (1*3*...*(2k+1)),
which has no cancellation (32 terms reach double precision at |x| = 1). For x >= 0.5, erfc
is Laplace's continued fraction
    erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))),
evaluated bottom-up with a depth that grows as x shrinks (about 200/x^2 levels). Below 0.5,
erfc = 1 - erf loses nothing (erfc > 0.47 there); above 1, erf = 1 - erfc. exp(-x^2) is
formed from an exactly representable split of x, so its rounding does not grow with x^2.
erfinv starts from Winitzki's closed form (relative error < 2e-3) and takes two Halley steps
on erf (erfc near +-1, where 1 - |z| is exact), each cubing the error.
"""
from __future__ import annotations

from typing import Any

import numpy as np

try:  # optional: faster and correctly rounded
    import scipy.special as _scipy
except ImportError:  # pragma: no cover - depends on the environment
    _scipy = None

_TWO_OVER_SQRT_PI = 2.0 / np.sqrt(np.pi)
_SQRT_PI = np.sqrt(np.pi)
_SERIES_TERMS = 32
# (from, to, continued-fraction depth) bands of x for erfc, see Note [erf without SciPy]
_CF_BANDS = ((0.5, 1.0, 800), (1.0, 2.0, 200), (2.0, np.inf, 60))


def _exp_neg_square(x: np.ndarray) -> np.ndarray:
    """exp(-x^2) for x >= 0 with an error that does not grow with x^2."""
    hi = np.floor(x * 16.0) / 16.0  # hi*hi is exact for |x| < 2**20
    return np.exp(-hi * hi) * np.exp(-(x - hi) * (x + hi))


def _erf_series(x: np.ndarray) -> np.ndarray:
    two_x2 = 2.0 * x * x
    term = x.copy()
    total = x.copy()
    for k in range(1, _SERIES_TERMS + 1):
        term *= two_x2 / (2 * k + 1)
        total += term
    return _TWO_OVER_SQRT_PI * _exp_neg_square(x) * total


def _erfc_fraction(x: np.ndarray, depth: int) -> np.ndarray:
    t = x.copy()
    for k in range(depth, 0, -1):
        t = x + (0.5 * k) / t
    return _exp_neg_square(x) / (_SQRT_PI * t)


def _erfc_nonneg(a: np.ndarray) -> np.ndarray:
    """erfc of a >= 0 (NaN stays NaN, +inf gives 0)."""
    out = np.full_like(a, np.nan)
    out[a == np.inf] = 0.0
    small = a < 0.5
    out[small] = 1.0 - _erf_series(a[small])
    for lo, hi, depth in _CF_BANDS:
        band = (a >= lo) & (a < hi)
        if band.any():
            out[band] = _erfc_fraction(a[band], depth)
    return out


def _as_float64(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def erf_numpy(x: np.ndarray) -> np.ndarray:
    """erf in float64 without SciPy (see Note [erf without SciPy])."""
    x = _as_float64(x)
    a = np.abs(x)
    out = np.empty_like(a)
    small = a < 1.0
    with np.errstate(all="ignore"):
        out[small] = _erf_series(a[small])
        out[~small] = 1.0 - _erfc_nonneg(a[~small])
    return np.copysign(out, x)


def erfc_numpy(x: np.ndarray) -> np.ndarray:
    """erfc in float64 without SciPy."""
    x = _as_float64(x)
    with np.errstate(all="ignore"):
        c = _erfc_nonneg(np.abs(x))
    return np.where(x < 0, 2.0 - c, c)


def erfinv_numpy(z: np.ndarray) -> np.ndarray:
    """erfinv in float64 without SciPy: a closed-form start refined by two Halley steps."""
    z = _as_float64(z)
    a = np.abs(z)
    with np.errstate(all="ignore"):
        log_1m_a2 = np.log1p(-a * a)
        k = 0.147  # Winitzki's constant
        c = 2.0 / (np.pi * k) + 0.5 * log_1m_a2
        y = np.sqrt(np.sqrt(c * c - log_1m_a2 / k) - c)
        inside = a < 1.0
        y = np.where(inside, y, 0.0)
        tail = a > 0.5
        one_minus_a = 1.0 - a  # exact when a > 0.5
        for _ in range(2):
            # residual f(y) with f'(y) = 2/sqrt(pi) exp(-y^2) in both forms; f''/f' = -2y
            f = np.where(tail, one_minus_a - erfc_numpy(y), erf_numpy(y) - a)
            step = f / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
            y = y - step / (1.0 + y * step)
        y = np.where(inside, y, np.where(a == 1.0, np.inf, np.nan))
    return np.copysign(y, z)


def _apply(scipy_name: str, fallback: Any, x: np.ndarray) -> np.ndarray:
    if _scipy is not None:
        out = getattr(_scipy, scipy_name)(x)
    else:
        out = fallback(x)
    return np.asarray(out).astype(x.dtype, copy=False)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's floating dtype."""
    return _apply("erf", erf_numpy, x)


def erfc(x: np.ndarray) -> np.ndarray:
    """The complementary error function 1 - erf(x), accurate where erf(x) is near 1."""
    return _apply("erfc", erfc_numpy, x)


def erfinv(x: np.ndarray) -> np.ndarray:
    """The inverse error function on [-1, 1] (±inf at ±1, NaN outside)."""
    return _apply("erfinv", erfinv_numpy, x)
