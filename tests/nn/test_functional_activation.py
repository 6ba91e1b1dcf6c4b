"""nn.functional activations against torch: values, grad_fn names, gradients, second derivatives,
the in-place variants and the softmax-without-dim warning."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

from torch_compare import compare  # noqa: E402

RNG = np.random.RandomState(0)


def x(*shape):
    return RNG.randn(*shape)


CASES = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}),
    ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 0.7}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("silu", {}), ("mish", {}), ("hardtanh", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    ("hardsigmoid", {}), ("hardswish", {}), ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 1.5}),
    ("softsign", {}), ("logsigmoid", {}), ("tanhshrink", {}), ("softshrink", {}), ("softshrink", {"lambd": 1.0}),
    ("hardshrink", {}), ("sigmoid", {}), ("tanh", {}), ("softmin", {"dim": 1}), ("softmax", {"dim": 0}),
    ("log_softmax", {"dim": 1}), ("glu", {}), ("glu", {"dim": 0}), ("threshold", {"threshold": 0.3, "value": -2.0}),
]


@pytest.mark.parametrize("name,kw", CASES)
def test_activation(name, kw):
    data = x(4, 6) * 3
    compare(lambda lib, a: getattr(lib.nn.functional, name)(a, **kw), data)


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] in ("elu", "selu", "celu", "gelu", "silu", "mish",
                                                                    "softplus", "logsigmoid")])
def test_activation_second_derivative(name, kw):
    data = x(3, 4)
    res = {}
    for lib in (tapegrad, torch):
        a = lib.from_numpy(data.copy()).requires_grad_()
        g, = lib.autograd.grad(getattr(lib.nn.functional, name)(a, **kw).sum(), a, create_graph=True)
        res[lib] = lib.autograd.grad((g * g).sum(), a)[0].numpy()
    np.testing.assert_allclose(res[tapegrad], res[torch], rtol=1e-7, atol=1e-9)


def test_prelu():
    compare(lambda lib, a, w: lib.nn.functional.prelu(a, w), x(2, 3, 4), x(3))
    compare(lambda lib, a, w: lib.nn.functional.prelu(a, w), x(2, 3), x(1))


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "selu", "hardtanh", "relu6", "silu", "hardswish"])
def test_inplace_variants(name):
    def run(lib, a):
        b = a * 1
        out = getattr(lib.nn.functional, name)(b, inplace=True)
        assert out is b
        return out
    compare(run, x(3, 4))


def test_softmax_without_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated. Change the call "
                                         "to include dim=X as an argument."):
        out = tapegrad.nn.functional.softmax(tapegrad.randn(2, 3))
    np.testing.assert_allclose(out.sum(1).numpy(), [1, 1], rtol=1e-6)


def test_glu_odd_dimension_error():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 5"):
        tapegrad.nn.functional.glu(tapegrad.randn(2, 5))


@pytest.mark.parametrize("name,kw", [("leaky_relu", {"negative_slope": 0.2}), ("hardtanh", {}), ("softplus", {}),
                                     ("softplus", {"beta": 2.0, "threshold": 1.0}), ("relu", {}),
                                     ("threshold", {"threshold": 0.3, "value": -2.0})])
def test_double_backward_node_of_activation(name, kw):
    """The gradient is made by torch's `<name>_backward` op: its grad_fn name, and it stays attached to the
    input (requires_grad) even where its derivative is zero (piecewise-linear activations)."""
    data = x(3, 4) * 2
    res = {}
    for lib in (tapegrad, torch):
        a = lib.from_numpy(data.copy()).requires_grad_()
        g, = lib.autograd.grad(getattr(lib.nn.functional, name)(a, **kw).sum(), a, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), a, allow_unused=True)
        with lib.autograd.forward_ad.dual_level():
            dual = lib.autograd.forward_ad.make_dual(a, lib.ones_like(a))
            tangent = lib.autograd.forward_ad.unpack_dual(getattr(lib.nn.functional, name)(dual, **kw)).tangent
        res[lib] = (g.grad_fn.name(), g.requires_grad, tangent.grad_fn.name(), gg.numpy(), tangent.detach().numpy())
    assert res[tapegrad][:3] == res[torch][:3]
    np.testing.assert_allclose(res[tapegrad][3], res[torch][3], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res[tapegrad][4], res[torch][4], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 2, 3), (2, 1, 2, 3)])
def test_linear_graph_under_func_transforms(shape):
    """F.linear builds torch's graph in each mode: plain (addmm, flattened for other contiguous inputs),
    under grad/vjp (only 3-D inputs flattened) and under vmap (matmul + add, but 3-D flattened)."""
    def names(lib):
        F, func = lib.nn.functional, lib.func
        rng = np.random.RandomState(1)
        W = lib.tensor(rng.randn(2, 3), requires_grad=True)
        b = lib.tensor(rng.randn(2), requires_grad=True)
        xin = lib.tensor(rng.randn(*shape))
        return (F.linear(xin, W, b).grad_fn.name(),
                func.vjp(lambda t: F.linear(t, W, b), xin)[0].grad_fn.name(),
                func.grad(lambda c: (F.linear(xin, W, c) ** 2).sum())(b).grad_fn.name(),
                func.grad(lambda t: (F.linear(t, W, b) ** 2).sum())(xin).grad_fn.name(),
                func.vmap(lambda t: F.linear(t, W, b))(xin.unsqueeze(0)).grad_fn.name())
    assert names(tapegrad) == names(torch)
