"""nn.utils against torch: gradient clipping (returned norm, clipped gradients) and the
parameters <-> vector conversions."""
import types
import warnings

import numpy as np
import pytest

import tapegrad


@pytest.fixture
def real_torch():
    return pytest.importorskip("torch")


def grads_scenario(lib, dtype_name, scale):
    dtype = getattr(lib, dtype_name)
    lib.manual_seed(0)
    params = [lib.nn.Parameter(lib.randn(5, 3, dtype=dtype)), lib.nn.Parameter(lib.randn(7, dtype=dtype)),
              lib.nn.Parameter(lib.randn(2, dtype=dtype))]
    for p in params[:2]:
        p.grad = lib.randn(*p.shape, dtype=dtype) * scale
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 1.0), (100.0, 1.0), (0.5, 1e-3)])
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_clip_grad_norm_matches_torch(real_torch, norm_type, max_norm, scale, dtype_name):
    outs = []
    for lib in (tapegrad, real_torch):
        params = grads_scenario(lib, dtype_name, scale)
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        outs.append((total.numpy().copy(), str(total.dtype), [p.grad.numpy().copy() for p in params[:2]],
                     params[2].grad is None))
    (t, dt, g, none), (t2, dt2, g2, none2) = outs
    assert t.shape == () and dt == dt2 and none and none2
    rtol = 1e-6 if dtype_name == "float32" else 1e-13
    np.testing.assert_allclose(t, t2, rtol=rtol)
    for a, b in zip(g, g2):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


def test_clip_grad_norm_edge_cases(real_torch):
    def outcome(lib):
        out = []
        p = lib.nn.Parameter(lib.ones(3))
        out.append(float(lib.nn.utils.clip_grad_norm_([p], 1.0)))          # no gradients: norm 0
        p.grad = lib.tensor([3.0, 4.0, 0.0])
        out.append(float(lib.nn.utils.clip_grad_norm_(p, 1.0)))            # a single tensor
        out.append(p.grad.tolist())
        p.grad = lib.tensor([float("nan"), 1.0, 1.0])
        try:
            lib.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        except RuntimeError as exc:
            out.append(str(exc))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.utils.clip_grad_norm_((q for q in []), 1.0)
            lib.nn.utils.clip_grad_norm([p], 1.0)
        out.append([str(x.message) for x in w])
        return out
    got, want = outcome(tapegrad), outcome(real_torch)
    assert got[:2] == want[:2] and got[2] == pytest.approx(want[2])
    assert got[3:] == want[3:]


def test_clip_grad_value_matches_torch(real_torch):
    outs = []
    for lib in (tapegrad, real_torch):
        params = grads_scenario(lib, "float32", 1.0)
        assert lib.nn.utils.clip_grad_value_(params, 0.5) is None
        lib.nn.utils.clip_grad_value_(params[0], 0.25)
        outs.append([p.grad.numpy().copy() for p in params[:2]])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_parameters_to_vector_and_back(real_torch):
    outs = []
    for lib in (tapegrad, real_torch):
        lin = lib.nn.Linear(3, 2)
        vec = lib.nn.utils.parameters_to_vector(lin.parameters())
        info = [tuple(vec.shape), vec.grad_fn.name(), vec.requires_grad]
        new = lib.arange(8.0)
        lib.nn.utils.vector_to_parameters(new, lin.parameters())
        info += [lin.weight.tolist(), lin.bias.tolist(), type(lin.weight).__name__, lin.weight.requires_grad]
        new[0] = 100.0  # parameters share the vector's memory, as torch
        info.append(lin.weight[0, 0].item())
        try:
            lib.nn.utils.vector_to_parameters([1.0], lin.parameters())
        except TypeError as exc:
            info.append(str(exc))
        outs.append(info)
    assert outs[0] == outs[1]
