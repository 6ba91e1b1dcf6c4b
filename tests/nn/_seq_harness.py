"""Shared helpers for the sequence-layer tests: copy torch's weights across, compare outputs and gradients."""
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-5)}


def to_tg(t, requires_grad=False):
    """A tapegrad copy of a torch tensor (same dtype), optionally a leaf requiring grad."""
    out = tapegrad.from_numpy(t.detach().numpy().copy())
    return out.requires_grad_(True) if requires_grad else out


def flat(out):
    """Every tensor of a nested (tuple/list) module output, PackedSequence data included."""
    if out is None:
        return []
    if hasattr(out, "batch_sizes"):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def close(a, b, dtype="float64", what=""):
    """Assert a torch tensor and a tapegrad tensor (or arrays) hold the same values."""
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(b, a, err_msg=what, **TOL[dtype])


def pair(name, *args, dtype="float64", seed=0, **kwargs):
    """(torch module, tapegrad module) built from the same seed, torch's weights copied across in `dtype`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        tm = getattr(torch.nn, name)(*args, **kwargs)
        tapegrad.manual_seed(seed)
        gm = getattr(tapegrad.nn, name)(*args, **kwargs)
    tm.to(getattr(torch, dtype))
    gm.to(getattr(tapegrad, dtype))
    result = gm.load_state_dict({k: to_tg(v) for k, v in tm.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return tm, gm


def same_init(name, *args, **kwargs):
    """Assert the same seed gives torch's state_dict: keys, shapes and exact values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(3)
        tm = getattr(torch.nn, name)(*args, **kwargs)
        tapegrad.manual_seed(3)
        gm = getattr(tapegrad.nn, name)(*args, **kwargs)
    ts, gs = tm.state_dict(), gm.state_dict()
    assert list(ts) == list(gs)
    for k in ts:
        np.testing.assert_array_equal(gs[k].numpy(), ts[k].numpy(), err_msg=k)
    assert repr(gm) == repr(tm)
    return tm, gm


def compare_grads(t_outs, g_outs, t_leaves, g_leaves, dtype="float64", seed=0):
    """Backward a random weighting of all outputs in both libraries and compare the leaves' gradients."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_outs]
    sum((t * torch.from_numpy(w)).sum() for t, w in zip(t_outs, weights)).backward()
    sum((g * tapegrad.from_numpy(w)).sum() for g, w in zip(g_outs, weights)).backward()
    for i, (a, b) in enumerate(zip(t_leaves, g_leaves)):
        if a.grad is None:
            assert b.grad is None, f"leaf {i}: tapegrad has a gradient torch does not"
            continue
        assert b.grad is not None, f"leaf {i}: no gradient"
        close(a.grad, b.grad, dtype, f"grad of leaf {i}")


def outcome(lib, scenario):
    """scenario(lib), or (exception type name, message) when it raises."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return scenario(lib)
        except Exception as exc:  # the error itself is what is compared
            return (type(exc).__name__, str(exc))
