"""torch.utils.checkpoint: same gradients, recomputation, RNG replay, warnings/errors, memory."""
import gc
import tracemalloc
import warnings

import numpy as np
import pytest

import tapegrad
from tapegrad.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")

X = np.random.default_rng(0).standard_normal((4, 3))


def mlp(T, width=3, layers=4):
    T.manual_seed(0)
    mods = []
    for _ in range(layers):
        mods += [T.nn.Linear(width, width).double(), T.nn.Tanh()]
    return T.nn.Sequential(*mods)


def block(a):
    return (a * 2).sin() * a.exp()


@pytest.mark.parametrize("reentrant", [False, True])
def test_gradients_equal_plain(reentrant):
    x = tapegrad.tensor(X, requires_grad=True)
    block(x).sum().backward()
    plain = x.grad.numpy().copy()
    x.grad = None
    y = checkpoint(block, x, use_reentrant=reentrant)
    assert y.grad_fn.name() == ("CheckpointFunctionBackward" if reentrant else "MulBackward0")
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), plain)


@pytest.mark.parametrize("reentrant", [False, True])
def test_sequential_matches_torch(reentrant):
    grads = []
    for T in (tapegrad, torch):
        model = mlp(T)
        x = T.tensor(X, requires_grad=True)
        out = checkpoint_sequential(model, 2, x, use_reentrant=reentrant) if T is tapegrad else \
            T.utils.checkpoint.checkpoint_sequential(model, 2, x, use_reentrant=reentrant)
        out.pow(2).sum().backward()
        grads.append([x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()])
    for g, e in zip(*grads):
        np.testing.assert_allclose(g, e, rtol=1e-10)


def test_activations_are_recomputed_once_per_backward():
    calls = []

    def fn(a):
        calls.append(1)
        return a.exp().exp()
    x = tapegrad.tensor(X, requires_grad=True)
    y = checkpoint(fn, x, use_reentrant=False)
    assert len(calls) == 1
    y.sum().backward(retain_graph=True)
    assert len(calls) == 2
    y.sum().backward()  # retain_graph: recomputed again, as torch allows
    assert len(calls) == 3
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(X) * np.exp(np.exp(X)) * np.exp(X) / np.exp(X))


def test_rng_state_is_replayed():
    def noisy(a):
        return a * tapegrad.rand(a.shape, dtype=tapegrad.float64)
    for preserve in (True, False):
        tapegrad.manual_seed(1)
        x = tapegrad.tensor(X, requires_grad=True)
        y = checkpoint(noisy, x, use_reentrant=False, preserve_rng_state=preserve)
        mask = (y / x).detach().numpy()
        y.sum().backward()
        same = np.allclose(x.grad.numpy(), mask)
        assert same is preserve


def test_reentrant_rng_state_is_replayed():
    tapegrad.manual_seed(1)
    x = tapegrad.tensor(X, requires_grad=True)
    y = checkpoint(lambda a: a * tapegrad.rand(a.shape, dtype=tapegrad.float64), x, use_reentrant=True)
    mask = (y / x).detach().numpy()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mask)


def test_warnings_and_errors_match_torch():
    def run(T, mod):
        out = []
        x = T.tensor(X, requires_grad=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            mod.checkpoint(block, x)
            mod.checkpoint_sequential(mlp(T), 2, x)
            mod.checkpoint(block, T.tensor(X), use_reentrant=True)
        out.append([str(m.message) for m in w])
        for call in (lambda: mod.checkpoint(lambda a, b=1: a * b, x, b=2, use_reentrant=True),
                     lambda: T.autograd.grad(mod.checkpoint(block, x, use_reentrant=True).sum(), x),
                     lambda: mod.checkpoint_sequential(mlp(T), 2, x, use_reentrant=False, foo=1)):
            try:
                call()
                out.append(None)
            except (RuntimeError, ValueError) as exc:
                out.append((type(exc).__name__, str(exc)))
        return out
    assert run(tapegrad, tapegrad.utils.checkpoint) == run(torch, torch.utils.checkpoint)


def test_grad_and_create_graph_without_reentrant():
    x = tapegrad.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    (g,) = tapegrad.autograd.grad(checkpoint(block, x, use_reentrant=False).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad(torch.utils.checkpoint.checkpoint(block, tx, use_reentrant=False).sum(), tx,
                                create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy())
    (g2,) = tapegrad.autograd.grad(g.sum(), x)
    (tg2,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(g2.numpy(), tg2.numpy())


def test_recomputation_mismatch_raises():
    state = {"n": 0}

    def changing(a):
        state["n"] += 1
        return a.exp() if state["n"] == 1 else a.exp().exp()
    x = tapegrad.tensor(X, requires_grad=True)
    y = checkpoint(changing, x, use_reentrant=False, early_stop=False)
    with pytest.raises(CheckpointError, match="trying to save more tensors during recomputation"):
        y.sum().backward()


def _peak(segments):
    model = mlp(tapegrad, width=256, layers=12)
    for p in model.parameters():
        p.grad = tapegrad.zeros_like(p)
    x = tapegrad.tensor(np.random.default_rng(1).standard_normal((128, 256)), requires_grad=True)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    out = checkpoint_sequential(model, segments, x, use_reentrant=False) if segments else model(x)
    out.square().mean().backward()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def test_peak_memory_drops():
    plain = _peak(0)
    checkpointed = _peak(4)
    assert checkpointed < 0.8 * plain, (checkpointed, plain)


def test_set_checkpoint_early_stop_and_debug_contexts_as_torch():
    runs = []
    for L in (tapegrad, torch):
        from importlib import import_module
        ck = import_module(L.__name__ + ".utils.checkpoint")
        reached = []

        def f(x):
            y = x.sin().exp()
            reached.append(1)  # after the last saved tensor: early stop skips it in recomputation
            return y * 2
        x = L.randn(3, requires_grad=True)
        ck.checkpoint(f, x, use_reentrant=False).sum().backward()
        with ck.set_checkpoint_early_stop(False):
            out = ck.checkpoint(f, x, use_reentrant=False)
        out.sum().backward()
        with ck.set_checkpoint_debug_enabled(True):
            ck.checkpoint(f, x, use_reentrant=False).sum().backward()
        runs.append(len(reached))
    assert runs[0] == runs[1] == 4  # 1 + (1 + 1) + 1: only the run without early stop recomputes past exp
