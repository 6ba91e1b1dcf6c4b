"""Activation layers against torch: repr, outputs, grad_fn names and gradients (float64 and
float32), inplace variants (the input is overwritten, gradients still flow), PReLU's parameter,
softmax-family dims and errors."""
import warnings

import numpy as np
import pytest

import tapegrad
from _layer_harness import build_pair, check_init, check_layer, known, outcome

torch = pytest.importorskip("torch")

RNG = np.random.RandomState(3)
X = RNG.randn(3, 4, 5) * 3
X[0, 0, :3] = [0.25, -0.25, 0.0]  # points next to the kinks (not on them)

ACTIVATIONS = {
    "ReLU": lambda nn: nn.ReLU(), "ReLU6": lambda nn: nn.ReLU6(), "LeakyReLU": lambda nn: nn.LeakyReLU(),
    "LeakyReLU(0.2)": lambda nn: nn.LeakyReLU(0.2), "PReLU": lambda nn: nn.PReLU(),
    "PReLU(4, 0.1)": lambda nn: nn.PReLU(4, 0.1), "ELU": lambda nn: nn.ELU(), "ELU(0.5)": lambda nn: nn.ELU(0.5),
    "SELU": lambda nn: nn.SELU(), "CELU(2)": lambda nn: nn.CELU(2.0), "GELU": lambda nn: nn.GELU(),
    "GELU(tanh)": lambda nn: nn.GELU("tanh"), "SiLU": lambda nn: nn.SiLU(), "Mish": lambda nn: nn.Mish(),
    "Sigmoid": lambda nn: nn.Sigmoid(), "Tanh": lambda nn: nn.Tanh(), "Hardtanh": lambda nn: nn.Hardtanh(),
    "Hardtanh(-2, 3)": lambda nn: nn.Hardtanh(-2, 3), "Hardsigmoid": lambda nn: nn.Hardsigmoid(),
    "Hardswish": lambda nn: nn.Hardswish(), "Softplus": lambda nn: nn.Softplus(),
    "Softplus(2, 3)": lambda nn: nn.Softplus(2, 3), "Softsign": lambda nn: nn.Softsign(),
    "Softmax(1)": lambda nn: nn.Softmax(dim=1), "Softmax(-1)": lambda nn: nn.Softmax(-1),
    "LogSoftmax(2)": lambda nn: nn.LogSoftmax(dim=2), "Softmin(0)": lambda nn: nn.Softmin(0),
    "Softmax()": lambda nn: nn.Softmax(), "Threshold": lambda nn: nn.Threshold(0.1, 20.0),
    "GLU": lambda nn: nn.GLU(dim=1), "LogSigmoid": lambda nn: nn.LogSigmoid(), "Tanhshrink": lambda nn: nn.Tanhshrink(),
    "Softshrink": lambda nn: nn.Softshrink(), "Hardshrink(0.3)": lambda nn: nn.Hardshrink(0.3),
    "Softmax2d": lambda nn: nn.Softmax2d(), "RReLU(eval)": lambda nn: nn.RReLU().eval(),
    "RReLU(0.1, 0.3)": lambda nn: nn.RReLU(0.1, 0.3),
}


def _cases(prefix, names, suffix=""):
    """Parameters named after the layers, marked where KNOWN_FUNCTIONAL_GAPS lists the class."""
    return [pytest.param(n, id=n, marks=known(f"{prefix}-{n.split('(')[0]}{suffix}")
                         or known(f"{prefix}-{n.split('(')[0]}")) for n in names]


@pytest.mark.parametrize("name", _cases("activation", ACTIVATIONS, "-float64"))
def test_activation_float64(name):
    check_layer(ACTIVATIONS[name], X, modes=("eval",) if "eval)" in name else ("train", "eval"))


@pytest.mark.parametrize("name", _cases("activation", ACTIVATIONS))
def test_activation_float32(name):
    check_layer(ACTIVATIONS[name], X, dtype="float32", modes=("eval",))


INPLACE = {
    "ReLU": lambda nn: nn.ReLU(inplace=True), "ReLU6": lambda nn: nn.ReLU6(True),
    "LeakyReLU": lambda nn: nn.LeakyReLU(0.2, True), "ELU": lambda nn: nn.ELU(0.5, True),
    "SELU": lambda nn: nn.SELU(True), "CELU": lambda nn: nn.CELU(2.0, True), "SiLU": lambda nn: nn.SiLU(True),
    "Mish": lambda nn: nn.Mish(True), "Hardtanh": lambda nn: nn.Hardtanh(-2, 2, True),
    "Hardsigmoid": lambda nn: nn.Hardsigmoid(True), "Hardswish": lambda nn: nn.Hardswish(True),
    "Threshold": lambda nn: nn.Threshold(0.1, 20.0, True), "RReLU": lambda nn: nn.RReLU(0.1, 0.3, True),
}


@pytest.mark.parametrize("name", _cases("inplace", INPLACE))
def test_inplace_activation(name):
    """On a non-leaf the layer overwrites its input and returns it; gradients reach the leaf."""
    check_layer(INPLACE[name], X, call=lambda m, a: m(a * 1.0), modes=("train",))

    def scenario(lib):
        a = lib.from_numpy(X.copy())
        out = INPLACE[name](lib.nn)(a)
        return out is a, np.array_equal(a.numpy(), out.numpy())
    ours, theirs = outcome(scenario)
    assert ours == theirs == (True, True)


def test_inplace_on_leaf_that_requires_grad_is_an_error():
    ours, theirs = outcome(lambda lib: lib.nn.ReLU(inplace=True)(lib.ones(2, requires_grad=True)))
    assert ours == theirs


def test_reprs():
    makes = list(ACTIVATIONS.values()) + list(INPLACE.values()) + [
        lambda nn: nn.RReLU(0.1, 0.3, True), lambda nn: nn.Softplus(2.5), lambda nn: nn.Softshrink(),
        lambda nn: nn.Hardtanh(-2.0, 2.0)]
    for make in makes:
        check_init(*build_pair(make))
    assert repr(tapegrad.nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(tapegrad.nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"


def test_prelu_parameter_and_per_channel_gradient():
    ours, theirs = build_pair(lambda nn: nn.PReLU(4))
    assert list(ours.state_dict()) == ["weight"] and ours.weight.tolist() == [0.25] * 4
    check_layer(lambda nn: nn.PReLU(4, init=-0.5), X)


def test_hardtanh_deprecated_keywords_and_bounds():
    with pytest.warns(FutureWarning, match="keyword argument `min_value` is deprecated and renamed to `min_val`"):
        m = tapegrad.nn.Hardtanh(min_value=-2.0)
    assert m.min_val == -2.0
    ours, theirs = outcome(lambda lib: lib.nn.Hardtanh(1, 0))
    assert ours == theirs


def test_softmax_without_dim_warns_like_torch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tapegrad.nn.Softmax()(tapegrad.ones(2, 3))
    assert any("Implicit dimension choice for softmax has been deprecated" in str(w.message) for w in caught)


def test_softmax2d_error():
    ours, theirs = outcome(lambda lib: lib.nn.Softmax2d()(lib.ones(2)))
    assert ours == theirs


def test_rrelu_train_draws_slopes_in_range():
    m = tapegrad.nn.RReLU(0.1, 0.3)
    a = -tapegrad.ones(1000)
    out = m(a)
    assert (out >= -0.3).all() and (out <= -0.1).all() and len(np.unique(out.detach().numpy())) > 10
