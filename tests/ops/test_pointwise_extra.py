"""What is specific to the extra pointwise ops (tapegrad/ops/pointwise_extra.py) against torch:
dtype rules, gradients at kinks and NaNs, overload grad_fn names, in-place forms, error texts,
and the NumPy fallback of the erf family.

The generic sweep over every op's samples lives in test_op_table.py.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck
from tapegrad.ops import _special_functions as special

torch = pytest.importorskip("torch")

nan, inf = math.nan, math.inf


def _pair(values: Any, dtype: str = "float64", requires_grad: bool = False) -> tuple:
    """The same tensor in tapegrad and in torch."""
    a = tg.tensor(values, dtype=getattr(tg, dtype), requires_grad=requires_grad)
    b = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return a, b


def _same(actual: Any, expected: Any, rtol: float = 1e-7, atol: float = 1e-12) -> None:
    assert str(actual.dtype) == str(expected.dtype)
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(actual.detach().numpy().astype(np.float64),
                               expected.detach().numpy().astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)


def _grads(lib: Any, fn: Callable, inputs: list, dtype: str = "float64") -> tuple:
    """(result, gradients of sum(result * weights)) for fn over fresh leaves of `lib`."""
    leaves = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=True) for v in inputs]
    out = fn(lib, *leaves)
    weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=out.dtype)
    (out * weights).sum().backward()
    grads = [leaf.grad for leaf in leaves]
    if lib is torch:  # torch hands out a "ZeroTensor" for always-zero gradients (sgn)
        grads = [torch.zeros_like(g) if g._is_zerotensor() else g for g in grads]
    return out, grads


def _check_grads(fn: Callable, *inputs: Any, dtype: str = "float64") -> None:
    out, grads = _grads(tg, fn, list(inputs), dtype)
    tout, tgrads = _grads(torch, fn, list(inputs), dtype)
    rtol = 1e-6 if dtype == "float32" else 1e-7
    _same(out, tout, rtol)
    assert type(out.grad_fn).__name__ == type(tout.grad_fn).__name__
    for g, tgr in zip(grads, tgrads):
        _same(g, tgr, rtol)


# --- dtype rules ------------------------------------------------------------------------
FLOAT_UNARY = ["exp2", "log2", "log10", "log1p", "expm1", "rsqrt", "sin", "cos", "tan", "asin", "acos", "atan",
               "sinh", "cosh", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
               "arctanh", "erf", "erfc", "erfinv", "logit"]
KEEP_DTYPE_UNARY = ["floor", "ceil", "round", "trunc", "fix", "sgn", "nan_to_num", "square"]
DTYPES = ["int64", "int32", "uint8", "bool", "float32", "float64"]


def _unary_values(name: str) -> list:
    if name in ("acosh", "arccosh"):
        return [1, 2, 3]
    return [0, 1, 1] if name in ("asin", "acos", "atanh", "arcsin", "arccos", "arctanh", "erfinv", "logit") \
        else [0, 1, 2]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", FLOAT_UNARY + KEEP_DTYPE_UNARY)
def test_unary_result_dtype_and_values_match_torch(name: str, dtype: str) -> None:
    values = _unary_values(name)
    if dtype == "bool":
        values = [bool(v) for v in values]
    a, b = _pair(values, dtype)
    try:
        expected = getattr(torch, name)(b)
    except (RuntimeError, NotImplementedError) as exc:
        with pytest.raises(type(exc)) as info:
            getattr(tg, name)(a)
        assert str(info.value) == str(exc)
        return
    _same(getattr(tg, name)(a), expected, rtol=1e-6)


BINARY = ["atan2", "arctan2", "hypot", "maximum", "minimum", "fmax", "fmin", "xlogy"]


@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "int64"), ("bool", "bool"), ("int64", "float32"),
                                    ("float32", "float64"), ("float64", "float64"), ("uint8", "int32")])
@pytest.mark.parametrize("name", BINARY)
def test_binary_result_dtype_matches_torch(name: str, dtypes: tuple) -> None:
    a1, b1 = _pair([1, 2, 0], dtypes[0])
    a2, b2 = _pair([2, 1, 1], dtypes[1])
    try:
        expected = getattr(torch, name)(b1, b2)
    except (RuntimeError, NotImplementedError) as exc:
        with pytest.raises(type(exc)) as info:
            getattr(tg, name)(a1, a2)
        assert str(info.value) == str(exc)
        return
    _same(getattr(tg, name)(a1, a2), expected, rtol=1e-6)


def test_zero_dim_tensor_does_not_widen_dimensioned_one() -> None:
    for name in BINARY:
        a, b = _pair([1.0, 2.0], "float32")
        s, t = _pair(3.0, "float64")
        _same(getattr(tg, name)(a, s), getattr(torch, name)(b, t), rtol=1e-6)


@pytest.mark.parametrize("args", [(0.5,), (0, 2), (None, 2), (1.5, None), (True, None)])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool", "float32"])
def test_clamp_scalar_bounds_promote_like_torch(dtype: str, args: tuple) -> None:
    a, b = _pair([0, 1, 1] if dtype == "bool" else [0, 1, 3], dtype)
    try:
        expected = torch.clamp(b, *args)
    except NotImplementedError as exc:  # bool tensors with Number bounds
        with pytest.raises(NotImplementedError, match=str(exc)):
            tg.clamp(a, *args)
        return
    _same(tg.clamp(a, *args), expected)


def test_clamp_of_bool_tensors_like_torch() -> None:
    (a, b), (m, n) = _pair([True, False], "bool"), _pair([True, True], "bool")
    for bounds in [(True, None), (None, True), (True, True), ("t", None), (None, "t"), ("t", "t")]:
        _same_error_or_value(lambda lib, t, u: lib.clamp(t, *[u if x == "t" else x for x in bounds]), (a, m), (b, n))
    for name in ("clamp_min", "clamp_max"):
        _same_error_or_value(lambda lib, t, u: getattr(lib, name)(t, True), (a, m), (b, n))
        _same_error_or_value(lambda lib, t, u: getattr(lib, name)(t, u), (a, m), (b, n))


def _same_error_or_value(call: Callable, tg_args: tuple, torch_args: tuple) -> None:
    try:
        expected = call(torch, *torch_args)
    except (RuntimeError, NotImplementedError, TypeError) as exc:
        with pytest.raises(type(exc)) as info:
            call(tg, *tg_args)
        assert str(info.value) == str(exc)
        return
    _same(call(tg, *tg_args), expected)


# --- forward values at special points ---------------------------------------------------
SPECIAL = [-inf, -2.5, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.5, inf, nan]


@pytest.mark.parametrize("name", FLOAT_UNARY + ["floor", "ceil", "round", "trunc", "frac", "sgn", "nan_to_num"])
def test_forward_at_special_values_matches_torch(name: str) -> None:
    a, b = _pair(SPECIAL)
    _same(getattr(tg, name)(a), getattr(torch, name)(b), rtol=1e-14)


def test_round_half_to_even_and_decimals() -> None:
    values = [0.5, 1.5, 2.5, -0.5, -2.5, 1.2345, 125.0, 0.125, 0.375, 1e30, 1234.5678]
    for dtype in ("float32", "float64"):
        a, b = _pair(values, dtype)
        _same(tg.round(a), torch.round(b), rtol=0)
        for d in (0, 1, 2, 3, -1, -2):
            _same(tg.round(a, decimals=d), torch.round(b, decimals=d), rtol=0)
            _same(a.round(decimals=d), b.round(decimals=d), rtol=0)


def test_round_grad_fn_depends_on_decimals_keyword() -> None:
    x = tg.tensor([1.26], requires_grad=True)
    assert type(tg.round(x).grad_fn).__name__ == "RoundBackward0"
    assert type(tg.round(x, decimals=0).grad_fn).__name__ == "RoundBackward1"
    assert type(x.round(decimals=1).grad_fn).__name__ == "RoundBackward1"
    with pytest.raises(TypeError):
        tg.round(x, 1)  # decimals is keyword-only, as in torch


def test_nan_to_num_defaults_are_the_dtype_extremes() -> None:
    values = [nan, inf, -inf, 1.5]
    for dtype in ("float16", "float32", "float64"):
        a, b = _pair(values, dtype)
        _same(tg.nan_to_num(a), torch.nan_to_num(b), rtol=0)
        _same(tg.nan_to_num(a, nan=1.0, posinf=2.0), torch.nan_to_num(b, nan=1.0, posinf=2.0), rtol=0)
    a, b = _pair([1, 2], "int64")
    _same(tg.nan_to_num(a, nan=1.5), torch.nan_to_num(b, nan=1.5))


def test_lerp_is_exact_at_the_ends_like_torch() -> None:
    a, b = _pair([1e8, -3.0, 0.1], "float32")
    e, f = _pair([1e8 + 8, 5.0, 0.7], "float32")
    for w in (0.0, 0.1, 0.5, 0.7, 1.0, 2.0, -1.0):
        _same(tg.lerp(a, e, w), torch.lerp(b, f, w), rtol=0)
        wa, wb = _pair([w, 1.0, 0.0], "float32")
        _same(tg.lerp(a, e, wa), torch.lerp(b, f, wb), rtol=0)


def test_xlogy_zero_times_log_zero_and_nan() -> None:
    x = [0.0, 0.0, 0.0, 1.0, nan, -1.0, 2.0]
    y = [0.0, nan, -1.0, 0.0, 1.0, 0.5, inf]
    (a, b), (c, d) = _pair(x), _pair(y)
    _same(tg.xlogy(a, c), torch.xlogy(b, d))
    for s in (0.0, 2.0, nan):
        _same(tg.xlogy(a, s), torch.xlogy(b, s))
        _same(tg.xlogy(s, c), torch.xlogy(s, d))
    fa, fb = _pair([1.0, 2.0], "float32")
    _same(tg.xlogy(fa, 2.0), torch.xlogy(fb, 2.0))  # a Python scalar takes the tensor's dtype
    ia, ib = _pair([1, 2], "int64")
    _same(tg.xlogy(2, ia), torch.xlogy(2, ib))


def test_nan_propagation_of_extrema_and_clamp() -> None:
    (a, b), (c, d) = _pair([nan, 1.0, nan, 2.0]), _pair([1.0, nan, nan, 1.0])
    for name in ("maximum", "minimum", "fmax", "fmin"):
        _same(getattr(tg, name)(a, c), getattr(torch, name)(b, d))
    _same(tg.clamp(a, c, None), torch.clamp(b, d, None))
    _same(tg.clamp(a, nan), torch.clamp(b, nan))
    _same(tg.clamp(a, 2.0, 1.0), torch.clamp(b, 2.0, 1.0))  # min > max gives max


# --- gradients at kinks, NaNs and domain edges -------------------------------------------
def test_maximum_minimum_split_the_gradient_at_ties() -> None:
    x, y = [0.0, 1.0, 2.0, 3.0, nan], [1.0, 1.0, nan, 3.0, nan]
    for name in ("maximum", "minimum", "fmax", "fmin"):
        _check_grads(lambda lib, a, b: getattr(lib, name)(a, b), x, y)


def test_clamp_gradient_at_bounds_nan_and_crossed_bounds() -> None:
    x = [0.0, 1.0, 1.5, 2.0, 3.0, nan]
    lo, hi = [1.0, 1.0, nan, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 0.5, 2.0]
    _check_grads(lambda lib, a: lib.clamp(a, 1.0, 2.0), x)
    _check_grads(lambda lib, a: lib.clamp(a, 2.0, 1.0), x)
    _check_grads(lambda lib, a: lib.clamp(a, max=2.0), x)
    _check_grads(lambda lib, a, b, c: lib.clamp(a, b, c), x, lo, hi)
    _check_grads(lambda lib, a, b, c: lib.clamp(a, c, b), x, lo, hi)
    _check_grads(lambda lib, a, b: lib.clamp(a, b), x, lo)
    _check_grads(lambda lib, a, c: lib.clamp(a, max=c), x, hi)
    _check_grads(lambda lib, a, b: lib.clamp_min(a, b), x, lo)
    _check_grads(lambda lib, a, c: lib.clamp_max(a, c), x, hi)
    _check_grads(lambda lib, a: lib.clamp_min(a, 1.0), x)
    _check_grads(lambda lib, a: a.clamp_max(1.0), x)
    _check_grads(lambda lib, a: lib.clip(a, 0.5, 2.0), x)
    _check_grads(lambda lib, a, b: lib.clamp_min(a, min=b), x, lo)
    _check_grads(lambda lib, a: lib.clamp_max(input=a, max=2.0), x)
    _check_grads(lambda lib, a, b, c: lib.clamp(input=a, min=b, max=c), x, lo, hi)
    _check_grads(lambda lib, a, b: lib.maximum(input=a, other=b), x, lo)


def test_clamp_with_one_tensor_bound_reports_a_none_edge_like_torch() -> None:
    x = tg.tensor([0.0, 3.0], requires_grad=True)
    hi = tg.tensor([1.0, 1.0], requires_grad=True)
    edges = tg.clamp(x, None, hi).grad_fn.next_functions
    assert [e[0] is None for e in edges] == [False, True, False]
    assert len(tg.clamp(x, 0.0, 1.0).grad_fn.next_functions) == 1
    assert len(tg.xlogy(2.0, x).grad_fn.next_functions) == 1


def test_logit_gradient_with_and_without_eps() -> None:
    x = [-0.5, 0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0, 1.5]
    for eps in (None, 0.1, 0.0, 0.7):
        _check_grads(lambda lib, a: lib.logit(a, eps), x)


def test_xlogy_gradients_at_zero_and_nan() -> None:
    x = [0.0, 0.0, 1.0, 2.0, nan, 0.0, -1.0]
    y = [0.0, nan, 0.0, 3.0, 1.0, 2.0, 0.5]
    _check_grads(lambda lib, a, b: lib.xlogy(a, b), x, y)
    for s in (0.0, 2.0, nan, -1.0):
        _check_grads(lambda lib, a: lib.xlogy(a, s), x)
        _check_grads(lambda lib, b: lib.xlogy(s, b), y)


def test_atan2_and_hypot_gradients_at_the_origin() -> None:
    x, y = [0.0, 0.0, 1.0, -1.0, nan], [0.0, 2.0, 0.0, 0.5, 1.0]
    for name in ("atan2", "hypot"):
        _check_grads(lambda lib, a, b: getattr(lib, name)(a, b), x, y)


@pytest.mark.parametrize("name", FLOAT_UNARY + ["floor", "ceil", "round", "trunc", "frac", "sgn", "nan_to_num",
                                                "square"])
def test_unary_gradients_at_special_values(name: str) -> None:
    _check_grads(lambda lib, a: getattr(lib, name)(a), SPECIAL)


def test_lerp_gradients_for_number_and_tensor_weight() -> None:
    _check_grads(lambda lib, a, b: lib.lerp(a, b, 0.3), [1.0, 2.0], [[3.0], [5.0]])
    _check_grads(lambda lib, a, b, w: lib.lerp(a, b, w), [1.0, 2.0], [[3.0], [5.0]], [0.2, 0.9])
    _check_grads(lambda lib, a, b, w: a.lerp(b, w), [1.0, 2.0], [3.0, 5.0], 0.6)


def test_lerp_weight_keeps_its_dtype_in_the_gradient() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor(0.3, dtype=tg.float64, requires_grad=True)
    out = tg.lerp(x, x * 2, w)
    assert out.dtype == tg.float32 and type(out.grad_fn).__name__ == "LerpBackward1"
    out.sum().backward()
    assert w.grad.dtype == tg.float64 and abs(w.grad.item() - 3.0) < 1e-6


def test_float32_gradients_keep_float32() -> None:
    for fn in (lambda lib, a: lib.erfinv(a), lambda lib, a: lib.clamp(a, 0.1, 0.2),
               lambda lib, a: lib.xlogy(a, 2.0), lambda lib, a: lib.exp2(a)):
        _check_grads(fn, [0.1, 0.3, -0.5], dtype="float32")


def test_finite_difference_gradcheck_float64() -> None:
    def leaf(values: list) -> Any:
        return tg.tensor(values, dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda a: tg.erfinv(a), (leaf([-0.99, -0.3, 0.2, 0.97]),))
    assert gradcheck(lambda a: tg.logit(a, eps=0.05), (leaf([0.02, 0.3, 0.6, 0.99]),))
    assert gradcheck(lambda a, b: tg.atan2(a, b), (leaf([0.3, -1.2]), leaf([-0.7, 0.4])))
    assert gradcheck(lambda a, b: tg.xlogy(a, b), (leaf([0.3, -1.2]), leaf([0.7, 2.4])))
    assert gradcheck(lambda a, b, w: tg.lerp(a, b, w), (leaf([0.3, -1.2]), leaf([0.7, 2.4]), leaf([0.2, 0.8])))
    assert gradcheck(lambda a, b, c: tg.clamp(a, b, c), (leaf([0.3, -1.2, 2.0]), leaf([0.0, 0.0, 0.0]),
                                                         leaf([1.0, 1.0, 1.0])))


# --- names, aliases, in-place forms --------------------------------------------------------
ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
           "arctanh": "atanh", "fix": "trunc", "clip": "clamp", "arctan2": "atan2"}


def test_aliases_record_the_same_node() -> None:
    x = tg.tensor([1.5], requires_grad=True)
    for alias, name in ALIASES.items():
        args = (x, x) if name == "atan2" else (x, 0.0, 1.0) if name == "clamp" else (x,)
        assert type(getattr(tg, alias)(*args).grad_fn) is type(getattr(tg, name)(*args).grad_fn)
        assert type(getattr(x, alias)(*args[1:]).grad_fn) is type(getattr(tg, name)(*args).grad_fn)


def test_positive_returns_its_input_and_square_records_pow() -> None:
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    assert tg.positive(x) is x and x.positive() is x
    assert type(tg.square(x).grad_fn).__name__ == "PowBackward0"
    a, b = _pair([True, False], "bool")
    _same(tg.square(a), torch.square(b))


INPLACE_FUNCTIONS = [n for n in dir(torch) if n.endswith("_") and not n.startswith("_")
                     and n[:-1] in FLOAT_UNARY + KEEP_DTYPE_UNARY + ["frac", "xlogy", "clamp", "clip", "clamp_min",
                                                                     "clamp_max"]]


def _inplace_args(name: str) -> tuple:
    base = name[:-1]
    if base in ("clamp", "clip"):
        return (0.2, 0.6)
    if base in ("clamp_min", "clamp_max", "xlogy"):
        return (0.4,)
    return ()


@pytest.mark.parametrize("name", INPLACE_FUNCTIONS)
def test_inplace_function_and_method_match_torch(name: str) -> None:
    args = _inplace_args(name)
    values = [1.2, 1.5, 2.0] if name.startswith(("acosh", "arccosh")) else [0.1, 0.5, 0.7]
    for call in ("function", "method"):
        a, b = _pair(values)
        if call == "function":
            out, expected = getattr(tg, name)(a, *args), getattr(torch, name)(b, *args)
        else:
            out, expected = getattr(a, name)(*args), getattr(b, name)(*args)
        assert out is a
        assert a._version == b._version
        _same(a, b, rtol=1e-14)


@pytest.mark.parametrize("name,args", [("sin_", ()), ("erfinv_", ()), ("atan2_", "t"), ("hypot_", "t"),
                                       ("lerp_", ("t", 0.3)), ("lerp_", ("t", "t")), ("clamp_", ("t", "t")),
                                       ("clamp_min_", ("t",)), ("round_", ()), ("sgn_", ()), ("frac_", ()),
                                       ("square_", ()), ("nan_to_num_", ()), ("logit_", ()), ("xlogy_", ("t",))])
def test_inplace_on_a_non_leaf_is_differentiable(name: str, args: Any) -> None:
    def run(lib: Any) -> tuple:
        x = lib.tensor([0.2, 0.45, 0.7], dtype=lib.float64, requires_grad=True)
        other = lib.tensor([0.3, 0.5, 0.6], dtype=lib.float64)
        y = x * 1.5
        getattr(y, name)(*[other if a == "t" else a for a in args])
        y.backward(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
        return y, x.grad if lib is tg or not x.grad._is_zerotensor() else torch.zeros_like(x.grad)
    (y, g), (ty, tgr) = run(tg), run(torch)
    _same(y, ty)
    _same(g, tgr)
    assert type(y.grad_fn).__name__ == type(ty.grad_fn).__name__


def test_inplace_dtype_errors_match_torch() -> None:
    cases = [lambda t: t.sin_(), lambda t: t.clamp_(0.5), lambda t: t.clamp_min_(0.5), lambda t: t.clamp_max_(0.5),
             lambda t: t.clamp_(tg.tensor(0.5) if isinstance(t, tg.Tensor) else torch.tensor(0.5)),
             lambda t: t.xlogy_(2), lambda t: t.logit_(), lambda t: t.erfinv_()]
    for case in cases:
        a, b = _pair([1, 2], "int64")
        with pytest.raises(RuntimeError) as expected:
            case(b)
        with pytest.raises(RuntimeError) as actual:
            case(a)
        assert str(actual.value) == str(expected.value)


# --- error texts ---------------------------------------------------------------------------
def _same_error(call: Callable) -> None:
    """call(lib, tensor) raises the same exception type and text in tapegrad and torch."""
    a, b = _pair([1.0, 2.0], "float32")
    with pytest.raises(Exception) as expected:
        call(torch, b)
    with pytest.raises(type(expected.value)) as actual:
        call(tg, a)
    assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize("call", [
    lambda lib, t: lib.clamp(t),
    lambda lib, t: lib.clip(t, None, None),
    lambda lib, t: t.clamp(),
    lambda lib, t: t.clamp_(min=None),
    lambda lib, t: t.clip_(),
    lambda lib, t: lib.clamp(t, 1.0, lib.tensor([2.0])),
    lambda lib, t: lib.clamp(t, lib.tensor([2.0]), 1),
    lambda lib, t: lib.maximum(t, 2.0),
    lambda lib, t: t.maximum(2.0),
    lambda lib, t: lib.fmin(t, other=2),
    lambda lib, t: lib.atan2(t, 2),
    lambda lib, t: lib.hypot(t, 1.0),
    lambda lib, t: lib.lerp(t, 2.0, 0.5),
    lambda lib, t: lib.lerp(t, t.double(), 0.5),
    lambda lib, t: lib.lerp(t, t, t.double()),
    lambda lib, t: lib.lerp(t, t.long(), 0.5),
    lambda lib, t: lib.lerp(t.long(), t.long(), 0.5),
    lambda lib, t: lib.lerp(t.long(), t.long(), t.long()),
    lambda lib, t: lib.hypot(t.long(), t.long()),
    lambda lib, t: lib.frac(t.int()),
    lambda lib, t: lib.floor(t.bool()),
    lambda lib, t: lib.round(t.long(), decimals=1),
    lambda lib, t: lib.round(t.long(), decimals=0),
    lambda lib, t: lib.positive(t.bool()),
    lambda lib, t: lib.xlogy(2.0, 3.0),
    lambda lib, t: lib.maximum(t, lib.ones(3)),
    lambda lib, t: t.lerp_(lib.ones(3, 2), 0.5),
])
def test_error_texts_match_torch(call: Callable) -> None:
    _same_error(call)


# --- erf family: SciPy and the NumPy fallback ----------------------------------------------
def test_fallback_erf_erfc_are_accurate_to_double_precision() -> None:
    x = np.concatenate([np.linspace(-6, 6, 4001), np.logspace(-300, 1.4, 300), -np.logspace(-300, 1.4, 300)])
    ref_erf = torch.erf(torch.from_numpy(x)).numpy()
    ref_erfc = torch.erfc(torch.from_numpy(x)).numpy()
    normal = np.abs(ref_erfc) > np.finfo(np.float64).tiny  # below that torch returns subnormals or 0
    np.testing.assert_allclose(special.erf_numpy(x), ref_erf, rtol=2e-15, atol=0)
    np.testing.assert_allclose(special.erfc_numpy(x)[normal], ref_erfc[normal], rtol=4e-15, atol=0)
    np.testing.assert_array_equal(special.erf_numpy(np.array([inf, -inf, 0.0])), [1.0, -1.0, 0.0])
    np.testing.assert_array_equal(special.erfc_numpy(np.array([inf, -inf, 0.0])), [0.0, 2.0, 1.0])
    assert np.isnan(special.erf_numpy(np.array([nan]))).all() and np.isnan(special.erfc_numpy(np.array([nan]))).all()


def test_fallback_erfinv_is_accurate_including_tails() -> None:
    z = np.concatenate([np.linspace(-0.999999, 0.999999, 4001), 1 - np.logspace(-16, -1, 100),
                        -1 + np.logspace(-16, -1, 100), np.logspace(-300, -1, 100)])
    expected = torch.erfinv(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(special.erfinv_numpy(z), expected, rtol=5e-15, atol=0)
    edge = special.erfinv_numpy(np.array([1.0, -1.0, 1.5, -2.0, 0.0, nan]))
    np.testing.assert_array_equal(edge, [inf, -inf, nan, nan, 0.0, nan])


def test_ops_without_scipy_match_torch(monkeypatch: Any) -> None:
    monkeypatch.setattr(special, "_scipy", None)
    for dtype in ("float32", "float64"):
        a, b = _pair([-3.0, -0.5, 0.0, 0.3, 1.0, 2.5, 7.0], dtype)
        _same(tg.erf(a), torch.erf(b), rtol=1e-6 if dtype == "float32" else 1e-14)
        _same(tg.erfc(a), torch.erfc(b), rtol=1e-6 if dtype == "float32" else 1e-14)
        c, d = _pair([-0.999, -0.5, 0.0, 0.25, 0.9999, 1.0], dtype)
        _same(tg.erfinv(c), torch.erfinv(d), rtol=1e-6 if dtype == "float32" else 1e-14)
    x = tg.tensor([-0.8, 0.1, 0.95], dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda t: tg.erfinv(t), (x,))
    assert gradcheck(lambda t: tg.erfc(t), (x,))


def test_scipy_path_matches_torch_when_available() -> None:
    pytest.importorskip("scipy")
    assert special._scipy is not None
    a, b = _pair([-3.0, -0.5, 0.0, 0.3, 1.0, 2.5])
    _same(tg.erf(a), torch.erf(b), rtol=1e-15)
    _same(tg.erfc(a), torch.erfc(b), rtol=1e-15)
