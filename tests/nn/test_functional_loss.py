"""nn.functional losses against torch: every reduction, class weights, ignore_index, label smoothing,
K-dimensional inputs, probability targets; values, grad_fn names, gradients, and the warnings and
errors of common mistakes (TORCH-BEHAVIOURS #48, #50, #51)."""
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

from torch_compare import compare  # noqa: E402

RNG = np.random.RandomState(0)


def x(*shape):
    return RNG.randn(*shape)
REDUCTIONS = ["mean", "sum", "none"]


def F(lib):
    return lib.nn.functional


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                     ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {"delta": 0.7})])
def test_regression_losses(name, kw, reduction):
    compare(lambda lib, a, t: getattr(F(lib), name)(a, t, reduction=reduction, **kw), x(3, 4), x(3, 4))


def test_mse_target_size_warning_and_broadcast_gradient():
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[3\]\)\) that is different to the "
                                         r"input size \(torch.Size\(\[3, 1\]\)\). This will likely lead to incorrect "
                                         r"results due to broadcasting. Please ensure they have the same size."):
        tapegrad.nn.functional.mse_loss(tapegrad.randn(3, 1), tapegrad.randn(3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(lambda lib, a, t: F(lib).mse_loss(a, t), x(3, 1), x(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    t = np.array([1, 0, 4, 2])
    compare(lambda lib, a, t: F(lib).nll_loss(a, t, reduction=reduction), x(4, 5), t)
    compare(lambda lib, a, t, w: F(lib).nll_loss(a, t, w, ignore_index=0, reduction=reduction), x(4, 5), t,
            np.abs(x(5)), const=(2,))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 2, 2), (2, 3, 2, 1, 2)])
def test_nll_loss_k_dim(shape, reduction):
    t = np.random.RandomState(3).randint(0, 3, size=(shape[0],) + shape[2:])
    compare(lambda lib, a, t: F(lib).nll_loss(a, t, reduction=reduction), x(*shape), t)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"ignore_index": 1}, {"weight": True},
                                {"weight": True, "label_smoothing": 0.1, "ignore_index": 2}])
def test_cross_entropy_class_indices(kw, reduction):
    kw = dict(kw)
    t = np.array([1, 0, 4, 2, 1])
    args = [x(5, 5), t]
    if kw.pop("weight", False):
        args.append(np.abs(x(5)) + 0.1)
        compare(lambda lib, a, t, w: F(lib).cross_entropy(a, t, w, reduction=reduction, **kw), *args, const=(2,))
    else:
        compare(lambda lib, a, t: F(lib).cross_entropy(a, t, reduction=reduction, **kw), *args)


def test_cross_entropy_k_dim_and_unbatched():
    t = np.random.RandomState(4).randint(0, 3, size=(2, 4, 4))
    compare(lambda lib, a, t: F(lib).cross_entropy(a, t, label_smoothing=0.1), x(2, 3, 4, 4), t)
    compare(lambda lib, a, t: F(lib).cross_entropy(a, t), x(5), np.array(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities(reduction):
    p = np.random.RandomState(5).dirichlet(np.ones(4), size=3)
    # torch divides the 'mean' by a Python number from C++ (DivBackward1); tapegrad's division is DivBackward0
    compare(lambda lib, a, p: F(lib).cross_entropy(a, p, reduction=reduction), x(3, 4), p, names=reduction != "mean")
    compare(lambda lib, a, p, w: F(lib).cross_entropy(a, p, w, reduction=reduction, label_smoothing=0.3), x(3, 4),
            p, np.abs(x(4)), const=(2,), names=reduction != "mean")


def test_cross_entropy_errors():
    Ft = tapegrad.nn.functional
    logits = tapegrad.randn(4, 5)
    with pytest.raises(RuntimeError, match="^expected target dtype to be Long or Byte, but got Float$"):
        Ft.cross_entropy(logits, tapegrad.tensor([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(IndexError, match="^Target 7 is out of bounds.$"):
        Ft.cross_entropy(logits, tapegrad.tensor([1, 2, 7, 4]))
    with pytest.raises(ValueError, match=r"^Expected input batch_size \(4\) to match target batch_size \(3\).$"):
        Ft.cross_entropy(logits, tapegrad.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        Ft.cross_entropy(logits, tapegrad.tensor([1, 2, 3, 4]), reduction="bad")
    loss = Ft.cross_entropy(logits.requires_grad_(), tapegrad.tensor([1, 2, 3, 4]))
    assert type(loss.grad_fn).__name__ == "NllLossBackward0"


def test_all_ignored_mean_is_nan():
    out = tapegrad.nn.functional.cross_entropy(tapegrad.randn(2, 3), tapegrad.tensor([-100, -100]))
    assert np.isnan(out.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    p = np.random.RandomState(6).uniform(0.05, 0.95, size=(3, 4))
    t = np.random.RandomState(7).uniform(0, 1, size=(3, 4))
    compare(lambda lib, a, t: F(lib).binary_cross_entropy(a, t, reduction=reduction), p, t)
    compare(lambda lib, a, t, w: F(lib).binary_cross_entropy(a, t, w, reduction=reduction), p, t, np.abs(x(4)),
            const=(2,))
    with pytest.raises(ValueError, match="is deprecated. Please ensure they have the same size."):
        tapegrad.nn.functional.binary_cross_entropy(tapegrad.rand(3, 1), tapegrad.rand(3))


@pytest.mark.parametrize("reduction", ["sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    p = np.random.RandomState(8).dirichlet(np.ones(4), size=3)
    target = np.log(p) if log_target else p
    compare(lambda lib, a, t: F(lib).kl_div(a, t, reduction=reduction, log_target=log_target), np.log(p[::-1].copy()),
            target)


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        tapegrad.nn.functional.kl_div(tapegrad.randn(2, 3), tapegrad.rand(2, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_embedding_and_ranking_losses(reduction):
    target = np.array([1.0, -1.0, 1.0, -1.0])
    compare(lambda lib, a, b, t: F(lib).cosine_embedding_loss(a, b, t, margin=0.1, reduction=reduction), x(4, 3),
            x(4, 3), target)
    compare(lambda lib, a, b, t: F(lib).margin_ranking_loss(a, b, t, margin=0.2, reduction=reduction), x(4), x(4),
            target)
    compare(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, reduction=reduction), x(4, 3), x(4, 3), x(4, 3))
    compare(lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, p=1, swap=True, reduction=reduction), x(4, 3),
            x(4, 3), x(4, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_and_gaussian_nll(reduction):
    counts = np.random.RandomState(9).poisson(2.0, size=(3, 4)).astype(np.float64)
    compare(lambda lib, a, t: F(lib).poisson_nll_loss(a, t, reduction=reduction), x(3, 4), counts)
    compare(lambda lib, a, t: F(lib).poisson_nll_loss(a, t, log_input=False, full=True, reduction=reduction),
            np.abs(x(3, 4)) + 0.1, counts)
    compare(lambda lib, a, t, v: F(lib).gaussian_nll_loss(a, t, v, reduction=reduction), x(3, 4), x(3, 4),
            np.abs(x(3, 4)) + 0.1)
    compare(lambda lib, a, t, v: F(lib).gaussian_nll_loss(a, t, v, full=True, reduction=reduction), x(3, 4), x(3, 4),
            np.abs(x(3)) + 0.1)


def test_legacy_size_average_warns():
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        out = tapegrad.nn.functional.mse_loss(tapegrad.ones(2), tapegrad.zeros(2), size_average=False)
    assert out.item() == 2.0


def _loss_double_backward(lib, fn, arrays, seed=3):
    """(grad_fn names and requires_grad of the create_graph gradients, second derivatives in the
    inputs and in the loss's gradient)."""
    rng = np.random.RandomState(seed)
    ts = [lib.from_numpy(a.copy()).requires_grad_(a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
          for a in arrays]
    diff = [t for t in ts if isinstance(t, lib.Tensor) and t.requires_grad]
    out = fn(lib, *ts)
    v = lib.from_numpy(rng.uniform(-1, 1, tuple(out.shape))).requires_grad_()
    gs = lib.autograd.grad(out, diff, v, create_graph=True)
    total = sum((g * g * lib.from_numpy(rng.uniform(-1, 1, tuple(g.shape)))).sum() for g in gs)
    seconds = lib.autograd.grad(total, diff + [v], allow_unused=True)
    return ([(g.grad_fn.name(), g.requires_grad) for g in gs],
            [None if s is None else s.numpy() for s in seconds])


def _check_double_backward(fn, *arrays):
    (n1, s1), (n2, s2) = _loss_double_backward(tapegrad, fn, arrays), _loss_double_backward(torch, fn, arrays)
    assert n1 == n2
    for a, b in zip(s1, s2):
        if a is None or b is None:
            assert a is None and b is None
            continue
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    return n1


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw,node", [("mse_loss", {}, "MseLossBackwardBackward0"),
                                          ("smooth_l1_loss", {"beta": 0.8}, "SmoothL1LossBackwardBackward0"),
                                          ("huber_loss", {"delta": 0.9}, "HuberLossBackwardBackward0")])
def test_pointwise_loss_gradient_made_by_backward_op(name, kw, node, reduction):
    """The create_graph gradients (in input and target) are torch's `<loss>_backward` op, and their
    derivatives (in input, target and the loss's gradient) are torch's."""
    fn = lambda lib, a, b: getattr(F(lib), name)(a, b, reduction=reduction, **kw)  # noqa: E731
    names = _check_double_backward(fn, x(3, 4), x(3, 4))
    assert names == [(node, True), (node, True)]
    _check_double_backward(fn, np.array(0.3), np.array(-0.4))
    _check_double_backward(fn, np.zeros((0, 2)), np.zeros((0, 2)))


def test_mse_loss_broadcast_second_derivative_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the target-size warning, in both libraries
        _check_double_backward(lambda lib, a, b: F(lib).mse_loss(a, b), x(3, 1), x(4))


@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"ignore_index": 2},
                                {"weight": "w"}, {"weight": "w", "reduction": "none"}])
def test_nll_loss_gradient_made_by_backward_op(kw):
    target = np.array([1, 2, 0, 2])
    w = np.array([0.3, 1.2, 0.7])

    def fn(lib, a):
        opts = dict(kw)
        if "weight" in opts:
            opts["weight"] = lib.from_numpy(w.copy())
        return F(lib).nll_loss(a.log_softmax(1), lib.from_numpy(target.copy()), **opts)
    names = _check_double_backward(fn, x(4, 3))
    assert names == [("LogSoftmaxBackwardDataBackward0", True)]
    names = _check_double_backward(lambda lib, a: F(lib).nll_loss(a, lib.from_numpy(target.copy())), x(4, 3))
    assert names == [("NllLossBackwardBackward0", True)]


def test_nll_loss_spatial_and_1d_gradients():
    t4 = RNG.randint(0, 3, (2, 2, 2))
    names = _check_double_backward(lambda lib, a: F(lib).nll_loss(a, lib.from_numpy(t4.copy()), reduction="none"),
                                   x(2, 3, 2, 2))
    assert names == [("NllLoss2DBackwardBackward0", True)]
    _check_double_backward(lambda lib, a: F(lib).nll_loss(a, lib.from_numpy(np.array(1))), x(3))
    t3 = RNG.randint(0, 3, (2, 4))
    _check_double_backward(lambda lib, a: F(lib).nll_loss(a, lib.from_numpy(t3.copy())), x(2, 3, 4))


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.2}, {"reduction": "sum", "ignore_index": 0}])
def test_cross_entropy_gradient_is_log_softmax_backward(kw):
    target = np.array([1, 2, 0])
    names = _check_double_backward(lambda lib, a: F(lib).cross_entropy(a, lib.from_numpy(target.copy()), **kw),
                                   x(3, 4))
    assert names == [("LogSoftmaxBackwardDataBackward0", True)]


def test_cross_entropy_with_probabilities_second_derivatives():
    names = _check_double_backward(lambda lib, a, b: F(lib).cross_entropy(a, b.softmax(1)), x(3, 4), x(3, 4))
    assert names == [("LogSoftmaxBackwardDataBackward0", True), ("SoftmaxBackwardDataBackward0", True)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ignored_targets_give_positive_zero(reduction):
    """Ignored targets are skipped: +0 in the 'none' loss and in the gradient (a zero class weight, by
    contrast, still gives -0), as torch; printed tensors show the sign."""
    xs = np.array([[1.0, 2.0, 0.5], [0.1, -0.2, 0.3], [0.4, 0.0, -1.0]])
    go = np.array([1.0, -2.0, 0.5]) if reduction == "none" else 1.0
    outs = []
    for lib in (tapegrad, torch):
        a = lib.tensor(xs, requires_grad=True)
        t = lib.tensor([1, 2, 0])
        loss = F(lib).nll_loss(a, t, weight=lib.tensor([0.0, 1.0, 1.0], dtype=lib.float64), ignore_index=2, reduction=reduction)
        loss.backward(lib.tensor(go, dtype=lib.float64))
        outs.append((np.signbit(loss.detach().numpy()), np.signbit(a.grad.numpy()), a.grad.numpy()))
    for mine, ref in zip(*outs):
        np.testing.assert_array_equal(mine, ref)
