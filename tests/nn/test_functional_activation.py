"""nn.functional activations against torch: values, grad_fn names, gradients, second derivatives,
the in-place variants and the softmax-without-dim warning."""
import sys

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


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_implicit_dim_warning_names_the_calling_line(name):
    """The warning points at the line that called F.softmax (torch's default _stacklevel=3), and an nn.Softmax
    call at library code (so default filters show it once per program, as torch's)."""
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(tapegrad.nn.functional, name)(tapegrad.ones(2, 3)); line = sys._getframe().f_lineno
        tapegrad.nn.Softmax()(tapegrad.ones(2, 3))
    assert (caught[0].filename, caught[0].lineno) == (__file__, line)
    assert "tapegrad" in caught[1].filename and caught[1].filename != __file__


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


def _double_backward(lib, fn, data, seed=2):
    """(grad_fn name and requires_grad of the create_graph gradient, second derivatives in the input
    and in the output's gradient, the third derivative in the input)."""
    rng = np.random.RandomState(seed)
    a = lib.from_numpy(data.copy()).requires_grad_()
    out = fn(lib, a)
    v = lib.from_numpy(rng.uniform(-1, 1, tuple(out.shape))).requires_grad_()
    g, = lib.autograd.grad(out, a, v, create_graph=True)
    w = lib.from_numpy(rng.uniform(-1, 1, tuple(g.shape)))
    ga, gv = lib.autograd.grad((g * g * w).sum(), (a, v), create_graph=True)
    ggg, = lib.autograd.grad((ga * w).sum(), a, allow_unused=True)
    return ((g.grad_fn.name(), g.requires_grad), ga.detach().numpy(), gv.detach().numpy(),
            None if ggg is None else ggg.numpy())


FUSED = [("elu", {}, "EluBackwardBackward0"), ("elu", {"alpha": 0.5}, "EluBackwardBackward0"),
         ("selu", {}, "EluBackwardBackward0"), ("celu", {"alpha": 0.7}, "EluBackwardBackward0"),
         ("gelu", {}, "GeluBackwardBackward0"), ("gelu", {"approximate": "tanh"}, "GeluBackwardBackward0"),
         ("logsigmoid", {}, "LogSigmoidBackwardBackward0"), ("hardswish", {}, "HardswishBackwardBackward0"),
         ("softmax", {"dim": 1}, "SoftmaxBackwardDataBackward0"), ("softmax", {"dim": 0}, "SoftmaxBackwardDataBackward0"),
         ("log_softmax", {"dim": 1}, "LogSoftmaxBackwardDataBackward0"),
         ("log_softmax", {"dim": -2}, "LogSoftmaxBackwardDataBackward0"), ("softmin", {"dim": 1}, "NegBackward0"),
         ("silu", {}, "MulBackward0"), ("mish", {}, "MulBackward0"),
         ("glu", {}, "GluBackwardBackward0"), ("glu", {"dim": 1}, "GluBackwardBackward0")]


@pytest.mark.parametrize("name,kw,node", FUSED)
def test_gradient_made_by_backward_op(name, kw, node):
    """The create_graph gradient of an activation is torch's backward op (its grad_fn name, requiring
    grad), differentiable again in the input and in the output's gradient, to any order, as torch's."""
    data = x(3, 4) * 2
    fn = lambda lib, a: getattr(lib.nn.functional, name)(a, **kw)  # noqa: E731
    mine, theirs = _double_backward(tapegrad, fn, data), _double_backward(torch, fn, data)
    assert mine[0] == theirs[0] == (node, True)
    for a, b in zip(mine[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name,kw", [("softmax", {"dim": 0}), ("log_softmax", {"dim": 0}), ("gelu", {}),
                                     ("elu", {}), ("logsigmoid", {})])
def test_gradient_of_0dim_and_empty_inputs(name, kw):
    for data in (np.array(0.7), np.zeros((0, 3))):
        fn = lambda lib, a: getattr(lib.nn.functional, name)(a, **kw)  # noqa: E731
        mine, theirs = _double_backward(tapegrad, fn, data), _double_backward(torch, fn, data)
        assert mine[0] == theirs[0]
        for a, b in zip(mine[1:], theirs[1:]):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["elu", "celu", "selu"])
def test_inplace_elu_second_derivative(name):
    def fn(lib, a):
        b = a * 1
        getattr(lib.nn.functional, name)(b, inplace=True)
        return b
    data = x(3, 4) * 2
    mine, theirs = _double_backward(tapegrad, fn, data), _double_backward(torch, fn, data)
    for a, b in zip(mine[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["silu_backward", "mish_backward", "hardsigmoid_backward"])
def test_backward_ops_torch_does_not_differentiate(name):
    """silu/mish/hardsigmoid_backward (run by a plain backward) give torch's values; torch records
    NotImplemented for their own derivative, so the op table does not compare that with torch."""
    from tapegrad.ops import OPS
    g, a = x(3, 5), np.concatenate([x(3, 4) * 3, np.array([[-3.0], [3.0], [0.0]])], 1)
    mine = OPS[name].callable(tapegrad.from_numpy(g.copy()), tapegrad.from_numpy(a.copy()))
    theirs = getattr(torch.ops.aten, name)(torch.from_numpy(g.copy()), torch.from_numpy(a.copy()))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
    for dtype in ("float32", "float64"):
        for lib in (tapegrad, torch):
            t = lib.from_numpy(a.astype(dtype)).requires_grad_()
            getattr(lib.nn.functional, name[:-len("_backward")])(t).sum().backward()
            if lib is tapegrad:
                got = t.grad.numpy()
            else:
                assert got.dtype == t.grad.numpy().dtype
                np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_plain_backward_records_nothing():
    a = tapegrad.randn(3, 4, requires_grad=True)
    F = tapegrad.nn.functional
    (F.gelu(a) + F.log_softmax(a, 1) + F.elu(a) + F.silu(a)).sum().backward()
    assert a.grad.grad_fn is None and not a.grad.requires_grad


@pytest.mark.parametrize("name,kw", [("softshrink", {}), ("hardshrink", {"lambd": 0.3})])
def test_shrink_gradients_are_one_op_as_torch(name, kw):
    """softshrink/hardshrink: the create_graph gradient is torch's <Name>BackwardBackward0, linear in the
    output's gradient, constant in the input."""
    def run(lib):
        a = lib.tensor([-1.0, -0.4, 0.2, 0.8], requires_grad=True)
        v = lib.tensor([0.5, -1.0, 2.0, 1.5], requires_grad=True)
        g, = lib.autograd.grad(getattr(lib.nn.functional, name)(a, **kw), a, v, create_graph=True)
        ga, gv = lib.autograd.grad((g * g).sum(), (a, v))
        return g.grad_fn.name(), g.detach().numpy(), ga.numpy(), gv.numpy()
    got, want = run(tapegrad), run(torch)
    assert got[0] == want[0]
    for x, y in zip(got[1:], want[1:]):
        np.testing.assert_allclose(x, y)

