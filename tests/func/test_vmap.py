"""vmap: each op of the table against a Python loop over the batch, composed transforms
(per-sample gradients, jacrev), nesting, in_dims/out_dims, the fallback warning, errors."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.func import grad, jacrev, vjp, vmap
from tapegrad.func._batch_rules import rule_of
from tapegrad.ops import OPS
from tapegrad.ops._samples import samples_of

MAX_SAMPLES = 6
# (op name, sample index, mode) or (op name,) -> reason: every entry says why it cannot pass
KNOWN_FAILURES: dict[tuple, str] = {
    **{("masked_select", i, mode): "a batched mask: torch's vmap refuses it too (data-dependent shape)"
       for i in range(5) for mode in ("all", "rest")},
    **{("one_hot", 0, mode): "num_classes=-1: torch's vmap refuses it too (the class count depends on the values)"
       for mode in ("all", "first")},
    ("batch_norm", 1, "first"): "training with unbatched running stats: torch's vmap refuses it (its error)",
}


# ---------------------------------------------------------------------------------------
# the sweep over the op table: vmap over 3 perturbed copies == a loop over them

def _arrays_of(sample: Any) -> tuple:
    """The sample's arrays and where they sit: ('a', position, item in a list or None) / ('k', name, None)."""
    arrays, slots = [], []
    for k, v in enumerate(sample.args):
        if isinstance(v, (list, tuple)) and any(isinstance(x, np.ndarray) for x in v):
            for j, x in enumerate(v):
                if isinstance(x, np.ndarray):
                    arrays.append(x)
                    slots.append(("a", k, j))
        elif isinstance(v, np.ndarray):
            arrays.append(v)
            slots.append(("a", k, None))
    for k, v in sample.kwargs.items():
        if isinstance(v, np.ndarray):
            arrays.append(v)
            slots.append(("k", k, None))
    return arrays, slots


def _caller(op: Any, sample: Any, slots: list) -> Any:
    def call(*ts: Any) -> Any:
        args = [list(v) if isinstance(v, (list, tuple)) else v for v in sample.args]
        kwargs = dict(sample.kwargs)
        for (where, k, j), t in zip(slots, ts):
            if where == "k":
                kwargs[k] = t
            elif j is None:
                args[k] = t
            else:
                args[k][j] = t
        args = [tuple(v) if isinstance(sample.args[n], tuple) else v for n, v in enumerate(args)]
        out = op.callable(*args, **kwargs)
        return tuple(out) if isinstance(out, tuple) else out
    return call


def _sweep_cases() -> list:
    cases = []
    for name in sorted(OPS):
        op = OPS[name]
        if op.nondeterministic_samples or op.samples is None:
            continue
        for i, sample in enumerate(samples_of(op)[:MAX_SAMPLES]):
            cases.append((name, i, sample))
    return cases


_CASES = _sweep_cases()


def _check_case(name: str, i: int, sample: Any, mode: str) -> None:
    op = OPS[name]
    arrays, slots = _arrays_of(sample)
    if not arrays or (mode == "rest" and len(arrays) < 2):
        return
    dims = {"all": [0] * len(arrays), "first": [0] + [None] * (len(arrays) - 1),
            "rest": [None] + [0] * (len(arrays) - 1)}[mode]
    rng = np.random.RandomState(i)
    inputs = []
    for a, d in zip(arrays, dims):
        if d is None:
            inputs.append(tg.from_numpy(a.copy()))
        elif a.dtype.kind == "f":
            inputs.append(tg.from_numpy(np.stack([a + rng.uniform(-1e-3, 1e-3, a.shape) for _ in range(3)])))
        else:
            inputs.append(tg.from_numpy(np.stack([a] * 3)))
    call = _caller(op, sample, slots)
    try:
        loop = [call(*[x if d is None else x[b] for x, d in zip(inputs, dims)]) for b in range(3)]
    except Exception:  # the sample is an error case: vmap must raise too
        with pytest.raises(Exception), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vmap(call, in_dims=tuple(dims))(*inputs)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = vmap(call, in_dims=tuple(dims))(*inputs)
    got = got if isinstance(got, tuple) else (got,)
    loop = [r if isinstance(r, tuple) else (r,) for r in loop]
    for k, g in enumerate(got):
        ref = np.stack([r[k].numpy() for r in loop])
        assert tuple(g.shape) == ref.shape, f"{mode}: output {k} shape {tuple(g.shape)} vs {ref.shape}"
        assert g.dtype == loop[0][k].dtype
        np.testing.assert_allclose(g.numpy(), ref, rtol=1e-7, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("mode", ["all", "first", "rest"])
def test_vmap_of_every_op_matches_a_loop(mode: str) -> None:
    """Every op x its samples, batched at all tensors / the first only / all but the first."""
    failures = []
    for name, i, sample in _CASES:
        reason = KNOWN_FAILURES.get((name, i, mode)) or KNOWN_FAILURES.get((name,))
        try:
            _check_case(name, i, sample, mode)
        except Exception as exc:  # collect them all: one report
            if not reason:
                failures.append(f"{name}[{i}]: {type(exc).__name__}: {str(exc)[:200]}")
        else:
            assert not reason, f"{name}[{i}] {mode} passes: remove it from KNOWN_FAILURES"
    assert not failures, "\n".join(failures)


def test_most_ops_have_a_batching_rule() -> None:
    with_rule = [n for n in OPS if rule_of(OPS[n]) is not None]
    assert len(with_rule) >= 0.8 * len(OPS)
    for name in ("add", "mul", "sum.dim_IntList", "mean.all", "view", "expand", "permute", "transpose", "select",
                 "slice", "mm", "mv", "dot", "bmm", "addmm", "cat", "stack", "softmax.int", "log_softmax.int",
                 "where.self", "index.Tensor", "convolution",
                 "index_put", "batch_norm", "masked_fill.Tensor", "fill.Tensor", "fill_.Scalar", "fill_.Tensor",
                 "copy_", "take", "put", "one_hot", "nll_loss2d", "aminmax", "nanmedian", "renorm",
                 "block_diag.default", "diag.impl", "im2col", "col2im", "max_unpool2d", "multi_margin_loss",
                 "multilabel_margin_loss", "masked_scatter", "_cdist_forward", "_prelu_kernel", "_embedding_bag_impl",
                 "embedding_dense_backward", "_avg_pool2d_backward", "_max_pool_gather", "_max_pool_scatter",
                 "_lstm_cell", "_gru_cell", "_convolution_weight", "_gather_selected", "_scatter_selected"):
        assert rule_of(OPS[name]) is not None, name
    # left to the loop: views of arbitrary strides, and random ops (torch's vmap refuses rrelu)
    assert {n for n in OPS if rule_of(OPS[n]) is None} == {
        "as_strided", "as_strided_backward", "_view_scatter", "rrelu_with_noise", "_rrelu_with_noise_inplace"}


def test_batched_ops_run_once_not_per_element() -> None:
    calls = []
    op = OPS["sin"]
    forward = op.forward
    op.forward = lambda *a: calls.append(1) or forward(*a)
    try:
        vmap(tg.sin)(tg.randn(7, 3))
    finally:
        op.forward = forward
    assert len(calls) == 1


# ---------------------------------------------------------------------------------------
# against torch.func.vmap

def _pair(fn_tg: Any, fn_t: Any, *arrays: np.ndarray, **kw: Any) -> None:
    torch = pytest.importorskip("torch")
    def conv(L: Any, a: Any) -> Any:
        return tuple(L.tensor(x) for x in a) if isinstance(a, tuple) else L.tensor(a)
    got = vmap(fn_tg, **kw)(*[conv(tg, a) for a in arrays])
    want = torch.func.vmap(fn_t, **kw)(*[conv(torch, a) for a in arrays])
    got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.numpy(), w.detach().numpy(), rtol=1e-10, atol=1e-12)


R = np.random.RandomState(0)
A, B = R.randn(4, 3, 5), R.randn(4, 5)


@pytest.mark.parametrize("which", ["pointwise", "reduction", "shape", "matmul", "catstack", "softmax", "where",
                                   "index"])
def test_matches_torch_func_vmap(which: str) -> None:
    f = {
        "pointwise": lambda L: lambda a, b: (a * b).exp() - b.tanh() / 2,
        "reduction": lambda L: lambda a, b: (a.sum(-1), a.mean(0, keepdim=True), a.amax((0, 1)), a.std(1)),
        "shape": lambda L: lambda a, b: (a.transpose(0, 1).reshape(-1, 3).unsqueeze(1).expand(5, 2, 3),
                                         a.permute(1, 0)[1:, :2].flatten(), a.select(1, 2).squeeze()),
        "matmul": lambda L: lambda a, b: (a @ b, b @ a.t(), L.mm(a, a.t()), L.mv(a, b), L.dot(b, b),
                                          L.addmm(b[:3], a, a.t()[:, :3])),
        "catstack": lambda L: lambda a, b: (L.cat([a, b.unsqueeze(0)], 0), L.stack([b, b * 2], -1)),
        "softmax": lambda L: lambda a, b: (a.softmax(-1), a.log_softmax(0)),
        "where": lambda L: lambda a, b: L.where(a > 0, a, b),
        "index": lambda L: lambda a, b: (a[L.tensor([2, 0])], a[:, L.tensor([1, 1, 4])], a[1], b[L.tensor([0, 2])]),
    }[which]
    torch = pytest.importorskip("torch")
    _pair(f(tg), f(torch), A, B)
    _pair(f(tg), f(torch), A, B[0], in_dims=(0, None))


def test_in_dims_out_dims_nested_against_torch() -> None:
    x = R.randn(3, 4, 5)
    _pair(lambda a: a.sum(0), lambda a: a.sum(0), x, in_dims=1)
    _pair(lambda a: a * 2, lambda a: a * 2, x, in_dims=-1, out_dims=1)
    _pair(lambda a, b: (a + b, a), lambda a, b: (a + b, a), x, x[0, :, 0], in_dims=(2, None), out_dims=(0, 1))
    _pair(lambda p: p[0] * p[1], lambda p: p[0] * p[1], (x, x.transpose(1, 0, 2).copy()), in_dims=((0, 1),))
    _pair(lambda a, b: a @ b, lambda a, b: a @ b, x, x.transpose(0, 2, 1).copy())  # batched 3-d matmul
    _pair(lambda a, b: a.clone().mul_(b).add_(1), lambda a, b: a.clone().mul_(b).add_(1), x, x[0], in_dims=(0, None))
    torch = pytest.importorskip("torch")
    got = vmap(vmap(lambda a, b: a @ b, in_dims=(0, None)), in_dims=(None, 0))(tg.tensor(x[0]), tg.tensor(x[:, 0]))
    want = torch.func.vmap(torch.func.vmap(lambda a, b: a @ b, in_dims=(0, None)), in_dims=(None, 0))(
        torch.tensor(x[0]), torch.tensor(x[:, 0]))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    got = vmap(vmap(lambda a: a.softmax(0).sum()), in_dims=1)(tg.tensor(x))
    want = torch.func.vmap(torch.func.vmap(lambda a: a.softmax(0).sum()), in_dims=1)(torch.tensor(x))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_logical_shape_inside_and_chunks() -> None:
    seen = []
    out = vmap(lambda a: seen.append((tuple(a.shape), a.dim(), a.size(-1), len(a))) or a * 1)(tg.randn(6, 2, 3))
    assert seen == [((2, 3), 2, 3, 2)] and tuple(out.shape) == (6, 2, 3)
    x = tg.randn(7, 3)
    np.testing.assert_allclose(vmap(lambda a: a.sum(), chunk_size=3)(x).numpy(), x.sum(1).numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------------------
# composition with reverse mode

def _mlp(L: Any) -> Any:
    L.manual_seed(0)
    return L.nn.Sequential(L.nn.Linear(6, 8), L.nn.Tanh(), L.nn.Linear(8, 3)).double()


def test_per_sample_gradients_of_an_mlp_match_torch() -> None:
    torch = pytest.importorskip("torch")
    x, y = R.randn(5, 6), R.randn(5, 3)
    results = []
    for L in (tg, torch):
        model = _mlp(L)
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, xb, yb, L=L, model=model):
            out = L.func.functional_call(model, p, (xb.unsqueeze(0),))
            return L.nn.functional.mse_loss(out, yb.unsqueeze(0))
        results.append(L.func.vmap(L.func.grad(loss), in_dims=(None, 0, 0))(params, L.tensor(x), L.tensor(y)))
    got, want = results
    for k in want:
        assert tuple(got[k].shape) == tuple(want[k].shape) == (5,) + tuple(_mlp(torch).state_dict()[k].shape)
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-10, atol=1e-12)


def test_per_sample_gradients_of_a_conv_net_match_a_loop() -> None:
    F = tg.nn.functional
    w, x = tg.randn(4, 2, 3, 3, dtype=tg.float64), tg.randn(5, 2, 6, 6, dtype=tg.float64)
    loss = lambda w, xb: F.max_pool2d(F.conv2d(xb.unsqueeze(0), w, padding=1).relu(), 2).pow(2).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback
        got = vmap(grad(loss), in_dims=(None, 0))(w, x)
    want = tg.stack([grad(loss)(w, x[i]) for i in range(5)])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)


def test_grad_of_vmap_and_vjp_over_cotangents() -> None:
    torch = pytest.importorskip("torch")
    x = R.randn(4, 3)
    for L in (tg, torch):
        t = L.tensor(x)
        g = L.func.grad(lambda a: L.func.vmap(lambda r: (r.sin() * r.sum()).sum())(a).sum())(t)
        out, fn = L.func.vjp(lambda a: (a.tanh() @ a.t()).softmax(-1), t)
        j = L.func.vmap(fn)(L.eye(16, dtype=L.float64).reshape(16, 4, 4))[0]
        if L is tg:
            g_tg, j_tg = g, j
    np.testing.assert_allclose(g_tg.numpy(), g.numpy(), rtol=1e-10)
    np.testing.assert_allclose(j_tg.numpy(), j.numpy(), rtol=1e-10, atol=1e-12)


def test_jacrev_is_one_batched_backward() -> None:
    torch = pytest.importorskip("torch")
    w = R.randn(10, 10)
    for L in (tg, torch):
        W = L.tensor(w)
        jac = L.func.jacrev(lambda a: L.tanh(W @ a) * a)(L.tensor(w[0]))
        hess = L.func.hessian(lambda a: (L.tanh(W @ a) * a).sum())(L.tensor(w[0]))
        if L is tg:
            jac_tg, hess_tg = jac, hess
    np.testing.assert_allclose(jac_tg.numpy(), jac.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hess_tg.numpy(), hess.numpy(), rtol=1e-10, atol=1e-12)
    calls = []
    op = OPS["tanh_backward"]
    forward = op.forward
    op.forward = lambda *a: calls.append(1) or forward(*a)
    try:
        jacrev(lambda a: tg.tanh(a) * 2)(tg.randn(9))
    finally:
        op.forward = forward
    assert len(calls) == 1


# ---------------------------------------------------------------------------------------
# fallback and errors

def test_fallback_warns_and_is_correct() -> None:
    x, m = tg.randn(3, 4), tg.randn(3, 4) > 0
    with pytest.raises(RuntimeError, match="Attempted to vmap over `mask`"):  # data-dependent shapes: as torch
        vmap(lambda a, b: a.masked_select(b))(x, m)
    idx = tg.tensor([3, 0, 2])
    with pytest.warns(UserWarning, match="There is a performance drop because we have not yet implemented the "
                                         "batching rule for aten::embedding"):  # a batched table with padding_idx
        got = vmap(lambda w: tg.nn.functional.embedding(idx, w, padding_idx=0))(x.reshape(3, 4, 1))
    np.testing.assert_array_equal(got.numpy(), x.numpy()[:, [3, 0, 2], None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # roll has a rule now
        got = vmap(lambda a: a.roll(1))(x)
    np.testing.assert_array_equal(got.numpy(), np.stack([np.roll(r, 1) for r in x.numpy()]))


def test_errors_match_torch() -> None:
    torch = pytest.importorskip("torch")
    for L in (tg, torch):
        x = L.randn(3, 4)
        with pytest.raises(ValueError, match="must only return Tensors, got type <class 'float'>"):
            L.func.vmap(lambda t: 1.0)(x)
        with pytest.raises(ValueError, match="Got in_dim=2 for some input, but that input is a Tensor of "
                                             "dimensionality 2"):
            L.func.vmap(lambda t: t, in_dims=2)(x)
        with pytest.raises(ValueError, match=r"same size in the mapped dimension, got sizes \[3, 2\]"):
            L.func.vmap(lambda a, b: a)(x, L.randn(2, 4))
        with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
            L.func.vmap(lambda t: t)(1.0)
        with pytest.raises(RuntimeError, match="Only allowed values for randomness are 'error', 'different', or "
                                               "'same'. Got bad"):
            L.func.vmap(lambda t: t, randomness="bad")
        with pytest.raises(RuntimeError, match="called random operation while in randomness error mode"):
            L.func.vmap(lambda t: t + L.rand(4))(x)
        with pytest.raises(RuntimeError, match="It looks like you're calling .item\\(\\) on a Tensor"):
            L.func.vmap(lambda t: t.sum().item())(x)
        same = L.func.vmap(lambda t: t * 0 + L.rand(4), randomness="same")(x)
        assert tuple(same.shape) == (3, 4) and bool((same[0] == same[1]).all())
        with pytest.raises(RuntimeError, match=r"output with shape \[4\] doesn't match the broadcast shape \[3, 4\]"):
            L.func.vmap(lambda a, b: a.add_(b), in_dims=(None, 0))(L.randn(4), x)


def test_autograd_functional_vectorize_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = R.randn(4)
    res = []
    for L in (tg, torch):
        a, b = L.tensor(x), L.tensor(x[::-1].copy())
        jac = L.autograd.functional.jacobian(lambda a, b: (a.sin() * b.sum(), (a * b).exp()), (a, b), vectorize=True)
        hess = L.autograd.functional.hessian(lambda a: (a.tanh() ** 3).sum(), a, vectorize=True, create_graph=True)
        res.append([t.detach().numpy() for row in jac for t in row] + [hess.detach().numpy()])
    for g, w in zip(*res):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", ["vmap_jacrev", "jacrev_vmap", "grad_vmap_grad", "jacfwd_jacrev", "vmap_vjp",
                                  "vmap_vmap_grad"])
def test_compositions_match_torch(case: str) -> None:
    torch = pytest.importorskip("torch")
    x, w = R.randn(3, 4), R.randn(4, 4)
    res = []
    for L in (tg, torch):
        X, W = L.tensor(x), L.tensor(w)
        f = lambda a: (L.tanh(W @ a) * a).sum()
        g = lambda a: L.tanh(W @ a) * a
        res.append({
            "vmap_jacrev": lambda: L.func.vmap(L.func.jacrev(g))(X),
            "jacrev_vmap": lambda: L.func.jacrev(L.func.vmap(g))(X),
            "grad_vmap_grad": lambda: L.func.grad(lambda X: L.func.vmap(L.func.grad(f))(X).sum())(X),
            "jacfwd_jacrev": lambda: L.func.jacfwd(L.func.jacrev(g))(X[0]),
            "vmap_vjp": lambda: L.func.vmap(lambda a: L.func.vjp(g, a)[1](a)[0])(X),
            "vmap_vmap_grad": lambda: L.func.vmap(L.func.vmap(L.func.grad(f)))(X.reshape(3, 1, 4).expand(3, 2, 4)),
        }[case]().detach().numpy())
    assert res[0].shape == res[1].shape
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10, atol=1e-12)


def _random_cases(L: Any) -> dict:
    F = L.nn.functional
    return {
        "rand": lambda t: t + L.rand(4), "randn": lambda t: t + L.randn(4), "rand_like": lambda t: L.rand_like(t),
        "randn_like": lambda t: L.randn_like(t), "randint": lambda t: t + L.randint(0, 1000, (4,)),
        "randint_like": lambda t: L.randint_like(t, 1000), "randperm": lambda t: t + L.randperm(4),
        "normal": lambda t: t + L.normal(0.0, 1.0, (4,)), "dropout": lambda t: F.dropout(t, 0.5),
        "module_dropout": lambda t: L.nn.Dropout(0.5).train()(t), "alpha_dropout": lambda t: F.alpha_dropout(t, 0.5, True),
        "dropout1d": lambda t: F.dropout1d(t.reshape(2, 2), 0.5), "dropout2d": lambda t: F.dropout2d(t.reshape(2, 2, 1)),
        "feature_alpha_dropout": lambda t: F.feature_alpha_dropout(t.reshape(2, 2, 1), 0.5, True),
    }


def _outcome(f: Any, mode: str, L: Any, x: Any) -> Any:
    try:
        r = L.func.vmap(f, randomness=mode)(x)
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return type(e).__name__, str(e)
    same = all(bool((r[0] == r[i]).all()) for i in range(1, r.shape[0]))
    return tuple(r.shape), same


@pytest.mark.parametrize("mode", ["error", "same", "different"])
def test_randomness_matches_torch(mode: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _random_cases(tg), _random_cases(torch)
    for name in ours:
        tg.manual_seed(0)
        torch.manual_seed(0)
        got = _outcome(ours[name], mode, tg, tg.ones(6, 4))
        want = _outcome(theirs[name], mode, torch, torch.ones(6, 4))
        assert got == want, name


def test_randomness_errors_for_tensor_inputs_match_torch() -> None:
    torch = pytest.importorskip("torch")
    for L in (tg, torch):
        x = L.ones(3, 4) * 0.5
        cases = [lambda t: L.bernoulli(t), lambda t: L.normal(t, 1.0), lambda t: L.poisson(t),
                 lambda t: L.multinomial(t, 2)]
        for f in cases:
            with pytest.raises(RuntimeError, match="called random operation while in randomness error mode"):
                L.func.vmap(f)(x)
            with pytest.raises(RuntimeError, match="Vmap does not currently support same randomness with a batched "
                                                   "tensor input"):
                L.func.vmap(f, randomness="same")(x)
        for mode in ("error", "same", "different"):
            with pytest.raises(RuntimeError, match="vmap: we do not yet support aten::rrelu. Please file an issue"):
                L.func.vmap(lambda t: L.nn.functional.rrelu(t, training=True), randomness=mode)(x)
        # dropout of an unbatched tensor draws one mask per element with randomness='different', as torch
        r = L.func.vmap(lambda t: t + L.nn.functional.dropout(L.ones(16)), randomness="different")(L.ones(3, 16))
        assert not bool((r[0] == r[1]).all())


def test_randomness_different_nested_and_per_element_values() -> None:
    x = tg.zeros(2, 3, 5)
    inner_same = vmap(vmap(lambda t: t + tg.rand(5), randomness="same"), randomness="different")(x)
    assert tuple(inner_same.shape) == (2, 3, 5)
    assert bool((inner_same[:, 0] == inner_same[:, 1]).all()) and not bool((inner_same[0] == inner_same[1]).all())
    both = vmap(vmap(lambda t: t + tg.rand(5), randomness="different"), randomness="different")(x)
    flat = both.reshape(6, 5)
    assert len({tuple(r.tolist()) for r in flat}) == 6
    perms = vmap(lambda t: tg.randperm(5) + t, randomness="different")(tg.zeros(50, 5))
    assert all(sorted(p.tolist()) == [0, 1, 2, 3, 4] for p in perms)
    assert len({tuple(p.tolist()) for p in perms}) > 1
    draws = vmap(lambda t: tg.bernoulli(t), randomness="different")(tg.ones(50, 4) * 0.5)  # as torch: runs
    assert tuple(draws.shape) == (50, 4) and len({tuple(r.tolist()) for r in draws}) > 1


def test_detach_inside_vmap_keeps_the_batch() -> None:
    x = tg.randn(3, 4)
    np.testing.assert_allclose(vmap(lambda a: a.detach() * 2)(x).numpy(), x.numpy() * 2)


def test_new_rules_run_without_the_loop_and_match_torch() -> None:
    torch = pytest.importorskip("torch")
    x, y = R.randn(4, 3, 5), R.randn(4, 3)
    tgt = np.array([[0, 2, 4], [1, -100, 3], [2, 2, 0], [4, 1, 1]])
    wt = R.uniform(0.5, 1.5, 5)
    mask = np.array([True, False, True, True, False])
    cases = {
        "roll": (lambda L: lambda a: L.roll(a, 1, 0), lambda L: lambda a: L.roll(a, (2, -1), (1, 0)),
                 lambda L: lambda a: L.roll(a, 3)),
        "cross": (lambda L: lambda a, b: L.linalg.cross(a, b, dim=0),),
        "masked_select": (lambda L: lambda a: L.masked_select(a, L.tensor(mask)),),
        "nll": (lambda L: lambda a, t: L.nn.functional.nll_loss(a, t, weight=L.tensor(wt)),
                lambda L: lambda a, t: L.nn.functional.nll_loss(a, t, reduction="sum"),
                lambda L: lambda a, t: L.nn.functional.nll_loss(a, t, reduction="none")),
    }
    for name, fs in cases.items():
        for make in fs:
            outs = []
            for L in (tg, torch):
                f = make(L)
                if name == "cross":
                    args = (L.tensor(y), L.tensor(y[::-1].copy()))
                elif name == "nll":
                    args = (L.tensor(x), L.tensor(tgt))
                else:
                    args = (L.tensor(x),)
                with warnings.catch_warnings():
                    warnings.simplefilter("error")  # no loop fallback
                    outs.append(L.func.vmap(f)(*args).numpy())
            np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12, err_msg=name)
    for L in (tg, torch):
        with pytest.raises(RuntimeError, match="Attempted to vmap over `mask` in torch.masked_select"):
            L.func.vmap(L.masked_select)(L.tensor(x), L.tensor(x) > 0)


def test_per_sample_grad_through_nll_loss_uses_the_rule() -> None:
    torch = pytest.importorskip("torch")
    x, w = R.randn(6, 5), R.randn(5, 5)
    t = np.array([0, 1, 2, 3, 4, 0])
    outs = []
    for L in (tg, torch):
        W = L.tensor(w)
        f = lambda W, a, k: L.nn.functional.nll_loss(L.log_softmax(a @ W, -1)[None], k[None])
        outs.append(L.func.vmap(L.func.grad(f), in_dims=(None, 0, 0))(W, L.tensor(x), L.tensor(t)).numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------
# indexing, filling, nn kernels and losses: one batched op each, against torch.func.vmap

def _no_fallback_vs_torch(make: Any, *arrays: np.ndarray, in_dims: Any = 0) -> None:
    """vmap(make(L)) in tapegrad (loop fallback an error) and torch agree: values, or exception type and text."""
    torch = pytest.importorskip("torch")
    res = []
    for L in (tg, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error" if L is tg else "ignore")
            try:
                out = L.func.vmap(make(L), in_dims=in_dims)(*[L.tensor(a) for a in arrays])
            except RuntimeError as exc:
                res.append(("raises", str(exc)))
                continue
        outs = out if isinstance(out, tuple) else (out,)
        res.append([o.detach().numpy() for t in outs for o in (t if isinstance(t, tuple) else (t,))])
    got, want = res
    if isinstance(want, tuple) or isinstance(got, tuple):
        assert got == want
        return
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def _setitem(index: Any, value: Any = None) -> Any:
    def make(L: Any) -> Any:
        def f(a: Any, *rest: Any) -> Any:
            a = a.clone()
            idx = index(L, *rest)
            a[idx] = value if value is not None else rest[-1]
            return a
        return f
    return make


_X, _V, _I = R.randn(4, 5, 3), R.randn(4, 2, 3), np.array([[0, 2], [1, 1], [4, 0], [3, 3]])


@pytest.mark.parametrize("case", ["value", "index", "index_value", "split", "accumulate", "accumulate_inplace",
                                  "unbatched_self", "read", "unbatched_self_inplace", "mask"])
def test_index_put_and_index_batched_any_way_match_torch(case: str) -> None:
    make, arrays = {
        "value": (_setitem(lambda L, v: L.tensor([0, 2])), (_X, _V)),
        "index": (_setitem(lambda L, i: i, -1.0), (_X, _I)),
        "index_value": (_setitem(lambda L, i, v: i), (_X, _I, _V)),
        "split": (_setitem(lambda L, i: (i, slice(None), i % 2), 5.0), (R.randn(4, 5, 3, 2), _I)),
        "accumulate": (lambda L: lambda a, i, v: a.index_put((i,), v, accumulate=True), (_X, _I, _V)),
        "accumulate_inplace": (lambda L: lambda a, i, v: a.clone().index_put_((i,), v, accumulate=True),
                               (_X, _I, _V)),
        "unbatched_self": (lambda L: lambda i, v: L.tensor(_X[0]).index_put((i,), v, accumulate=True), (_I, _V)),
        "read": (lambda L: lambda a, i: (a[i], a[:, i % 3], L.tensor(_X[0])[i], a[i, :, i % 3]),
                 (R.randn(4, 5, 3, 3), _I)),
        # torch's errors: an unbatched self written in place, a batched bool mask (data-dependent shape)
        "unbatched_self_inplace": (lambda L: lambda i: L.zeros(5, 3).index_put_((i,), L.tensor(1.0)), (_I,)),
        "mask": (lambda L: lambda a: a.clone().__setitem__(a > 0, 0.0), (_X,)),
    }[case]
    _no_fallback_vs_torch(make, *arrays)


def test_batch_norm_under_vmap_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x, w, b = R.randn(3, 4, 2, 5), R.randn(3, 2), R.randn(3, 2)
    mean, var = R.randn(3, 2), R.uniform(0.5, 1.5, (3, 2))
    F = lambda L: L.nn.functional  # noqa: E731
    _no_fallback_vs_torch(lambda L: lambda a, w, b: F(L).batch_norm(a, None, None, w, b, training=True), x, w, b)
    _no_fallback_vs_torch(lambda L: lambda a, m, v: F(L).batch_norm(a, m, v, training=False), x, mean, var)
    _no_fallback_vs_torch(lambda L: lambda a: F(L).batch_norm(a, L.tensor(mean[0]), L.tensor(var[0])), x)
    # training with unbatched running stats: torch's error
    _no_fallback_vs_torch(lambda L: lambda a: F(L).batch_norm(a, L.zeros(2, dtype=L.float64),
                                                                L.ones(2, dtype=L.float64), training=True), x)
    stats = []
    for L in (tg, torch):  # batched running stats: each batch element's are updated
        m, v = L.tensor(mean), L.tensor(var)
        with warnings.catch_warnings():
            warnings.simplefilter("error" if L is tg else "ignore")
            L.func.vmap(lambda a, m, v: F(L).batch_norm(a, m, v, training=True, momentum=0.3))(L.tensor(x), m, v)
        stats.append((m.numpy(), v.numpy()))
    np.testing.assert_allclose(stats[0], stats[1], rtol=1e-12)


@pytest.mark.parametrize("case", ["multi_margin", "multi_margin_weighted", "multilabel_margin", "nll_loss2d",
                                  "nll_loss2d_none", "cross_entropy_2d"])
def test_nn_losses_under_vmap_match_torch(case: str) -> None:
    x, t = R.randn(4, 3, 5), np.array([[0, 2, 4], [1, 3, 3], [2, 2, 0], [4, 1, 1]])
    x2, t2 = R.randn(4, 2, 5, 3, 3), R.randint(0, 5, (4, 2, 3, 3))
    t2[0, 0, 0, 0] = -100
    ml = np.array([[[0, 2, -1, 0, 0]] * 3] * 4)
    wt = np.arange(1.0, 6.0)
    F = lambda L: L.nn.functional  # noqa: E731
    make, arrays = {
        "multi_margin": (lambda L: lambda a, k: F(L).multi_margin_loss(a, k), (x, t)),
        "multi_margin_weighted": (lambda L: lambda a, k: F(L).multi_margin_loss(a, k, p=2, weight=L.tensor(wt),
                                                                                reduction="sum"), (x, t)),
        "multilabel_margin": (lambda L: lambda a, k: F(L).multilabel_margin_loss(a, k), (x, ml)),
        "nll_loss2d": (lambda L: lambda a, k: F(L).nll_loss(a, k, weight=L.tensor(wt)), (x2, t2)),
        "nll_loss2d_none": (lambda L: lambda a, k: F(L).nll_loss(a, k, reduction="none"), (x2, t2)),
        "cross_entropy_2d": (lambda L: lambda a, k: F(L).cross_entropy(a, k), (x2, t2)),
    }[case]
    _no_fallback_vs_torch(make, *arrays)


@pytest.mark.parametrize("case", ["masked_fill", "fill", "fill_", "copy_", "take", "put", "one_hot", "aminmax",
                                  "nanmedian", "renorm", "block_diag", "diag", "unfold_fold", "max_unpool2d",
                                  "cdist", "prelu", "embedding_bag", "embedding_weight", "masked_scatter",
                                  "fill_unbatched_self"])
def test_other_new_rules_match_torch(case: str) -> None:
    F = lambda L: L.nn.functional  # noqa: E731
    w6 = R.randn(4, 6, 3)
    img = R.randn(3, 2, 2, 4, 4)

    def unpool(L: Any) -> Any:
        def f(a: Any) -> Any:
            o, i = F(L).max_pool2d(a, 2, return_indices=True)
            return F(L).max_unpool2d(o, i, 2, output_size=a.shape[-2:])
        return f
    make, arrays = {
        "masked_fill": (lambda L: lambda a, v: a.masked_fill(a > 0, v), (_X, R.randn(4))),
        "fill": (lambda L: lambda a, v: L.fill(a, v), (_X, R.randn(4))),
        "fill_": (lambda L: lambda a, v: a.clone().fill_(v), (_X, R.randn(4))),
        "fill_unbatched_self": (lambda L: lambda v: L.zeros(2, 3, dtype=L.float64).fill_(v), (R.randn(4),)),
        "copy_": (lambda L: lambda a, b: a.clone().copy_(b), (_X, R.randn(4, 3))),
        "take": (lambda L: lambda a, i: (a.take(i), a.take(L.tensor([-1, 3]))), (_X, _I)),
        "put": (lambda L: lambda a, i, v: a.put(i, v[:, 0], accumulate=True), (_X, _I, _V)),
        "one_hot": (lambda L: lambda i: F(L).one_hot(i, 6), (_I,)),
        "aminmax": (lambda L: lambda a: (L.aminmax(a), L.aminmax(a, dim=1, keepdim=True)), (_X,)),
        "nanmedian": (lambda L: lambda a: a.nanmedian(), (_X,)),
        "renorm": (lambda L: lambda a: a.renorm(2, 1, 1.0), (_X,)),
        "block_diag": (lambda L: lambda a, b: L.block_diag(a, b[0], L.tensor([[1.0]]), b[0, 0]), (_X, _V)),
        "diag": (lambda L: lambda a: (L.diag(a[0], 1), L.diag(a, -1)), (_X,)),
        "unfold_fold": (lambda L: lambda a: (F(L).unfold(a, 2), F(L).unfold(a[0], 3),
                                             F(L).fold(F(L).unfold(a, 2, stride=2), (4, 4), 2, stride=2)), (img,)),
        "max_unpool2d": (unpool, (img,)),
        "cdist": (lambda L: lambda a, b: (L.cdist(a, b), L.cdist(a, L.tensor(_V[0]))), (_X, _V)),
        "prelu": (lambda L: lambda a, w: F(L).prelu(a, w), (_X, R.rand(4, 3))),
        "embedding_bag": (lambda L: lambda i, w: (F(L).embedding_bag(i, w, L.tensor([0, 1]), mode="mean"),
                                                  F(L).embedding_bag(i.reshape(1, 2), L.tensor(w6[0]), mode="max")),
                          (_I, w6)),
        "embedding_weight": (lambda L: lambda i, w: F(L).embedding(i, w), (_I, w6)),
        "masked_scatter": (lambda L: lambda a, s: a.masked_scatter(a > 0, s), (_X, R.randn(4, 20))),
    }[case]
    _no_fallback_vs_torch(make, *arrays)


def test_per_sample_gradients_through_new_rules_match_a_loop() -> None:
    """vmap(grad) batches the parameters: embedding, embedding_bag, LSTM/GRU cells, batch norm, pools,
    unfold/fold and their backward entries run without the loop (torch itself cannot vmap the cells)."""
    x, k = R.randn(5, 4), R.randint(0, 7, (5, 4))
    cases = [
        (lambda: tg.nn.Sequential(tg.nn.Embedding(7, 3), tg.nn.Flatten(), tg.nn.Linear(12, 2)), k),
        (lambda: tg.nn.EmbeddingBag(7, 3, mode="mean"), k),
        (lambda: tg.nn.LSTM(4, 3, batch_first=True), R.randn(5, 6, 4)),
        (lambda: tg.nn.GRUCell(4, 3), x),
        (lambda: tg.nn.Sequential(tg.nn.Conv2d(2, 3, 3), tg.nn.BatchNorm2d(3, track_running_stats=False),
                                  tg.nn.AvgPool2d(2)), R.randn(5, 2, 6, 6)),
        (lambda: tg.nn.Sequential(tg.nn.Unfold(2), tg.nn.PReLU(), tg.nn.Fold((5, 5), 2)), R.randn(5, 2, 5, 5)),
    ]
    for build, data in cases:
        tg.manual_seed(0)
        m = build().double()
        params = {n: p.detach() for n, p in m.named_parameters()}

        def loss(p: Any, xb: Any) -> Any:
            out = tg.func.functional_call(m, p, (xb.unsqueeze(0),))
            out = out[0] if isinstance(out, tuple) else out
            return (out ** 2).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = vmap(grad(loss), in_dims=(None, 0))(params, tg.tensor(data))
        for n in params:
            want = tg.stack([grad(loss)(params, tg.tensor(data[b]))[n] for b in range(5)])
            np.testing.assert_allclose(got[n].numpy(), want.numpy(), rtol=1e-9, atol=1e-12, err_msg=n)


def test_hessians_through_pools_batch_their_backward_formulas() -> None:
    torch = pytest.importorskip("torch")
    w0, x0 = R.randn(2, 2, 2, 2), R.randn(1, 2, 5, 5)
    res = []
    for L in (tg, torch):
        F = L.nn.functional
        f = lambda w: (F.max_pool2d(F.conv2d(L.tensor(x0), w), 2).tanh() ** 2).sum() + (  # noqa: E731
            F.avg_pool2d(F.conv2d(L.tensor(x0), w), 2) ** 3).sum()
        with warnings.catch_warnings():
            warnings.simplefilter("error" if L is tg else "ignore")
            res.append(L.func.hessian(f)(L.tensor(w0)).numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-9, atol=1e-12)
