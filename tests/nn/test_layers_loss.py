"""Loss layers against torch: values and gradients for every reduction, class weights and
pos_weight as buffers (state_dict, .double()), ignore_index, label smoothing, probability
targets, K-dimensional inputs, and the legacy size_average/reduce arguments with their warning."""
import warnings

import numpy as np
import pytest

import tapegrad
from _layer_harness import build_pair, check_init, check_layer, known, outcome

torch = pytest.importorskip("torch")

RNG = np.random.RandomState(4)
REDUCTIONS = ["none", "mean", "sum"]


def x(*shape):
    return RNG.randn(*shape)


def lib_of(nn):
    return tapegrad if nn is tapegrad.nn else torch


def const(nn, values):
    return lib_of(nn).tensor(values)


A, B = x(4, 3), x(4, 3)
SIGNS = np.array([1, -1, 1, -1])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("make", [
    lambda nn, r: nn.MSELoss(reduction=r), lambda nn, r: nn.L1Loss(reduction=r),
    lambda nn, r: nn.SmoothL1Loss(reduction=r), lambda nn, r: nn.SmoothL1Loss(reduction=r, beta=0.5),
    lambda nn, r: nn.HuberLoss(reduction=r), lambda nn, r: nn.HuberLoss(reduction=r, delta=0.3),
], ids=["MSE", "L1", "SmoothL1", "SmoothL1(0.5)", "Huber", "Huber(0.3)"])
def test_pointwise_losses(make, reduction):
    check_layer(lambda nn: make(nn, reduction), A, B, modes=("train",))
    check_layer(lambda nn: make(nn, reduction), A, B, modes=("train",), dtype="float32")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(reduction):
    check_layer(lambda nn: nn.SoftMarginLoss(reduction=reduction), A, SIGNS[:, None] * np.ones(3), const=(1,),
                modes=("train",), names=False)


@pytest.mark.parametrize("_", [pytest.param(0, marks=known("loss-SoftMargin-name"))])
def test_soft_margin_loss_grad_fn_name(_):
    check_layer(lambda nn: nn.SoftMarginLoss(), A, SIGNS[:, None] * np.ones(3), const=(1,), modes=("train",))


TARGET = RNG.randint(0, 5, size=(6,))
LOGITS = x(6, 5)
CE = [dict(), dict(reduction="sum"), dict(reduction="none"), dict(ignore_index=2), dict(label_smoothing=0.2),
      dict(weight=[1.0, 2.0, 0.5, 1.5, 3.0]), dict(weight=[1.0, 2.0, 0.5, 1.5, 3.0], ignore_index=1,
                                                   label_smoothing=0.1)]


def _ce(nn, kw, cls="CrossEntropyLoss"):
    kw = dict(kw)
    if "weight" in kw:
        kw["weight"] = const(nn, kw["weight"])
    return getattr(nn, cls)(**kw)


@pytest.mark.parametrize("kw", CE, ids=[str(k) for k in CE])
def test_cross_entropy_with_class_indices(kw):
    check_layer(lambda nn: _ce(nn, kw), LOGITS, TARGET, modes=("train",))
    check_layer(lambda nn: _ce(nn, kw), LOGITS, TARGET, modes=("train",), dtype="float32")


@pytest.mark.parametrize("kw", [dict(), dict(label_smoothing=0.3), dict(weight=[1.0, 2.0, 0.5, 1.5, 3.0]),
                                dict(reduction="none")])
def test_cross_entropy_with_probabilities(kw):
    probs = np.random.RandomState(5).dirichlet(np.ones(5), size=6)
    check_layer(lambda nn: _ce(nn, kw), LOGITS, probs, modes=("train",), names=False)


@pytest.mark.parametrize("_", [pytest.param(0, marks=known("loss-CE-probabilities-name"))])
def test_cross_entropy_with_probabilities_grad_fn_name(_):
    probs = np.random.RandomState(5).dirichlet(np.ones(5), size=6)
    check_layer(lambda nn: nn.CrossEntropyLoss(), LOGITS, probs, modes=("train",))


def test_cross_entropy_k_dimensional():
    target = RNG.randint(0, 4, size=(2, 3, 5))
    target[0, 0, 0] = -100
    check_layer(lambda nn: nn.CrossEntropyLoss(), x(2, 4, 3, 5), target, modes=("train",))
    check_layer(lambda nn: _ce(nn, dict(weight=[1.0, 2.0, 3.0, 4.0], reduction="none")), x(2, 4, 3, 5),
                np.where(target < 0, 0, target), modes=("train",))


@pytest.mark.parametrize("kw", CE[:4] + [dict(weight=[1.0, 2.0, 0.5, 1.5, 3.0], ignore_index=0)],
                         ids=[str(k) for k in CE[:4]] + ["weight+ignore"])
def test_nll_loss(kw):
    kw = {k: v for k, v in kw.items() if k != "label_smoothing"}
    check_layer(lambda nn: _ce(nn, kw, "NLLLoss"), LOGITS, TARGET, call=lambda m, a, t: m(a.log_softmax(1), t),
                modes=("train",))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_and_bce_with_logits(reduction):
    target = RNG.uniform(0, 1, size=(4, 3))
    check_layer(lambda nn: nn.BCELoss(reduction=reduction), A, target, call=lambda m, a, t: m(a.sigmoid(), t),
                const=(1,), modes=("train",))
    check_layer(lambda nn: nn.BCELoss(weight=const(nn, [1.0, 2.0, 3.0]), reduction=reduction), A, target,
                call=lambda m, a, t: m(a.sigmoid(), t), const=(1,), modes=("train",))
    check_layer(lambda nn: nn.BCEWithLogitsLoss(reduction=reduction), A * 10, target, modes=("train",))
    check_layer(lambda nn: nn.BCEWithLogitsLoss(weight=const(nn, [1.0, 2.0, 3.0]),
                                                pos_weight=const(nn, [0.5, 2.0, 4.0]), reduction=reduction),
                A * 10, target, const=(1,), modes=("train",))


def test_weight_buffers_in_state_dict_and_dtype_moves():
    for make in (lambda nn: nn.CrossEntropyLoss(weight=const(nn, [1.0, 2.0])),
                 lambda nn: nn.BCEWithLogitsLoss(pos_weight=const(nn, [1.0, 2.0])),
                 lambda nn: nn.BCEWithLogitsLoss(), lambda nn: nn.NLLLoss(), lambda nn: nn.BCELoss()):
        ours, theirs = build_pair(make)
        check_init(ours, theirs)
        assert list(ours._buffers) == list(theirs._buffers)
    loss = tapegrad.nn.BCEWithLogitsLoss(pos_weight=tapegrad.ones(2)).double()
    assert loss.pos_weight.dtype == tapegrad.float64 and loss.weight is None


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    p = np.random.RandomState(6).dirichlet(np.ones(3), size=4)
    target = np.log(p) if log_target else p
    check_layer(lambda nn: nn.KLDivLoss(reduction=reduction, log_target=log_target), A, target,
                call=lambda m, a, t: m(a.log_softmax(1), t), modes=("train",))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pair_losses(reduction):
    check_layer(lambda nn: nn.CosineEmbeddingLoss(margin=0.2, reduction=reduction), A, B, SIGNS,
                modes=("train",))
    check_layer(lambda nn: nn.MarginRankingLoss(margin=0.1, reduction=reduction), A[:, 0], B[:, 0], SIGNS,
                modes=("train",))
    check_layer(lambda nn: nn.HingeEmbeddingLoss(margin=0.5, reduction=reduction), A[:, 0], SIGNS * 1.0,
                const=(1,), modes=("train",))


@pytest.mark.parametrize("kw", [dict(), dict(margin=0.5, p=1.0), dict(swap=True), dict(reduction="none", eps=1e-3)])
def test_triplet_margin_loss(kw):
    check_layer(lambda nn: nn.TripletMarginLoss(**kw), A, B, x(4, 3), modes=("train",))


@pytest.mark.parametrize("kw", [dict(), dict(log_input=False), dict(full=True), dict(log_input=False, full=True,
                                                                                   reduction="none")])
def test_poisson_nll_loss(kw):
    counts = RNG.poisson(3.0, size=(4, 3)).astype(np.float64)
    call = None if kw.get("log_input", True) else (lambda m, a, t: m(a.exp(), t))
    check_layer(lambda nn: nn.PoissonNLLLoss(**kw), A, counts, const=(1,), call=call, modes=("train",))


@pytest.mark.parametrize("kw", [dict(), dict(full=True), dict(reduction="sum", eps=1e-2)])
def test_gaussian_nll_loss(kw):
    var = RNG.uniform(0.1, 2.0, size=(4, 3))
    check_layer(lambda nn: nn.GaussianNLLLoss(**kw), A, B, var, modes=("train",))
    check_layer(lambda nn: nn.GaussianNLLLoss(**kw), A, B, var[:, :1], modes=("train",))


@pytest.mark.parametrize("args,expected", [(dict(size_average=False), "sum"), (dict(reduce=False), "none"),
                                           (dict(size_average=True, reduce=True), "mean")])
def test_legacy_size_average_and_reduce(args, expected):
    for cls in ("MSELoss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "KLDivLoss"):
        with pytest.warns(UserWarning, match=f"size_average and reduce args will be deprecated, please use "
                                             f"reduction='{expected}' instead."):
            loss = getattr(tapegrad.nn, cls)(**args)
        assert loss.reduction == expected
    ours, theirs = outcome(lambda lib: lib.nn.MSELoss(**args)(lib.ones(2) * 3, lib.zeros(2)).tolist())
    assert ours == theirs


def test_reprs_and_attributes():
    for make in (lambda nn: nn.MSELoss(), lambda nn: nn.CrossEntropyLoss(ignore_index=3, label_smoothing=0.1),
                 lambda nn: nn.TripletMarginLoss(), lambda nn: nn.GaussianNLLLoss(full=True),
                 lambda nn: nn.PoissonNLLLoss(log_input=False)):
        ours, theirs = build_pair(make)
        check_init(ours, theirs)
        for k in ("reduction", "ignore_index", "label_smoothing", "margin", "p", "eps", "swap", "full",
                  "log_input"):
            assert getattr(ours, k, None) == getattr(theirs, k, None), k


@pytest.mark.parametrize("scenario", [
    lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(3, 4), lib.ones(3)),
    lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(3, 4), lib.tensor([0, 1, 7])),
    lambda lib: lib.nn.CrossEntropyLoss()(lib.ones(4, 4), lib.tensor([0, 1, 2])),
    lambda lib: lib.nn.MSELoss(reduction="avg")(lib.ones(3), lib.ones(3)),
    lambda lib: lib.nn.TripletMarginLoss(margin=0.0),
    lambda lib: lib.nn.BCEWithLogitsLoss()(lib.ones(3), lib.ones(3, 1)),
], ids=["float-target", "out-of-range", "batch-mismatch", "bad-reduction", "margin", "bce-shape"])
def test_errors(scenario):
    ours, theirs = outcome(scenario)
    assert ours == theirs


def test_mse_size_mismatch_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tapegrad.nn.MSELoss()(tapegrad.ones(3, 1), tapegrad.ones(3))
    assert any("Using a target size (torch.Size([3])) that is different to the input size (torch.Size([3, 1]))"
               in str(w.message) for w in caught)
