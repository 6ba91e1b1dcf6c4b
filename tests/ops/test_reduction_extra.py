"""Reductions, softmax family, sorting and norms: what the generated op-table tests do not cover.

Public overloads (torch.max(x), x.max(0), torch.max(a, b)), named-tuple results, ties and NaN,
zeros in prod/cumprod, norms at zero, torch's messages and warnings, dtype rules.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.linalg  # noqa: F401  (torch.linalg's namespace, until tapegrad/__init__ imports it)
from tapegrad.autograd.gradcheck import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

INF = float("inf")
NAN = float("nan")


def both(values: Any, dtype: str = "float64", requires_grad: bool = True) -> tuple:
    """The same leaf tensor in tapegrad and in torch."""
    a = np.array(values, dtype=dtype)
    req = requires_grad and a.dtype.kind == "f"
    return (tg.tensor(a, requires_grad=req), torch.tensor(a, requires_grad=req))


def run(fn: Callable, lib: Any, x: Any) -> Any:
    return fn(lib, x)


def assert_same(out: Any, tout: Any) -> None:
    if isinstance(tout, tuple):
        assert isinstance(out, tuple) and len(out) == len(tout)
        for o, t in zip(out, tout):
            assert_same(o, t)
        return
    assert str(out.dtype) == str(tout.dtype)
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-6, atol=1e-9, equal_nan=True)


def first(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


# ---------------------------------------------------------------------------------------
# public overloads: values, grad_fn names and gradients against torch

CALLS = {
    "max_all": lambda L, x: L.max(x),
    "max_dim": lambda L, x: x.max(0),
    "max_dim_kw": lambda L, x: L.max(x, dim=1, keepdim=True),
    "min_all": lambda L, x: x.min(),
    "min_dim": lambda L, x: L.min(x, -1),
    "max_binary": lambda L, x: L.max(x, x * 0.5 + 0.3),
    "amax": lambda L, x: x.amax(),
    "amax_dims": lambda L, x: L.amax(x, (0, 1), keepdim=True),
    "amin_dim": lambda L, x: x.amin(1),
    "prod": lambda L, x: x.prod(),
    "prod_dim": lambda L, x: L.prod(x, 1, keepdim=True),
    "var": lambda L, x: x.var(),
    "var_unbiased_pos": lambda L, x: x.var(0, False),
    "var_unbiased_only": lambda L, x: L.var(x, False),
    "std_correction": lambda L, x: x.std(1, correction=0, keepdim=True),
    "var_mean": lambda L, x: L.var_mean(x, 1),
    "std_mean": lambda L, x: L.std_mean(x, correction=2),
    "logsumexp": lambda L, x: x.logsumexp(1),
    "logsumexp_dims": lambda L, x: L.logsumexp(x, (0, 1), keepdim=True),
    "cumsum": lambda L, x: x.cumsum(1),
    "cumsum_dtype": lambda L, x: L.cumsum(x, 0, dtype=L.float32),
    "cumprod": lambda L, x: x.cumprod(dim=0),
    "softmax": lambda L, x: x.softmax(1),
    "softmax_fn": lambda L, x: L.softmax(x, 0),
    "softmax_dtype": lambda L, x: x.float().softmax(-1, dtype=L.float64),
    "log_softmax": lambda L, x: L.log_softmax(x, dim=1),
    "norm": lambda L, x: x.norm(),
    "norm_p1_dim": lambda L, x: L.norm(x, 1, dim=1),
    "norm_fro_dim": lambda L, x: x.norm("fro", dim=0, keepdim=True),
    "norm_inf": lambda L, x: x.norm(INF),
    "norm_p3": lambda L, x: x.norm(p=3),
    "vector_norm": lambda L, x: L.linalg.vector_norm(x, 0.5, dim=(0, 1)),
    "vector_norm_dtype": lambda L, x: L.linalg.vector_norm(x.float(), dtype=L.float64),
    "linalg_norm": lambda L, x: L.linalg.norm(x),
    "linalg_norm_vec": lambda L, x: L.linalg.norm(x[0], -INF),
    "linalg_norm_dim": lambda L, x: L.linalg.norm(x, 3, dim=1),
    "matrix_norm_fro": lambda L, x: L.linalg.matrix_norm(x),
    "matrix_norm_1": lambda L, x: L.linalg.matrix_norm(x, 1),
    "matrix_norm_inf_keep": lambda L, x: L.linalg.matrix_norm(x, -INF, keepdim=True),
    "linalg_norm_dims": lambda L, x: L.linalg.norm(x, 1, dim=(1, 0)),
    "median": lambda L, x: x.median(),
    "median_dim": lambda L, x: L.median(x, 1, keepdim=True),
    "sort": lambda L, x: x.sort(),
    "sort_desc": lambda L, x: L.sort(x, dim=0, descending=True, stable=True),
    "msort": lambda L, x: L.msort(x),
    "topk": lambda L, x: x.topk(2),
    "topk_smallest": lambda L, x: L.topk(x, 2, dim=0, largest=False),
    "kthvalue": lambda L, x: x.kthvalue(2, 1),
    "mode": lambda L, x: x.mode(0),
    "argmax": lambda L, x: x.argmax(),
    "argmin_dim": lambda L, x: L.argmin(x, 1, keepdim=True),
    "argsort": lambda L, x: x.argsort(dim=0, descending=True),
}

MATRIX = [[0.3, -1.2, 2.5, 0.7], [1.1, 0.4, -0.6, -2.2], [-0.9, 1.7, 0.2, 1.4]]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_public_calls_match_torch(name: str) -> None:
    x, tx = both(MATRIX)
    out, tout = CALLS[name](tg, x), CALLS[name](torch, tx)
    assert type(out).__name__ == type(tout).__name__
    assert_same(out, tout)
    o, t = first(out), first(tout)
    assert (None if o.grad_fn is None else o.grad_fn.name()) == (None if t.grad_fn is None else t.grad_fn.name())
    if t.requires_grad:
        g = np.linspace(-1, 1, t.numel()).reshape(tuple(t.shape))
        o.backward(tg.tensor(g, dtype=o.dtype))
        t.backward(torch.tensor(g, dtype=t.dtype))
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-12)


# ---------------------------------------------------------------------------------------
# named tuples

@pytest.mark.parametrize("call", [lambda L, x: x.max(0), lambda L, x: L.min(x, 1, True), lambda L, x: x.sort(1),
                                  lambda L, x: x.topk(1), lambda L, x: x.kthvalue(1, 0),
                                  lambda L, x: x.median(0), lambda L, x: x.mode(1)])
def test_named_tuple_repr_matches_torch(call: Callable) -> None:
    x, tx = both([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    assert repr(call(tg, x)) == repr(call(torch, tx))
    assert str(call(tg, x.detach())) == str(call(torch, tx.detach()))


def test_named_tuple_behaves_as_torchs() -> None:
    x = tg.tensor([[1.0, 5.0], [4.0, 2.0]])
    r = x.max(0)
    values, indices = r
    assert r.values is values and r.indices is indices and r[1] is indices
    assert isinstance(r, tuple) and type(r[0:1]) is tuple
    assert type(r).__name__ == "max" and r.n_fields == 2
    assert tg.return_types.max((values, indices)).values is values
    assert indices.dtype == tg.int64 and not indices.requires_grad


# ---------------------------------------------------------------------------------------
# ties and NaN

TIES = [
    ("max_all", lambda L, x: x.max(), [1.0, 3.0, 3.0, 2.0]),
    ("max_all_nan", lambda L, x: x.max(), [1.0, NAN, 3.0, NAN]),
    ("amax_ties", lambda L, x: x.amax(0), [[1.0, 3.0], [1.0, 2.0]]),
    ("amax_nan", lambda L, x: x.amax(), [1.0, NAN, 3.0]),
    ("max_dim_ties", lambda L, x: x.max(0), [1.0, 3.0, 3.0, 2.0]),
    ("min_dim_nan", lambda L, x: x.min(0), [1.0, NAN, 3.0]),
    ("median_ties", lambda L, x: x.median(), [1.0, 2.0, 2.0, 3.0]),
    ("median_even", lambda L, x: x.median(), [1.0, 4.0, 3.0, 2.0]),
    ("median_dim_ties", lambda L, x: x.median(1), [[1.0, 4.0, 3.0, 2.0], [3.0, 3.0, 3.0, 1.0]]),
    ("median_nan", lambda L, x: x.median(0), [1.0, NAN, 3.0]),
    ("median_all_nan", lambda L, x: x.median(), [1.0, NAN, 3.0]),
    ("sort_nan", lambda L, x: x.sort(), [1.0, NAN, 3.0, -1.0]),
    ("sort_nan_desc", lambda L, x: x.sort(descending=True), [1.0, NAN, 3.0, -1.0]),
    ("sort_ties_desc", lambda L, x: x.sort(descending=True, stable=True), [2.0, 1.0, 2.0, 1.0, 2.0]),
    ("topk_nan", lambda L, x: x.topk(2), [1.0, NAN, 3.0, -1.0]),
    ("argmax_nan", lambda L, x: (x.argmax(), x.argmin()), [1.0, NAN, 3.0, NAN]),
    ("argmax_ties", lambda L, x: (x.argmax(), x.argmin()), [1.0, 3.0, 3.0, 1.0]),
    ("mode_ties", lambda L, x: x.mode(1), [[1.0, 3.0, 3.0, 1.0, 2.0], [2.0, 2.0, 5.0, 5.0, 5.0]]),
    ("norm_inf_ties", lambda L, x: x.norm(INF), [0.0, -2.0, 2.0, 1.0]),
    ("norm_neginf_ties", lambda L, x: x.norm(-INF), [0.5, -2.0, -0.5, 1.0]),
]


@pytest.mark.parametrize("name,call,values", TIES, ids=[t[0] for t in TIES])
def test_ties_and_nan_match_torch(name: str, call: Callable, values: list) -> None:
    x, tx = both(values)
    out, tout = call(tg, x), call(torch, tx)
    assert_same(out, tout)
    o, t = first(out), first(tout)
    if t.requires_grad:
        o.sum().backward()
        t.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), equal_nan=True)


# ---------------------------------------------------------------------------------------
# gradients at zeros and other special points, against torch and by finite differences

SPECIAL = [
    ("prod_one_zero", lambda L, x: x.prod(), [0.0, 2.0, 3.0]),
    ("prod_two_zeros", lambda L, x: x.prod(), [0.0, 2.0, 0.0]),
    ("prod_dim_zeros", lambda L, x: x.prod(1), [[1.5, 0.0, 2.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]]),
    ("cumprod_zeros", lambda L, x: x.cumprod(0), [2.0, 0.0, 3.0, 0.0, 4.0]),
    ("cumprod_dim_zeros", lambda L, x: x.cumprod(1), [[2.0, 0.0, 3.0], [1.0, 2.0, 0.0], [0.5, 1.5, 2.0]]),
    ("norm2_zero", lambda L, x: x.norm(), [0.0, 0.0]),
    ("norm1_zero", lambda L, x: x.norm(1), [0.0, 1.0, -2.0]),
    ("norm3_zero", lambda L, x: x.norm(3), [0.0, 0.0]),
    ("norm_half_zero", lambda L, x: x.norm(0.5), [0.0, 1.0]),
    ("norm_neg1_zero", lambda L, x: x.norm(-1), [0.0, 1.0]),
    ("norm_neg1", lambda L, x: x.norm(-1), [3.0, 1.0]),
    ("std_constant", lambda L, x: x.std(), [1.0, 1.0]),
    ("std_one", lambda L, x: x.std(), [1.0]),
    ("logsumexp_neginf", lambda L, x: x.logsumexp(0), [-INF, -INF]),
    ("logsumexp_inf", lambda L, x: x.logsumexp(0), [INF, 1.0]),
    ("logsumexp_large", lambda L, x: x.logsumexp(0), [1000.0, 1000.5, -1000.0]),
    ("softmax_neginf", lambda L, x: x.softmax(0), [-INF, 1.0]),
    ("softmax_all_neginf", lambda L, x: x.softmax(0), [-INF, -INF]),
    ("softmax_inf", lambda L, x: x.softmax(0), [INF, 1.0]),
    ("log_softmax_neginf", lambda L, x: x.log_softmax(0), [-INF, 1.0]),
    ("log_softmax_large", lambda L, x: x.log_softmax(0), [800.0, 0.0, -800.0]),
]


@pytest.mark.parametrize("name,call,values", SPECIAL, ids=[s[0] for s in SPECIAL])
def test_special_points_match_torch(name: str, call: Callable, values: list) -> None:
    x, tx = both(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, tout = call(tg, x), call(torch, tx)
    assert_same(out, tout)
    g = np.linspace(0.5, 1.5, tout.numel()).reshape(tuple(tout.shape))
    out.backward(tg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), equal_nan=True, rtol=1e-7, atol=1e-12)


def test_norm_p0_leaves_gradient_undefined_as_torch() -> None:
    x = tg.tensor([1.0, 0.0, -2.0], requires_grad=True)
    r = x.norm(0)
    assert r.item() == 2.0 and r.grad_fn.name() == "LinalgVectorNormBackward0"
    r.backward()
    assert x.grad is None


FINITE_DIFFERENCES = [
    ("prod_with_zero", lambda x: x.prod(), [[1.5, 0.0, 2.0], [0.5, -1.0, 3.0]]),
    ("prod_dim_with_zeros", lambda x: x.prod(0), [[1.5, 0.0, 0.0], [0.5, -1.0, 3.0]]),
    ("cumprod_with_zeros", lambda x: x.cumprod(1), [[2.0, 0.0, 3.0, 0.5], [1.0, 2.0, 0.0, 3.0]]),
    ("cumprod", lambda x: x.cumprod(0), [[2.0, -0.5], [1.5, 3.0], [0.7, -1.1]]),
    ("cumsum", lambda x: x.cumsum(-1), [[2.0, -0.5, 1.0], [1.5, 3.0, 0.1]]),
    ("norm_p2", lambda x: x.norm(dim=1), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("norm_p1", lambda x: tg.norm(x, 1), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("norm_p3", lambda x: x.norm(3, dim=0, keepdim=True), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("norm_p_half", lambda x: x.norm(0.5), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("norm_p_neg", lambda x: x.norm(-2.5), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("norm_inf", lambda x: x.norm(INF, dim=1), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("matrix_norm_1", lambda x: tg.linalg.matrix_norm(x, 1), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("logsumexp", lambda x: x.logsumexp(1), [[30.0, 31.0, 29.5], [-2.0, 0.5, 0.1]]),
    ("softmax", lambda x: x.softmax(0), [[30.0, 31.0, 29.5], [-2.0, 0.5, 0.1]]),
    ("log_softmax", lambda x: x.log_softmax(1), [[30.0, 31.0, 29.5], [-2.0, 0.5, 0.1]]),
    ("var", lambda x: x.var(1, correction=0.5), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("std", lambda x: x.std(0, unbiased=True, keepdim=True), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("var_mean", lambda x: tg.var_mean(x, 1), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("std_mean", lambda x: tg.std_mean(x), [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("sort_values", lambda x: x.sort(0, descending=True).values, [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
    ("topk_values", lambda x: x.topk(2).values, [[0.3, -1.2, 2.5], [1.1, 0.4, -0.6]]),
]


@pytest.mark.parametrize("name,fn,values", FINITE_DIFFERENCES, ids=[f[0] for f in FINITE_DIFFERENCES])
def test_gradients_by_finite_differences(name: str, fn: Callable, values: list) -> None:
    x = tg.tensor(values, dtype=tg.float64, requires_grad=True)
    assert gradcheck(fn, (x,))
    if "zero" not in name:  # second derivatives of prod/cumprod jump at zeros
        assert gradgradcheck(fn, (x,))


def test_prod_with_one_zero_second_order_matches_torch() -> None:
    x, tx = both([[1.5, 0.0, 2.0], [0.5, -1.0, 3.0]])
    (g,) = tg.autograd.grad(x.prod(1).sum(), x, create_graph=True)
    (tgr,) = torch.autograd.grad(tx.prod(1).sum(), tx, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tgr.detach().numpy())
    pick = np.zeros((2, 3))
    pick[0, 0] = 1.0
    (gg,) = tg.autograd.grad((g * tg.tensor(pick)).sum(), x)
    (tgg,) = torch.autograd.grad((tgr * torch.tensor(pick)).sum(), tx)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy())


# ---------------------------------------------------------------------------------------
# empty and 0-dim tensors

EDGE = {
    "max_row_of_empty": lambda L: L.zeros(0, 3).max(1),
    "amax_rows_of_empty": lambda L: L.zeros(0, 3).amax(1),
    "argmax_rows_of_empty": lambda L: L.zeros(0, 3).argmax(1),
    "median_empty": lambda L: L.zeros(0).median(),
    "prod_empty": lambda L: L.zeros(0).prod(),
    "prod_empty_dim": lambda L: L.zeros(2, 0).prod(1),
    "logsumexp_empty": lambda L: L.zeros(0).logsumexp(0),
    "norm_empty": lambda L: L.zeros(0).norm(),
    "norm_inf_rows": lambda L: L.linalg.vector_norm(L.zeros(0, 3), INF, dim=1),
    "cumprod_empty": lambda L: L.zeros(0).cumprod(0),
    "softmax_empty": lambda L: L.zeros(0, 2).softmax(1),
    "max_0d": lambda L: L.tensor(2.0).max(0),
    "max_0d_neg": lambda L: L.tensor(2.0).max(-1, keepdim=True),
    "argmax_keepdim": lambda L: L.ones(2, 3).argmax(keepdim=True),
    "sort_0d": lambda L: L.tensor(2.0).sort(),
    "topk_0d": lambda L: L.tensor(2.0).topk(1),
    "median_0d": lambda L: L.tensor(2.0).median(0),
    "cumsum_0d": lambda L: L.tensor(2.0).cumsum(0),
    "softmax_0d": lambda L: L.tensor(2.0).softmax(0),
    "logsumexp_0d": lambda L: L.tensor(2.0).logsumexp(0),
    "norm_0d": lambda L: L.tensor(-3.0).norm(1, dim=0),
    "amax_0d": lambda L: L.tensor(-3.0).amax(0),
}


@pytest.mark.parametrize("name", sorted(EDGE))
def test_empty_and_0d_match_torch(name: str) -> None:
    assert_same(EDGE[name](tg), EDGE[name](torch))


# ---------------------------------------------------------------------------------------
# dtypes

DTYPES = {
    "prod_int": lambda L: L.tensor([3, 1, 2]).prod(),
    "prod_bool": lambda L: L.tensor([True, True]).prod(),
    "prod_int32_dim": lambda L: L.tensor([3, 1, 2], dtype=L.int32).prod(0),
    "prod_dtype": lambda L: L.tensor([3, 1, 2]).prod(dtype=L.float32),
    "cumsum_int32": lambda L: L.tensor([3, 1, 2], dtype=L.int32).cumsum(0),
    "cumsum_bool": lambda L: L.tensor([True, False]).cumsum(0),
    "cumprod_int": lambda L: L.tensor([3, 1, 2]).cumprod(0),
    "max_int": lambda L: L.tensor([3, 1, 2]).max(),
    "max_bool": lambda L: L.tensor([True, False]).max(),
    "amax_int": lambda L: L.tensor([[3, 1], [2, 5]]).amax(0),
    "sort_int": lambda L: L.tensor([3, 1, 2]).sort(),
    "sort_bool": lambda L: L.tensor([True, False]).sort(),
    "topk_int": lambda L: L.tensor([3, 1, 2]).topk(2),
    "median_int": lambda L: L.tensor([3, 1, 2]).median(),
    "logsumexp_int": lambda L: L.tensor([3, 1, 2]).logsumexp(0),
    "softmax_int_dtype": lambda L: L.tensor([3, 1, 2]).softmax(0, dtype=L.float32),
    "softmax_float32": lambda L: L.tensor([3.0, 1.0]).softmax(0),
    "vector_norm_dtype": lambda L: L.linalg.vector_norm(L.tensor([1.0, 2.0]), dtype=L.float64),
    "var_float32": lambda L: L.tensor([1.0, 2.0, 4.0]).var(),
    "max_binary_promotes": lambda L: L.max(L.tensor([3, 1, 2]), L.tensor([1.0, 2.0, 3.0])),
}


@pytest.mark.parametrize("name", sorted(DTYPES))
def test_dtypes_match_torch(name: str) -> None:
    assert_same(DTYPES[name](tg), DTYPES[name](torch))


# ---------------------------------------------------------------------------------------
# errors and warnings

ERRORS = {
    "max_empty": lambda L: L.zeros(0).max(),
    "min_empty": lambda L: L.zeros(0).min(),
    "max_dim_empty": lambda L: L.zeros(0, 3).max(0),
    "amax_empty": lambda L: L.zeros(0).amax(),
    "amin_dim_empty": lambda L: L.zeros(0, 3).amin(0),
    "argmax_empty": lambda L: L.zeros(0).argmax(),
    "argmin_dim_empty": lambda L: L.zeros(0, 2).argmin(0),
    "median_dim_empty": lambda L: L.zeros(0).median(0),
    "mode_empty": lambda L: L.zeros(0).mode(),
    "kthvalue_empty": lambda L: L.zeros(0).kthvalue(1),
    "kthvalue_too_big": lambda L: L.ones(3, 4).kthvalue(5, 1),
    "kthvalue_zero": lambda L: L.ones(3, 4).kthvalue(0),
    "topk_too_big": lambda L: L.ones(3, 4).topk(5),
    "topk_negative": lambda L: L.ones(3, 4).topk(-1),
    "max_bad_dim": lambda L: L.ones(3, 4).max(2),
    "max_0d_bad_dim": lambda L: L.tensor(2.0).max(1),
    "cumsum_bad_dim": lambda L: L.ones(3, 4).cumsum(3),
    "var_int": lambda L: L.tensor([1, 2]).var(),
    "std_int": lambda L: L.tensor([1, 2]).std(0),
    "norm_int": lambda L: L.tensor([1, 2]).norm(),
    "vector_norm_int_dtype": lambda L: L.linalg.vector_norm(L.tensor([1.0]), dtype=L.int64),
    "vector_norm_narrowing": lambda L: L.linalg.vector_norm(L.tensor([1.0], dtype=L.float64), dtype=L.float32),
    "vector_norm_str": lambda L: L.linalg.vector_norm(L.ones(2), "fro"),
    "norm_bad_str": lambda L: L.ones(2, 2).norm("abc"),
    "norm_inf_empty": lambda L: L.zeros(0).norm(INF),
    "norm_neg_empty": lambda L: L.linalg.vector_norm(L.zeros(0), -1),
    "norm_inf_empty_dim": lambda L: L.linalg.vector_norm(L.zeros(0, 3), -INF, dim=0),
    "softmax_int": lambda L: L.tensor([1, 2]).softmax(0),
    "softmax_int_not_last": lambda L: L.ones(2, 3, dtype=L.int64).softmax(0),
    "log_softmax_int": lambda L: L.tensor([1, 2]).log_softmax(0),
    "matrix_norm_1d": lambda L: L.linalg.matrix_norm(L.ones(3)),
    "matrix_norm_bad_ord": lambda L: L.linalg.matrix_norm(L.ones(2, 2), 3),
    "linalg_norm_3d_ord": lambda L: L.linalg.norm(L.ones(2, 3, 4), "fro"),
    "linalg_norm_3_dims": lambda L: L.linalg.norm(L.ones(2, 3, 4), 1, dim=(0, 1, 2)),
    "linalg_norm_1d_fro": lambda L: L.linalg.norm(L.ones(3), "fro"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name: str) -> None:
    with pytest.raises(Exception) as expected:
        ERRORS[name](torch)
    with pytest.raises(Exception) as actual:
        ERRORS[name](tg)
    assert type(actual.value) is type(expected.value)
    assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize("call,name", [(lambda L: L.ones(1).var(), "var"), (lambda L: L.zeros(0).std(), "std"),
                                       (lambda L: L.ones(2).var(correction=3), "var"),
                                       (lambda L: L.var_mean(L.ones(1)), "var_mean"),
                                       (lambda L: L.std_mean(L.ones(3), 0, correction=3), "std_mean")])
def test_degrees_of_freedom_warning(call: Callable, name: str) -> None:
    with pytest.warns(UserWarning) as got:
        out = call(tg)
    with pytest.warns(UserWarning) as expected:
        tout = call(torch)
    assert_same(out, tout)
    text = str(got[0].message)
    assert text.split(" (Triggered internally")[0] == str(expected[0].message).split(" (Triggered internally")[0]
    assert text.startswith(f"{name}(): degrees of freedom is <= 0.")
    assert got[0].filename == __file__  # attributed to the caller, as torch's warnings are


def test_var_rejects_unbiased_with_correction() -> None:
    with pytest.raises(TypeError):
        tg.ones(3).var(0, unbiased=True, correction=1)


def test_matrix_norms_needing_svd_say_so() -> None:
    with pytest.raises(NotImplementedError, match="singular value"):
        tg.linalg.matrix_norm(tg.ones(2, 2), "nuc")
    with pytest.raises(NotImplementedError, match="singular value"):
        tg.linalg.norm(tg.ones(2, 2), 2)


def test_inplace_cumsum_and_cumprod_match_torch() -> None:
    x, tx = both([1.0, 2.0, 3.0])
    outs = []
    for L, leaf in ((tg, x), (torch, tx)):
        y, z = leaf * 1, leaf * 1
        y.cumsum_(0)
        z.cumprod_(0)
        (y.sum() + z.sum()).backward()
        outs.append((y, z, y.grad_fn.name(), z.grad_fn.name()))
    assert outs[0][2:] == outs[1][2:] == ("CumsumBackward0", "CumprodBackward0")
    assert_same(outs[0][:2], outs[1][:2])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
