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
