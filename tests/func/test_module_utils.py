"""torch.func.stack_module_state (ensembles under vmap), replace_all_batch_norm_modules_, functionalize,
debug_unwrap: against torch."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import tapegrad as tg


def _ensemble(L: Any) -> list:
    L.manual_seed(0)
    models = [L.nn.Sequential(L.nn.Linear(3, 4), L.nn.Tanh(), L.nn.Linear(4, 2)) for _ in range(5)]
    params, buffers = L.func.stack_module_state(models)
    meta = [(k, tuple(v.shape), v.requires_grad, v.is_leaf) for k, v in params.items()]
    base = copy.deepcopy(models[0]).to("meta")
    x = L.randn(7, 3)
    out = L.func.vmap(lambda p, b, xb: L.func.functional_call(base, (p, b), (xb,)), in_dims=(0, 0, None))(
        params, buffers, x)
    out.pow(2).sum().backward()
    loop = L.stack([m(x) for m in models])
    return [meta, out.detach().numpy(), params["0.weight"].grad.numpy(), loop.detach().numpy()]


def test_ensemble_with_stack_module_state_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    got, want = _ensemble(tg), _ensemble(torch)
    assert got[0] == want[0]
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], got[3], rtol=1e-6)  # the vmapped ensemble is the loop over models


def test_stack_module_state_errors_match_torch() -> None:
    torch = pytest.importorskip("torch")
    cases = [lambda L: [], lambda L: [L.nn.Linear(3, 4), L.nn.Linear(3, 4).eval()],
             lambda L: [L.nn.Linear(3, 4), L.nn.Conv1d(3, 4, 1)]]
    for make in cases:
        msgs = []
        for L in (tg, torch):
            with pytest.raises(RuntimeError) as info:
                L.func.stack_module_state(make(L))
            msgs.append(str(info.value))
        assert msgs[0] == msgs[1]


def test_batch_norm_without_running_stats_runs_under_vmap() -> None:
    torch = pytest.importorskip("torch")
    outs = []
    for L in (tg, torch):
        L.manual_seed(0)
        m = L.nn.Sequential(L.nn.Linear(3, 4), L.nn.BatchNorm1d(4))
        assert L.func.replace_all_batch_norm_modules_(m) is m
        assert m[1].running_mean is None and m[1].running_var is None and not m[1].track_running_stats
        x = L.tensor(np.random.RandomState(1).randn(2, 5, 3).astype(np.float32))
        outs.append(L.func.vmap(m)(x).detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_functionalize_and_debug_unwrap() -> None:
    torch = pytest.importorskip("torch")
    x = tg.zeros(2)
    assert tg.func.functionalize(lambda t: t.add_(1))(x).tolist() == [1.0, 1.0]
    assert x.tolist() == [1.0, 1.0]  # input mutations are written back, as torch's
    msgs = []
    for L in (tg, torch):
        with pytest.raises(RuntimeError) as info:
            L.func.functionalize(lambda t: t, remove="x")
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]
    seen = []
    tg.func.vmap(lambda a: seen.append(tg.func.debug_unwrap(a)) or a)(tg.ones(2, 3))
    assert tuple(seen[0].shape) == (2, 3)
    plain = tg.ones(2)
    assert tg.func.debug_unwrap(plain) is plain


def test_functional_call_key_errors_match_torch() -> None:
    torch = pytest.importorskip("torch")
    msgs = []
    for L in (tg, torch):
        m = L.nn.Sequential(L.nn.Linear(3, 2), L.nn.BatchNorm1d(2))
        x = L.ones(4, 3)
        got = []
        for dicts, kw in [({"0.weight": L.ones(2, 3)}, {"strict": True}),
                          ({"0.weight": L.ones(2, 3), "bogus": L.ones(1)}, {"strict": True}),
                          (({"0.weight": L.ones(2, 3), "0.bias": L.ones(2)}, {"0.weight": L.ones(2, 3),
                                                                              "0.bias": L.ones(2)}), {})]:
            with pytest.raises((RuntimeError, ValueError)) as info:
                L.func.functional_call(m, dicts, (x,), **kw)
            got.append((type(info.value).__name__, str(info.value)))
        msgs.append(got)
    assert msgs[0] == msgs[1]
