"""Dropout, Embedding, Upsample, padding, distance, pixel-shuffle and fold layers against torch:
repr, state_dict, default initialisation, outputs and gradients; dropout masks equal to torch's
for the same seed, identity in eval mode, in place when asked."""
import numpy as np
import pytest

import tapegrad
from _layer_harness import build_pair, check_init, check_layer, known, outcome

torch = pytest.importorskip("torch")

RNG = np.random.RandomState(5)


def x(*shape):
    return RNG.randn(*shape)


# ------------------------------------------------------------------------------ dropout
DROPOUT = {
    "Dropout": (lambda nn: nn.Dropout(), (4, 5)), "Dropout(0.2)": (lambda nn: nn.Dropout(0.2), (3, 4, 5)),
    "Dropout(0)": (lambda nn: nn.Dropout(0.0), (3, 4)), "Dropout(1)": (lambda nn: nn.Dropout(1.0), (3, 4)),
    "Dropout1d": (lambda nn: nn.Dropout1d(0.3), (4, 6, 5)), "Dropout1d-unbatched": (lambda nn: nn.Dropout1d(), (6, 5)),
    "Dropout2d": (lambda nn: nn.Dropout2d(0.4), (3, 6, 2, 2)),
    "Dropout2d-unbatched": (lambda nn: nn.Dropout2d(), (6, 2, 2)),
    "Dropout3d": (lambda nn: nn.Dropout3d(), (2, 4, 2, 2, 2)),
    "AlphaDropout": (lambda nn: nn.AlphaDropout(0.2), (5, 6)),
    "FeatureAlphaDropout": (lambda nn: nn.FeatureAlphaDropout(0.3), (4, 6, 3)),
}


@pytest.mark.parametrize("name", list(DROPOUT))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dropout_masks_match_torch_for_the_same_seed(name, dtype):
    make, shape = DROPOUT[name]
    check_layer(make, x(*shape), dtype=dtype, steps=2, names="unbatched" not in name)


def test_dropout_eval_is_identity_and_inplace_overwrites():
    m = tapegrad.nn.Dropout(0.5).eval()
    a = tapegrad.randn(10)
    assert m(a) is a or np.array_equal(m(a).numpy(), a.numpy())
    check_layer(lambda nn: nn.Dropout(0.5, inplace=True), x(4, 5), call=lambda m, a: m(a * 1.0), modes=("train",))

    def scenario(lib):
        lib.manual_seed(3)
        a = lib.ones(4, 5)
        out = lib.nn.Dropout(0.5, inplace=True)(a)
        return out is a, a.tolist()
    ours, theirs = outcome(scenario)
    assert ours == theirs and ours[0]


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_error(p):
    ours, theirs = outcome(lambda lib: lib.nn.Dropout2d(p))
    assert ours == theirs


def test_dropout_reprs():
    for make, _ in DROPOUT.values():
        check_init(*build_pair(make))
    check_init(*build_pair(lambda nn: nn.Dropout2d(inplace=True)))


# ------------------------------------------------------------------------------ embedding
IDX = np.array([[1, 2, 4, 5], [4, 3, 2, 9]])


@pytest.mark.parametrize("kw", [dict(), dict(padding_idx=0), dict(padding_idx=-2), dict(scale_grad_by_freq=True),
                                dict(max_norm=1.0), dict(max_norm=0.5, norm_type=1.0)])
def test_embedding(kw):
    idx = IDX.copy()
    idx[0, 0] = kw.get("padding_idx", 1) % 10
    check_layer(lambda nn: nn.Embedding(10, 3, **kw), idx)
    check_layer(lambda nn: nn.Embedding(10, 3, **kw), idx, dtype="float32")


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient():
    tapegrad.manual_seed(0)
    emb = tapegrad.nn.Embedding(5, 2, padding_idx=1)
    assert emb.weight[1].tolist() == [0.0, 0.0]
    emb(tapegrad.tensor([1, 1, 2])).sum().backward()
    assert emb.weight.grad[1].tolist() == [0.0, 0.0] and emb.weight.grad[2].tolist() == [1.0, 1.0]


def test_embedding_from_pretrained():
    def scenario(lib, **kw):
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        emb = lib.nn.Embedding.from_pretrained(w, **kw)
        out = emb(lib.tensor([2, 0]))
        shared = np.shares_memory(emb.weight.detach().numpy(), w.numpy())
        return repr(emb), emb.weight.requires_grad, np.round(out.tolist(), 5).tolist(), out.requires_grad, shared
    for kw in (dict(), dict(freeze=False), dict(padding_idx=1, max_norm=3.0)):
        ours, theirs = outcome(lambda lib: scenario(lib, **kw))
        assert ours == theirs
    ours, theirs = outcome(lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(3)))
    assert ours == theirs


@pytest.mark.parametrize("make", [lambda nn: nn.Embedding(10, 3, padding_idx=10),
                                  lambda nn: nn.Embedding(10, 3, padding_idx=-11),
                                  lambda nn: nn.Embedding(10, 3, _weight=lib_of(nn).ones(3, 3))])
def test_embedding_errors(make):
    ours, theirs = outcome(lambda lib: make(lib.nn))
    assert ours == theirs


def lib_of(nn):
    return tapegrad if nn is tapegrad.nn else torch


def test_embedding_reprs():
    for make in (lambda nn: nn.Embedding(10, 3), lambda nn: nn.Embedding(10, 3, max_norm=1.0),
                 lambda nn: nn.Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True,
                                         sparse=True)):
        check_init(*build_pair(make))


# ------------------------------------------------------------------------------ upsampling
UP = [lambda nn: nn.Upsample(scale_factor=2), lambda nn: nn.Upsample(size=(5, 7)),
      lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"),
      lambda nn: nn.Upsample(size=5, mode="bilinear", align_corners=True),
      lambda nn: nn.Upsample(scale_factor=(1.5, 2.0), mode="nearest"), lambda nn: nn.UpsamplingNearest2d(size=6),
      lambda nn: nn.UpsamplingBilinear2d(scale_factor=2)]


@pytest.mark.parametrize("make", UP)
def test_upsample_2d(make):
    check_layer(make, x(2, 3, 3, 4))
    check_layer(make, x(1, 2, 3, 4), dtype="float32")


def test_upsample_1d_modes():
    check_layer(lambda nn: nn.Upsample(scale_factor=3), x(2, 3, 4))
    check_layer(lambda nn: nn.Upsample(size=7, mode="linear"), x(2, 3, 4))


# ------------------------------------------------------------------------------ padding
PADS = {
    "ZeroPad2d(1)": (lambda nn: nn.ZeroPad2d(1), (2, 2, 3, 4)),
    "ZeroPad2d(tuple)": (lambda nn: nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4)),
    "ZeroPad1d": (lambda nn: nn.ZeroPad1d(2), (2, 3, 4)),
    "ConstantPad1d": (lambda nn: nn.ConstantPad1d((2, 1), 3.5), (2, 3, 4)),
    "ConstantPad2d": (lambda nn: nn.ConstantPad2d(1, -1.0), (2, 2, 3, 4)),
    "ConstantPad3d": (lambda nn: nn.ConstantPad3d(1, 2.0), (1, 2, 2, 3, 2)),
    "ReflectionPad1d": (lambda nn: nn.ReflectionPad1d(2), (2, 3, 4)),
    "ReflectionPad2d": (lambda nn: nn.ReflectionPad2d((1, 2, 2, 0)), (2, 2, 3, 4)),
    "ReplicationPad1d": (lambda nn: nn.ReplicationPad1d((3, 1)), (2, 3, 4)),
    "ReplicationPad2d": (lambda nn: nn.ReplicationPad2d(2), (2, 2, 3, 4)),
    "CircularPad1d": (lambda nn: nn.CircularPad1d(2), (2, 3, 4)),
    "CircularPad2d": (lambda nn: nn.CircularPad2d((1, 0, 2, 1)), (2, 2, 3, 4)),
}


@pytest.mark.parametrize("name", list(PADS))
def test_padding_layers(name):
    make, shape = PADS[name]
    check_layer(make, x(*shape), names="Circular" not in name)
    check_layer(make, x(*shape), dtype="float32", modes=("eval",), names="Circular" not in name)


def test_circular_pad_input_dim_error():
    ours, theirs = outcome(lambda lib: lib.nn.CircularPad2d(1)(lib.ones(2)))
    assert ours == theirs


# ------------------------------------------------------------------------------ distance, pixel shuffle, fold
@pytest.mark.parametrize("make", [lambda nn: nn.CosineSimilarity(), lambda nn: nn.CosineSimilarity(dim=0, eps=1e-3),
                                  lambda nn: nn.PairwiseDistance(), lambda nn: nn.PairwiseDistance(p=1.0, keepdim=True),
                                  lambda nn: nn.PairwiseDistance(p=3.0, eps=1e-3)])
def test_distance(make):
    check_layer(make, x(4, 5), x(4, 5), names=False)
    check_layer(make, x(4, 5), x(1, 5), dtype="float32", names=False)


GRAD_FN_GAPS = {
    "misc-Dropout1d-unbatched": (lambda nn: nn.Dropout1d(), (6, 5)),
    "misc-CircularPad": (lambda nn: nn.CircularPad1d(2), (2, 3, 4)),
    "misc-PairwiseDistance": (lambda nn: nn.PairwiseDistance(), (4, 5), (4, 5)),
}


@pytest.mark.parametrize("key", [pytest.param(k, marks=known(k), id=k) for k in GRAD_FN_GAPS])
def test_grad_fn_names_of_known_gaps(key):
    make, *shapes = GRAD_FN_GAPS[key]
    check_layer(make, *[x(*s) for s in shapes], modes=("train",))


def test_pixel_shuffle_and_unshuffle():
    check_layer(lambda nn: nn.PixelShuffle(2), x(2, 8, 3, 2))
    check_layer(lambda nn: nn.PixelUnshuffle(2), x(2, 2, 4, 6))


def test_fold_and_unfold():
    check_layer(lambda nn: nn.Unfold(2, padding=1), x(2, 3, 4, 5))
    check_layer(lambda nn: nn.Unfold((2, 3), dilation=(1, 2), stride=2), x(2, 3, 6, 7))
    check_layer(lambda nn: nn.Fold(4, 2), x(2, 12, 9))
    check_layer(lambda nn: nn.Fold((4, 5), (2, 2), stride=(2, 1), padding=1), x(1, 8, 18))


def test_reprs():
    makes = UP + [m for m, _ in PADS.values()] + [
        lambda nn: nn.CosineSimilarity(), lambda nn: nn.PairwiseDistance(), lambda nn: nn.PixelShuffle(2),
        lambda nn: nn.PixelUnshuffle(3), lambda nn: nn.Fold(4, 2), lambda nn: nn.Unfold(2, padding=1),
        lambda nn: nn.ReflectionPad3d(1), lambda nn: nn.ReplicationPad3d((1, 2, 0, 1, 1, 0)),
        lambda nn: nn.ZeroPad3d(1), lambda nn: nn.CircularPad3d(1)]
    for make in makes:
        check_init(*build_pair(make))


def test_modules_utils_helpers():
    from tapegrad.nn.modules.utils import _pair, _quadruple, _reverse_repeat_tuple, _single
    from torch.nn.modules import utils as U
    for v in (3, (1, 2), [4]):
        assert _single(v) == U._single(v) and _pair(v) == U._pair(v) and _quadruple(v) == U._quadruple(v)
    assert _reverse_repeat_tuple((1, 2, 3), 2) == U._reverse_repeat_tuple((1, 2, 3), 2)
