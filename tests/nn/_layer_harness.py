"""Run the same layer in tapegrad and torch (the specification) and compare everything a user sees.

`check_layer(make, *inputs)` builds the layer in both libraries from the same seed, asserts the
same repr, state_dict keys, shapes and initial values (the generators are bit-identical), copies
torch's state across (after casting both to `dtype`), runs the forward in train and eval mode
(re-seeding before each, so dropout masks can be compared), and compares the outputs, the grad_fn
name, the gradients of the floating inputs and of the parameters, and the buffers afterwards
(running statistics).
"""
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

# Known differences from torch that lie in nn.functional / the op table, not in the layers: test id
# -> reason. They are marked xfail (not strict), so a fix shows up as XPASS.
KNOWN_FUNCTIONAL_GAPS: dict[str, str] = {
}


def known(key):
    """pytest marks for a test id listed in KNOWN_FUNCTIONAL_GAPS (none otherwise)."""
    reason = KNOWN_FUNCTIONAL_GAPS.get(key)
    return [pytest.mark.xfail(reason=reason, strict=False)] if reason else []


TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6)}


def _numpy(t):
    return t.detach().numpy()


def _tensors(lib, inputs, dtype, const=()):
    out = []
    for i, a in enumerate(inputs):
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                t = lib.from_numpy(a.astype(dtype)).requires_grad_(i not in const)
            else:
                t = lib.from_numpy(a.copy())
        else:
            t = a
        out.append(t)
    return out


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _assert_close(a, b, tol, what):
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    np.testing.assert_allclose(a, b, err_msg=what, **tol)


def _run(lib, module, inputs, dtype, seed, call, const):
    ts = _tensors(lib, inputs, dtype, const)
    lib.manual_seed(seed)
    out = call(module, *ts) if call is not None else module(*ts)
    outs = _flat(out)
    names = [None if o.grad_fn is None else type(o.grad_fn).__name__ for o in outs]
    values = [_numpy(o) for o in outs]
    grads = None
    float_outs = [o for o in outs if o.requires_grad]
    if float_outs:
        total = 0
        for i, o in enumerate(float_outs):
            w = np.random.RandomState(7 + i).uniform(-1, 1, tuple(o.shape)).astype(_numpy(o).dtype)
            total = total + (o * lib.from_numpy(w)).sum()
        total.backward()
        grads = [None if (not isinstance(t, lib.Tensor) or t.grad is None) else _numpy(t.grad) for t in ts]
        grads += [None if p.grad is None else _numpy(p.grad) for _, p in module.named_parameters()]
        module.zero_grad()
    buffers = {k: _numpy(v) for k, v in module.named_buffers()}
    return values, names, grads, buffers


def build_pair(make, seed=0):
    """(tapegrad layer, torch layer) built by make(nn) after seeding each library with `seed`."""
    tapegrad.manual_seed(seed)
    ours = make(tapegrad.nn)
    torch.manual_seed(seed)
    theirs = make(torch.nn)
    return ours, theirs


def check_init(ours, theirs):
    """Same repr, same state_dict keys/shapes/dtypes and the same initial values, exactly."""
    assert repr(ours) == repr(theirs)
    sd1, sd2 = ours.state_dict(), theirs.state_dict()
    assert list(sd1.keys()) == list(sd2.keys())
    for k in sd2:
        assert tuple(sd1[k].shape) == tuple(sd2[k].shape), k
        np.testing.assert_array_equal(_numpy(sd1[k]), _numpy(sd2[k]), err_msg=k)
        assert _numpy(sd1[k]).dtype == _numpy(sd2[k]).dtype, k
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [p.requires_grad for p in ours.parameters()] == [p.requires_grad for p in theirs.parameters()]


def copy_state(ours, theirs):
    """Load torch's parameter and buffer values into the tapegrad layer."""
    state = {k: tapegrad.from_numpy(_numpy(v).copy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state)


def check_layer(make, *inputs, dtype="float64", modes=("train", "eval"), call=None, seed=0, steps=1,
                names=True, init=True, const=()):
    """Build the layer with make(nn) in both libraries and compare them as the module docstring says.

    Floating inputs require grad except those at the positions in `const`; `call(module, *tensors)`
    replaces the plain module(*tensors) call.
    """
    ours, theirs = build_pair(make, seed)
    if init:
        check_init(ours, theirs)
    if dtype == "float64":
        ours.double()
        theirs.double()
    copy_state(ours, theirs)
    tol = TOL[dtype]
    for mode in modes:
        ours.train(mode == "train")
        theirs.train(mode == "train")
        for step in range(steps):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r1 = _run(tapegrad, ours, inputs, dtype, 100 + step, call, const)
                r2 = _run(torch, theirs, inputs, dtype, 100 + step, call, const)
            (v1, n1, g1, b1), (v2, n2, g2, b2) = r1, r2
            where = f"{mode} step {step}"
            assert len(v1) == len(v2)
            for i, (a, b) in enumerate(zip(v1, v2)):
                _assert_close(a, b, tol, f"{where} output {i}")
            if names:
                assert n1 == n2, where
            assert (g1 is None) == (g2 is None), where
            if g2 is not None:
                for i, (a, b) in enumerate(zip(g1, g2)):
                    assert (a is None) == (b is None), f"{where} grad {i}"
                    if b is not None:
                        _assert_close(a, b, tol, f"{where} grad {i}")
            assert list(b1) == list(b2), where
            for k in b2:
                _assert_close(b1[k], b2[k], tol, f"{where} buffer {k}")
    return ours, theirs


def outcome(scenario):
    """(tapegrad's, torch's) result of scenario(lib); an exception counts as (type name, text)."""
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return scenario(lib)
            except Exception as exc:  # the error is what is compared
                return (type(exc).__name__, str(exc))
    return run(tapegrad), run(torch)
