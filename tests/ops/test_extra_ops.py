"""torch functions and methods from extra_math.py / extra_misc.py, run side by side with torch:
values, gradients, grad_fn names and errors (the entries' own samples are covered by test_op_table)."""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

_rng = np.random.RandomState(7)
A34 = _rng.uniform(-2, 2, (3, 4))
B34 = _rng.uniform(-2, 2, (3, 4))
A33 = _rng.uniform(-2, 2, (3, 3))
V5 = _rng.uniform(-2, 2, (5,))
W4 = _rng.uniform(0.5, 2, (4,))
A234 = _rng.uniform(-2, 2, (2, 3, 4))
NAN34 = A34.copy()
NAN34[0, 1] = NAN34[2, 3] = np.nan
I10 = np.array([1, 3, 1, 0, 7, 3, 3, 2, 9, 0], np.int64)
SORTED = np.array([[1.0, 3.0, 5.0, 7.0, 9.0], [2.0, 4.0, 6.0, 8.0, 10.0]])


def _grad_fn_name(t: Any) -> str | None:
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def _flat(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _run(lib: Any, fn: Callable, arrays: tuple, grad: bool) -> tuple:
    inputs = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    out = _flat(fn(lib, *inputs))
    return inputs, out


# (id, function of (lib, *tensors), input arrays); every float input requires grad
DIFFERENTIABLE = [
    ("addcmul_value", lambda L, a, b, c: L.addcmul(a, b, c, value=0.5), (A34, B34, W4)),
    ("addcdiv_method", lambda L, a, b, c: a.addcdiv(b, c, value=2), (A34, B34, W4)),
    ("type_as", lambda L, a: a.type_as(L.zeros(1, dtype=L.float32)), (A34,)),
    ("trace", lambda L, a: L.trace(a), (A33,)),
    ("diff", lambda L, a: L.diff(a), (A34,)),
    ("diff_n2_dim0", lambda L, a: L.diff(a, n=2, dim=0), (A34,)),
    ("diff_prepend_append", lambda L, a, b: L.diff(a, dim=1, prepend=b, append=b), (A34, B34)),
    ("diff_method", lambda L, a: a.diff(), (V5,)),
    ("rot90", lambda L, a: L.rot90(a, 3, [1, 2]), (A234,)),
    ("tensordot_int", lambda L, a, b: L.tensordot(a, b, dims=1), (A34, B34.T.copy())),
    ("tensordot_pairs", lambda L, a, b: L.tensordot(a, b, dims=([1, 2], [1, 0])), (A234, A34.T.reshape(4, 3))),
    ("tensordot_0", lambda L, a, b: L.tensordot(a, b, dims=0), (V5, W4)),
    ("vstack", lambda L, a, b: L.vstack([a, b]), (V5, V5)),
    ("row_stack", lambda L, a, b: L.row_stack((a, b)), (A34, B34)),
    ("hstack_1d", lambda L, a, b: L.hstack([a, b]), (V5, W4)),
    ("hstack_2d", lambda L, a, b: L.hstack([a, b]), (A34, B34)),
    ("dstack", lambda L, a, b: L.dstack([a, b]), (A34, B34)),
    ("column_stack", lambda L, a, b: L.column_stack([a, b]), (V5, V5)),
    ("atleast_2d_1d", lambda L, a: L.atleast_2d(a), (V5,)),
    ("atleast_3d_2d", lambda L, a: L.atleast_3d(a), (A34,)),
    ("atleast_3d_1d", lambda L, a: L.atleast_3d(a), (V5,)),
    ("atleast_1d_0d", lambda L, a: L.atleast_1d(a), (np.array(1.5),)),
    ("atleast_2d_many", lambda L, a, b: L.atleast_2d(a, b), (np.array(1.5), V5)),
    ("broadcast_tensors", lambda L, a, b: L.broadcast_tensors(a, b), (A34, W4)),
    ("cross_dim", lambda L, a, b: L.cross(a, b, dim=1), (A33, A33[::-1].copy())),
    ("linalg_cross", lambda L, a, b: L.linalg.cross(a, b), (A33, A33[::-1].copy())),
    ("kron", lambda L, a, b: L.kron(a, b), (A34[:2, :3].copy(), B34)),
    ("kron_1d_2d", lambda L, a, b: L.kron(a, b), (W4, A34)),
    ("cdist", lambda L, a, b: L.cdist(a, b), (A34, B34)),
    ("cdist_batched_p1", lambda L, a, b: L.cdist(a, b, p=1), (A234, A34[:2].copy())),
    ("nansum", lambda L, a: L.nansum(a), (NAN34,)),
    ("nansum_dim", lambda L, a: a.nansum(1, keepdim=True), (NAN34,)),
    ("nanmean", lambda L, a: L.nanmean(a), (NAN34,)),
    ("nanmean_dim", lambda L, a: a.nanmean(dim=0), (NAN34,)),
    ("deg2rad", lambda L, a: L.deg2rad(a), (A34,)),
    ("rad2deg_method", lambda L, a: a.rad2deg(), (A34,)),
    ("cummax", lambda L, a: L.cummax(a, 1), (A34,)),
    ("cummin_method", lambda L, a: a.cummin(dim=0), (A34,)),
    ("logcumsumexp", lambda L, a: L.logcumsumexp(a, 1), (A34,)),
    ("aminmax", lambda L, a: L.aminmax(a), (A34,)),
    ("aminmax_dim", lambda L, a: a.aminmax(dim=1, keepdim=True), (A34,)),
    ("block_diag", lambda L, a, b, c: L.block_diag(a, b, c), (A34, V5, np.array(2.0))),
    ("cartesian_prod", lambda L, a, b: L.cartesian_prod(a, b), (V5, W4)),
    ("combinations", lambda L, a: L.combinations(a), (V5,)),
    ("combinations_r3_repl", lambda L, a: L.combinations(a, 3, with_replacement=True), (W4,)),
    ("cov", lambda L, a: L.cov(a), (A34,)),
    ("cov_weights", lambda L, a, w: L.cov(a, correction=0, aweights=w), (A34, W4)),
    ("cov_1d", lambda L, a: L.cov(a), (V5,)),
    ("corrcoef", lambda L, a: L.corrcoef(a), (A34,)),
    ("trapezoid", lambda L, a: L.trapezoid(a), (A34,)),
    ("trapezoid_x", lambda L, a, x: L.trapezoid(a, x), (A34, np.cumsum(W4))),
    ("trapezoid_dx", lambda L, a: L.trapezoid(a, dx=0.5, dim=0), (A34,)),
    ("trapz", lambda L, a: L.trapz(a), (A34,)),
    ("cumulative_trapezoid", lambda L, a: L.cumulative_trapezoid(a), (A34,)),
    ("cumulative_trapezoid_x", lambda L, a, x: L.cumulative_trapezoid(a, x, dim=1), (A34, np.cumsum(W4))),
    ("vander", lambda L, a: L.vander(a), (V5,)),
    ("vander_inc_N", lambda L, a: L.vander(a, N=3, increasing=True), (V5,)),
    ("renorm", lambda L, a: L.renorm(a, 2, 0, 1.5), (A34,)),
    ("index_copy", lambda L, a, s: a.index_copy(0, L.tensor([2, 0]), s), (A34, B34[:2].copy())),
    ("masked_scatter", lambda L, a, s: a.masked_scatter(a > 0, s), (A34, B34)),
    ("nanmedian", lambda L, a: L.nanmedian(a), (NAN34,)),
    ("nanmedian_dim", lambda L, a: a.nanmedian(1), (NAN34,)),
]


# torch's own backward of vander fails (its cumprod's saved output is overwritten in place)
NO_BACKWARD = {"vander", "vander_inc_N"}


@pytest.mark.parametrize("name,fn,arrays", DIFFERENTIABLE, ids=[c[0] for c in DIFFERENTIABLE])
def test_matches_torch(name: str, fn: Callable, arrays: tuple) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tin, tout = _run(torch, fn, arrays, True)
        gin, gout = _run(tapegrad, fn, arrays, True)
    assert len(gout) == len(tout)
    for g, t in zip(gout, tout):
        assert tuple(g.shape) == tuple(t.shape)
        assert str(g.dtype) == str(t.dtype)
        np.testing.assert_allclose(g.detach().numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-9)
        assert _grad_fn_name(g) == _grad_fn_name(t), name
    diff_t = [(g, t) for g, t in zip(gout, tout) if t.requires_grad]
    if not diff_t or name in NO_BACKWARD:
        return
    seeds = [np.random.RandomState(i).uniform(-1, 1, tuple(t.shape)) for i, (_, t) in enumerate(diff_t)]
    torch.autograd.backward([t for _, t in diff_t], [torch.tensor(s, dtype=t.dtype) for s, (_, t) in
                                                    zip(seeds, diff_t)])
    tapegrad.autograd.backward([g for g, _ in diff_t], [tapegrad.tensor(s, dtype=g.dtype) for s, (g, _) in
                                                       zip(seeds, diff_t)])
    for gi, ti in zip(gin, tin):
        if ti.requires_grad:
            assert (gi.grad is None) == (ti.grad is None)
            if ti.grad is not None:
                np.testing.assert_allclose(gi.grad.numpy(), ti.grad.numpy(), rtol=1e-6, atol=1e-9)


def test_return_types_are_named() -> None:
    x = tapegrad.tensor(A34)
    assert type(tapegrad.cummax(x, 1)).__name__ == "cummax"
    assert tapegrad.cummin(x, 0).indices.dtype == tapegrad.int64
    mm = tapegrad.aminmax(x)
    assert float(mm.min) == A34.min() and float(mm.max) == A34.max()


def test_cross_without_dim_warns_as_torch() -> None:
    a = tapegrad.tensor(A33)
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim arg is deprecated"):
        out = tapegrad.cross(a, a.flip(0))
    np.testing.assert_allclose(out.numpy(), torch.cross(torch.tensor(A33), torch.tensor(A33).flip(0), dim=0).numpy())


def _errors(fn: Callable) -> tuple:
    try:
        fn(torch)
    except Exception as exc:  # noqa: BLE001 - the type and message are compared
        expected = exc
    else:
        raise AssertionError("torch raised nothing")
    with pytest.raises(type(expected)) as info:
        fn(tapegrad)
    return str(info.value), str(expected)


@pytest.mark.parametrize("fn", [
    lambda L: L.trace(L.ones(2, 2, 2)),
    lambda L: L.rot90(L.ones(2, 2), 1, [0, 0]),
    lambda L: L.linalg.cross(L.ones(2, 4), L.ones(2, 4)),
    lambda L: L.diff(L.tensor(1.0)),
    lambda L: L.renorm(L.ones(3), 2, 0, 1.0),
    lambda L: L.cdist(L.ones(3), L.ones(3)),
    lambda L: L.ones(3, dtype=L.float64).index_copy_(0, L.tensor([0]), L.ones(1)),
    lambda L: L.ones(3, dtype=L.float64).masked_scatter_(L.tensor([True, False, True]), L.ones(3)),
    lambda L: L.ones(3, dtype=L.float64).put_(L.tensor([0]), L.ones(1)),
    lambda L: L.ones(3).put_(L.tensor([0, 1]), L.ones(1)),
    lambda L: L.bincount(L.tensor([1, -1])),
    lambda L: L.bincount(L.tensor([1.0])),
    lambda L: L.histc(L.tensor([1, 2])),
    lambda L: L.ones(2, requires_grad=True).resize_(3),
    lambda L: L.ones(2, requires_grad=True).apply_(lambda v: v),
    lambda L: L.ones(2).map_(L.ones(2, requires_grad=True), lambda a, b: a),
    lambda L: L.ones(3).fill_diagonal_(1.0),
    lambda L: L.ones(3).put_(L.tensor([5]), L.ones(1)),
    lambda L: L.ones(4, 3).index_copy_(0, L.tensor([0]), L.ones(2, 3)),
    lambda L: L.ones(3).masked_scatter_(L.tensor([True, True, True]), L.ones(2)),
    lambda L: L.unique(L.ones(2, 2), dim=2),
    lambda L: L.searchsorted(L.ones(2, 3), L.ones(3, 1)),
    lambda L: L.rot90(L.ones(3)),
    lambda L: L.aminmax(L.ones(0)),
    lambda L: L.nanmean(L.ones(2, dtype=L.long)),
], ids=["trace_3d", "rot90_same_dims", "cross_len4", "diff_0d", "renorm_1d", "cdist_1d", "index_copy_dtype",
        "masked_scatter_dtype", "put_dtype", "put_numel", "bincount_negative", "bincount_float", "histc_long",
        "resize_grad", "apply_grad", "map_grad", "fill_diagonal_1d", "put_range",
        "index_copy_count", "masked_scatter_short", "unique_dim_range", "searchsorted_shapes", "rot90_1d",
        "aminmax_empty", "nanmean_long"])
def test_errors_match_torch(fn: Callable) -> None:
    ours, theirs = _errors(fn)
    assert ours == theirs


# ---------------------------------------------------------------------------------------
# non-differentiable utilities

NONDIFF = [
    ("unique", lambda L, a: L.unique(a), (I10,)),
    ("unique_all", lambda L, a: L.unique(a, return_inverse=True, return_counts=True), (I10,)),
    ("unique_method", lambda L, a: a.unique(sorted=True, return_counts=True), (I10,)),
    ("unique_dim", lambda L, a: L.unique(a, dim=0, return_inverse=True), (np.array([[1, 2], [0, 1], [1, 2]]),)),
    ("unique_float", lambda L, a: L.unique(a), (np.array([2.5, 1.0, 2.5]),)),
    ("unique_consecutive", lambda L, a: L.unique_consecutive(a, return_inverse=True, return_counts=True), (I10,)),
    ("unique_consecutive_dim", lambda L, a: L.unique_consecutive(a, dim=0),
     (np.array([[1, 2], [1, 2], [0, 1], [1, 2]]),)),
    ("bincount", lambda L, a: L.bincount(a), (I10,)),
    ("bincount_weights", lambda L, a, w: L.bincount(a, w, minlength=12), (I10, np.arange(10.0))),
    ("bincount_method", lambda L, a: a.bincount(minlength=3), (np.zeros(0, np.int64),)),
    ("histc", lambda L, a: L.histc(a, bins=4), (A34,)),
    ("histc_range", lambda L, a: a.histc(5, -1, 1), (A34,)),
    ("count_nonzero", lambda L, a: L.count_nonzero(a), (np.array([[0, 1, 2], [3, 0, 0]]),)),
    ("count_nonzero_dim", lambda L, a: a.count_nonzero(dim=1), (np.array([[0, 1, 2], [3, 0, 0]]),)),
    ("count_nonzero_dims", lambda L, a: L.count_nonzero(a, (0, 1)), (np.array([[0, 1, 2], [3, 0, 0]]),)),
    ("searchsorted", lambda L, s, v: L.searchsorted(s, v), (SORTED, np.array([[3.0, 6.0], [9.0, 2.0]]))),
    ("searchsorted_right", lambda L, s, v: L.searchsorted(s, v, right=True), (SORTED[0].copy(), np.array([3.0, 7.0]))),
    ("searchsorted_side", lambda L, s, v: L.searchsorted(s, v, side="right"), (SORTED[0].copy(), np.array([3.0]))),
    ("searchsorted_scalar", lambda L, s: L.searchsorted(s, 4.0), (SORTED[0].copy(),)),
    ("bucketize", lambda L, v, b: L.bucketize(v, b), (A34, np.array([-1.0, 0.0, 1.0]))),
    ("bucketize_right", lambda L, v, b: L.bucketize(v, b, right=True, out_int32=True), (A34, np.array([-1.0, 0.0]))),
]


@pytest.mark.parametrize("name,fn,arrays", NONDIFF, ids=[c[0] for c in NONDIFF])
def test_utilities_match_torch(name: str, fn: Callable, arrays: tuple) -> None:
    tout = _flat(fn(torch, *[torch.tensor(a) for a in arrays]))
    gout = _flat(fn(tapegrad, *[tapegrad.tensor(a) for a in arrays]))
    assert len(gout) == len(tout)
    for g, t in zip(gout, tout):
        assert str(g.dtype) == str(t.dtype), name
        np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-7)
        assert not g.requires_grad


def test_unique_returns_plain_tensor_without_options() -> None:
    out = tapegrad.unique(tapegrad.tensor([3, 1, 3]))
    assert isinstance(out, tapegrad.Tensor)
    assert out.tolist() == [1, 3]


# ---------------------------------------------------------------------------------------
# in-place methods

def _both(fn: Callable, *arrays: np.ndarray, grad: bool = False) -> tuple:
    outs = []
    for L in (torch, tapegrad):
        ins = [L.tensor(a, requires_grad=grad) for a in arrays]
        work = [t * 1 if grad else t for t in ins]
        res = fn(L, *work)
        outs.append((ins, work, res))
    return outs


@pytest.mark.parametrize("fn", [
    lambda L, x: x.unsqueeze_(1),
    lambda L, x: x.unsqueeze_(0).squeeze_(),
    lambda L, x: x.unsqueeze_(-1).squeeze_(-1),
    lambda L, x: x.t_(),
    lambda L, x: x.transpose_(0, 1),
    lambda L, x: x.fill_diagonal_(5.0),
    lambda L, x: x.index_copy_(1, L.tensor([3, 0]), L.ones(3, 2, dtype=L.float64)),
    lambda L, x: x.masked_scatter_(x > 0, L.arange(12.0, dtype=L.float64).reshape(3, 4)),
    lambda L, x: x.put_(L.tensor([0, 5]), L.tensor([9.0, 8.0], dtype=L.float64)),
    lambda L, x: x.put_(L.tensor([0, 0]), L.tensor([9.0, 8.0], dtype=L.float64), accumulate=True),
    lambda L, x: x.addcmul_(L.tensor(B34), L.tensor(A34), value=2),
    lambda L, x: x.addcdiv_(L.tensor(B34), L.tensor(W4)),
    lambda L, x: x.renorm_(1, 1, 0.5),
    lambda L, x: x.deg2rad_(),
], ids=["unsqueeze_", "squeeze_", "squeeze_dim", "t_", "transpose_", "fill_diagonal_", "index_copy_",
        "masked_scatter_", "put_", "put_accumulate", "addcmul_", "addcdiv_", "renorm_", "deg2rad_"])
def test_inplace_methods_match_torch(fn: Callable) -> None:
    (tin, twork, tres), (gin, gwork, gres) = _both(fn, A34, grad=True)
    assert gres is gwork[0]
    assert tuple(gres.shape) == tuple(tres.shape)
    np.testing.assert_allclose(gres.detach().numpy(), tres.detach().numpy(), rtol=1e-7)
    assert _grad_fn_name(gres) == _grad_fn_name(tres)
    assert gres._version == tres._version
    seed = np.random.RandomState(0).uniform(-1, 1, tuple(tres.shape))
    tres.backward(torch.tensor(seed))
    gres.backward(tapegrad.tensor(seed))
    np.testing.assert_allclose(gin[0].grad.numpy(), tin[0].grad.numpy(), rtol=1e-7)


@pytest.mark.parametrize("call", [lambda x: x.unsqueeze_(0), lambda x: x.t_(), lambda x: x.fill_diagonal_(1.0),
                                  lambda x: x.put_(x.new_tensor([0]).long(), x.new_tensor([1.0]))],
                         ids=["unsqueeze_", "t_", "fill_diagonal_", "put_"])
def test_inplace_on_leaf_raises_as_torch(call: Callable) -> None:
    x = tapegrad.ones(3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        call(x)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        call(torch.ones(3, 3, requires_grad=True))


def test_resize_keeps_leading_elements() -> None:
    x = tapegrad.arange(6.0)
    x.resize_(2, 2)
    assert tuple(x.shape) == (2, 2) and x.flatten().tolist() == [0.0, 1.0, 2.0, 3.0]
    assert x._version == 1
    x.resize_(4, 4)  # grown: tapegrad moves to a new array (views of the old one no longer share it)
    assert tuple(x.shape) == (4, 4) and x.flatten()[:4].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_apply_and_map_run_python_callables() -> None:
    for L in (torch, tapegrad):
        x = L.tensor([1.0, 2.0, 3.0])
        assert x.apply_(lambda v: v * 10) is x
        assert x.tolist() == [10.0, 20.0, 30.0]
        x.map_(L.tensor([1.0, 2.0, 3.0]), lambda a, b: a + b)
        assert x.tolist() == [11.0, 22.0, 33.0]
        assert x._version == 0


def _int_cases(L: Any) -> dict:
    a = L.tensor([[3, 1, 2], [0, 5, 4]])
    v = L.tensor([1, 2, 3])
    return {
        "diff": lambda: L.diff(a), "diff_bool": lambda: L.diff(a > 1), "kron": lambda: L.kron(a, a),
        "trapezoid": lambda: L.trapezoid(a), "cumulative_trapezoid": lambda: L.cumulative_trapezoid(a),
        "cov": lambda: L.cov(a), "corrcoef": lambda: L.corrcoef(a), "deg2rad": lambda: L.deg2rad(a),
        "cummax": lambda: L.cummax(a, 1), "logcumsumexp": lambda: L.logcumsumexp(a, 1),
        "aminmax": lambda: L.aminmax(a), "trace": lambda: L.trace(a[:, :2]), "nansum": lambda: L.nansum(a),
        "vander": lambda: L.vander(v), "tensordot": lambda: L.tensordot(a, a.t(), 1),
        "addcmul": lambda: L.addcmul(a, a, a, value=2), "addcdiv_int": lambda: L.addcdiv(a.float(), a, a + 1),
        "addcdiv_int_": lambda: a.float().addcdiv_(a, a + 1), "block_diag": lambda: L.block_diag(a, v.float()),
        "cartesian_prod": lambda: L.cartesian_prod(v, v), "combinations_r0": lambda: L.combinations(v, 0),
        "hstack_0d": lambda: L.hstack([L.tensor(1.0), L.tensor(2.0)]),
        "column_stack": lambda: L.column_stack([v, a.t()]), "cross": lambda: L.linalg.cross(v, v),
        "nanmedian": lambda: L.nanmedian(a), "nanmedian_dim": lambda: L.nanmedian(a, 0),
        "rot90": lambda: L.rot90(a, -3), "nanmean_all_nan": lambda: L.nanmean(L.tensor([float("nan")])),
        "cumulative_trapezoid_empty": lambda: L.cumulative_trapezoid(L.ones(0)),
        "trapezoid_empty": lambda: L.trapezoid(L.ones(2, 0)), "deg2rad_fn": lambda: L.deg2rad_(L.ones(2)),
    }


def _outcome(fn: Callable) -> Any:
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001 - compared with torch's
        return type(exc).__name__, str(exc)
    return [(str(t.dtype), t.tolist()) for t in _flat(out)]


@pytest.mark.parametrize("key", sorted(_int_cases(tapegrad)))
def test_integer_and_edge_inputs_match_torch(key: str) -> None:
    ours = _outcome(_int_cases(tapegrad)[key])
    theirs = _outcome(_int_cases(torch)[key])
    if isinstance(theirs, list) and isinstance(ours, list):
        assert [d for d, _ in ours] == [d for d, _ in theirs]
        for (_, a), (_, b) in zip(ours, theirs):
            np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-6)
    else:
        assert ours == theirs


def _view_program(L: Any) -> list:
    a = L.ones(1, 3, 1, requires_grad=True, dtype=L.float64)
    x = a * 2
    x.squeeze_((0, 2))
    out = [tuple(x.shape), _grad_fn_name(x), x._version]
    x.sum().backward()
    out.append(tuple(a.grad.shape))
    b = L.zeros(2, 3, requires_grad=True, dtype=L.float64)
    y = b * 1
    v = y[0]
    v.unsqueeze_(0)
    out += [tuple(v.shape), _grad_fn_name(v)]
    v.mul_(2)
    (y.sum() + v.sum()).backward()
    out.append(b.grad.tolist())
    with L.no_grad():
        c = L.ones(2, 2, requires_grad=True)
        c.t_()
    out += [c.requires_grad, c.grad_fn is None]
    return out


def test_inplace_shape_methods_on_views_match_torch() -> None:
    assert _view_program(tapegrad) == _view_program(torch)


def test_number_mod_tensor_records_not_implemented_as_torch() -> None:
    tg = tapegrad
    torch = pytest.importorskip("torch")
    got = []
    for L in (tg, torch):
        t = L.tensor([1.5, 2.5], requires_grad=True)
        r = 5.0 % t
        out = [r.tolist(), str(r.dtype), r.grad_fn.name(), repr(r).split("grad_fn=")[1]]
        with pytest.raises(RuntimeError) as info:
            r.sum().backward()
        out.append(str(info.value))
        out += [L.remainder(5, L.tensor([2, 3])).tolist(), (7 % L.tensor([2, 3])).dtype == L.int64]
        got.append(out)
    assert got[0] == got[1]
