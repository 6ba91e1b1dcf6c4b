"""Random ops under vmap (randomness='error' / 'same' / 'different') against torch: the values
after manual_seed(0), the errors, nested levels, and the *_like / multinomial layouts outside vmap."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tapegrad as tg

MODES = ("error", "same", "different")


def _cases(L: Any) -> dict:
    half = lambda: L.ones(5) * 0.5  # noqa: E731 - an unbatched tensor made inside vmap
    return {
        "bernoulli": lambda t: L.bernoulli(t),
        "bernoulli_p": lambda t: L.bernoulli(t, 0.3),
        "Tensor.bernoulli": lambda t: t.bernoulli(),
        "normal_t_f": lambda t: L.normal(t, 2.0),
        "normal_f_t": lambda t: L.normal(1.0, t),
        "normal_t_t": lambda t: L.normal(t, t),
        "normal_t_unbatched": lambda t: L.normal(t, half()),
        "normal_unbatched_t": lambda t: L.normal(half(), t),
        "multinomial": lambda t: L.multinomial(t, 3),
        "multinomial_replacement": lambda t: L.multinomial(t, 7, replacement=True),
        "Tensor.multinomial": lambda t: t.multinomial(2),
        "rand_like": lambda t: L.rand_like(t),
        "randn_like": lambda t: L.randn_like(t),
        "randint_like": lambda t: L.randint_like(t, 3, 10),
        "rand_like_transposed": lambda t: L.rand_like(t.reshape(5, 1).t()),
        "uniform_": lambda t: t.clone().uniform_(2, 3),
        "normal_": lambda t: t.clone().normal_(1, 2),
        "random_": lambda t: t.clone().random_(10),
        "random_full": lambda t: t.clone().random_(),
        "bernoulli_float": lambda t: t.clone().bernoulli_(0.3),
        "bernoulli_tensor": lambda t: t.clone().bernoulli_(t),
        "bernoulli_unbatched_p": lambda t: t.clone().bernoulli_(half()),
        "exponential_": lambda t: t.clone().exponential_(2),
        "geometric_": lambda t: t.clone().geometric_(0.3),
        "log_normal_": lambda t: t.clone().log_normal_(),
        "cauchy_": lambda t: t.clone().cauchy_(),
        "unbatched_uniform_": lambda t: L.zeros(5).uniform_() + t,
        "unbatched_normal_": lambda t: L.zeros(5).normal_() + t,
        "unbatched_bernoulli_batched_p": lambda t: L.zeros(5).bernoulli_(t),
        "unbatched_bernoulli_float": lambda t: L.zeros(5).bernoulli_(0.5) + t,
        "unbatched_bernoulli": lambda t: L.bernoulli(half()) + t,
        "unbatched_normal": lambda t: L.normal(L.zeros(5), 1.0) + t,
        "unbatched_multinomial": lambda t: L.multinomial(L.ones(5), 2),
        "unbatched_rand_like": lambda t: L.rand_like(L.ones(5)) + t,
        "unbatched_randint_like": lambda t: L.randint_like(L.ones(5), 10) + t,
        "rand": lambda t: t + L.rand(5),
        "randperm": lambda t: t + L.randperm(5),
    }


_X = np.random.RandomState(0).rand(3, 5).astype(np.float32) * 0.8 + 0.1


def _outcome(L: Any, run: Any) -> Any:
    L.manual_seed(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = run()
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return type(e).__name__, str(e)
    return r.detach().numpy()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return a == b
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("in_dims", [0, 1])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(_cases(tg)))
def test_random_op_under_vmap_matches_torch(name: str, mode: str, in_dims: int) -> None:
    torch = pytest.importorskip("torch")
    x = _X if in_dims == 0 else np.ascontiguousarray(_X.T)
    outs = []
    for L in (tg, torch):
        f = _cases(L)[name]
        outs.append(_outcome(L, lambda: L.func.vmap(f, in_dims=in_dims, randomness=mode)(L.from_numpy(x.copy()))))
    assert _same(*outs), (outs[0], outs[1])


_NESTED = ("bernoulli", "normal_t_t", "multinomial", "rand_like", "randn_like", "uniform_", "normal_", "bernoulli_float",
           "bernoulli_tensor", "bernoulli_unbatched_p", "unbatched_uniform_", "unbatched_bernoulli_batched_p",
           "unbatched_bernoulli", "rand", "randperm")


@pytest.mark.parametrize("perm", [(0, 1, 2), (1, 0, 2)])
@pytest.mark.parametrize("name", _NESTED)
def test_nested_vmap_matches_torch(name: str, perm: tuple) -> None:
    torch = pytest.importorskip("torch")
    x = np.ascontiguousarray(np.random.RandomState(1).rand(2, 3, 5).astype(np.float32).transpose(perm)) * 0.8 + 0.1
    for inner in MODES:
        for outer in MODES:
            outs = []
            for L in (tg, torch):
                f = _cases(L)[name]
                vm = L.func.vmap
                outs.append(_outcome(L, lambda: vm(vm(f, randomness=inner), randomness=outer)(L.from_numpy(x.copy()))))
            assert _same(*outs), (inner, outer, outs[0], outs[1])


def test_inplace_levels_match_torch() -> None:
    """A tensor batched at the outer level only, an unbatched p at an outer level, 'same' inside 'different'."""
    torch = pytest.importorskip("torch")
    for inner in MODES:
        for outer in MODES:
            outs = []
            for L in (tg, torch):
                vm = L.func.vmap
                runs = [
                    lambda: vm(lambda s: vm(lambda t: s.clone().uniform_() + t, randomness=inner)(L.zeros(3, 4)),
                               randomness=outer)(L.zeros(2, 4)),
                    lambda: vm(lambda p: vm(lambda t: t.bernoulli_(p), randomness=inner)(L.zeros(3, 5)),
                               randomness=outer)(L.rand(2, 5)),
                    lambda: vm(lambda s: vm(lambda t: t.clone().bernoulli_(0.5), randomness=inner)(s),
                               randomness=outer)(L.zeros(2, 3, 4)),
                ]
                outs.append([_outcome(L, r) for r in runs])
            for a, b in zip(*outs):
                assert _same(a, b), (inner, outer, a, b)


def test_poisson_under_vmap_batches_like_torch() -> None:
    """torch's Poisson sampler is not reproduced: shapes, errors and sameness across the batch match."""
    torch = pytest.importorskip("torch")
    for mode in MODES:
        for f in (lambda L, t: L.poisson(t * 5), lambda L, t: L.poisson(L.ones(5) * 4) + t):
            outs = []
            for L in (tg, torch):
                o = _outcome(L, lambda: L.func.vmap(lambda t: f(L, t), randomness=mode)(L.from_numpy(_X.copy())))
                outs.append(o if isinstance(o, tuple) else (o.shape, all(np.array_equal(o[0], r) for r in o)))
            assert outs[0] == outs[1]
    tg.manual_seed(0)
    r = tg.func.vmap(lambda t: tg.poisson(t), randomness="different")(tg.full((200, 50), 3.0))
    assert abs(float(r.mean()) - 3.0) < 0.1 and len({tuple(row.tolist()) for row in r}) == 200


def test_errors_match_torch() -> None:
    torch = pytest.importorskip("torch")
    outs = []
    for L in (tg, torch):
        vm = L.func.vmap
        d = "different"
        runs = [
            lambda: vm(lambda t: t.clone().bernoulli_(L.ones(3) * 0.5), randomness=d)(L.zeros(3, 5)),
            lambda: vm(lambda t: t.clone().bernoulli_(L.ones(2, 5) * 0.5), randomness=d)(L.zeros(3, 5)),
            lambda: vm(lambda t: t.clone().bernoulli_(t * 2), randomness=d)(L.ones(3, 5)),
            lambda: vm(lambda t: L.multinomial(t.reshape(1, 1, 5), 2), randomness=d)(L.ones(3, 5)),
            lambda: vm(lambda t: L.multinomial(t, 9), randomness=d)(L.ones(3, 5)),
            lambda: vm(lambda t: L.normal(t, -1.0), randomness=d)(L.ones(3, 5)),
            lambda: vm(lambda t: L.normal(t, -t), randomness=d)(L.ones(3, 5)),
            lambda: vm(lambda t: t.uniform_(3, 2))(L.ones(3, 5)),  # randomness='error' is checked first
            lambda: vm(lambda t: t.uniform_(3, 2), randomness=d)(L.ones(3, 5)),
            lambda: vm(lambda t: L.zeros(5).uniform_(3, 2), randomness=d)(L.ones(3, 5)),
            lambda: vm(lambda t: L.randint_like(t, 5, 2), randomness=d)(L.ones(3, 5)),
        ]
        outs.append([_outcome(L, r) for r in runs])
    for a, b in zip(*outs):
        assert isinstance(a, tuple) and a == b


def test_autograd_and_layouts_under_vmap_match_torch() -> None:
    torch = pytest.importorskip("torch")
    outs = []
    for L in (tg, torch):
        vm = L.func.vmap
        d = "different"
        got = []
        x = L.zeros(3, 4, requires_grad=True)
        r = vm(lambda t: L.normal(t, 1.0), randomness=d)(x)
        r.sum().backward()
        got += [type(r.grad_fn).__name__, x.grad.numpy()]
        x = L.zeros(3, 4, requires_grad=True)
        r = vm(lambda t: (t * 1).normal_(), randomness=d)(x)
        r.sum().backward()
        got += [type(r.grad_fn).__name__, x.grad.numpy()]

        def fill_view(t: Any) -> Any:
            t[1:3].uniform_()
            return t
        runs = [
            lambda: vm(fill_view, randomness=d)(L.zeros(3, 4, 6)),
            lambda: vm(lambda t: t.t().normal_(), randomness=d, in_dims=2)(L.zeros(3, 4, 6)),
            lambda: vm(L.func.grad(lambda t: (L.bernoulli(t.detach() * 0 + 0.5) * t).sum()), randomness=d)(L.ones(3, 4)),
            lambda: vm(lambda t: t.clone().normal_(), randomness=d)(L.zeros(2, 20)),  # the 16-wide normal path
            lambda: vm(lambda t: t.clone().normal_(), randomness="same")(L.zeros(2, 20)),
            lambda: vm(lambda t: t.clone().normal_(), randomness=d, in_dims=1)(L.zeros(20, 2)),
            lambda: vm(lambda t: L.randn_like(t), randomness=d, in_dims=1)(L.zeros(20, 2)),
            lambda: vm(lambda t: L.bernoulli(t), randomness=d, chunk_size=2)(L.ones(5, 3) * 0.5),
            lambda: vm(lambda t: t.random_(), randomness=d)(L.zeros(2, 3, dtype=L.int32)),
            lambda: vm(lambda t: t.clone().bernoulli_(L.full((4, 1), 0.5)), randomness=d)(L.zeros(3, 4, 5)),
        ]
        got += [_outcome(L, r) for r in runs]
        outs.append(got)
    for a, b in zip(*outs):
        assert _same(a, b) if not isinstance(a, str) else a == b


def test_like_factories_and_multinomial_follow_the_input_layout() -> None:
    """Outside vmap: *_like draw in the memory order of a tensor with the input's stride order (as
    torch's empty_like), multinomial's noise likewise; bernoulli_'s expand errors."""
    torch = pytest.importorskip("torch")
    base = np.random.RandomState(1).rand(4, 4, 3).astype(np.float32)
    outs = []
    for L in (tg, torch):
        b = L.from_numpy(base.copy())
        runs = [
            lambda: L.rand_like(b.permute(2, 0, 1)), lambda: L.randn_like(b.transpose(0, 2)),
            lambda: L.randn_like(L.zeros(5, 8).t()), lambda: L.randint_like(b.transpose(0, 1), 100),
            lambda: L.rand_like(L.zeros(4, 1).expand(4, 3)), lambda: L.rand_like(b[:, ::2]),
            lambda: L.zeros(4, 4).t().bernoulli_(b[:, :, 0]), lambda: L.bernoulli(b.transpose(0, 2), 0.5),
            lambda: L.multinomial(b[:, :, 0].t(), 2), lambda: L.multinomial(b[:, :, 0].t(), 1),
            lambda: L.multinomial(b[:, 0].t().contiguous().t(), 3),
            lambda: L.zeros(5).bernoulli_(L.ones(3) * .5), lambda: L.zeros(3, 5).bernoulli_(L.ones(2, 5) * .5),
            lambda: L.zeros(5).bernoulli_(L.ones(2, 5) * .5),
        ]
        got = []
        for r in runs:
            o = _outcome(L, lambda: r())
            L.manual_seed(0)
            got.append(o if isinstance(o, tuple) else (o, r().stride()))
        outs.append(got)
    for a, b in zip(*outs):
        assert _same(a[0], b[0]) and a[1] == b[1] if not isinstance(a[0], str) else a == b


def test_different_draws_differ_and_same_draws_agree() -> None:
    x = tg.full((4, 6), 0.5)
    for f in (lambda t: tg.bernoulli(t), lambda t: t.clone().uniform_(), lambda t: tg.rand_like(t),
              lambda t: tg.multinomial(t, 3)):
        r = tg.func.vmap(f, randomness="different")(x)
        assert len({tuple(row.tolist()) for row in r}) > 1
    for f in (lambda t: t.clone().uniform_(), lambda t: tg.rand_like(t), lambda t: t.clone().bernoulli_(0.5)):
        r = tg.func.vmap(f, randomness="same")(x)
        assert all(r[i].equal(r[0]) for i in range(4))
