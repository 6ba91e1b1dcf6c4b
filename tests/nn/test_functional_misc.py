"""nn.functional embedding, dropout (masks drawn exactly as torch draws them), pad, one_hot,
normalize, interpolate, pixel shuffle, distances and scaled dot-product attention, against torch."""
import warnings

import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

from torch_compare import compare  # noqa: E402

RNG = np.random.RandomState(0)


def x(*shape):
    return RNG.randn(*shape)


def test_embedding():
    idx = np.array([[1, 3, 3], [0, 4, 1]])
    compare(lambda lib, i, w: lib.nn.functional.embedding(i, w), idx, x(5, 3))
    compare(lambda lib, i, w: lib.nn.functional.embedding(i, w, padding_idx=3), idx, x(5, 3))
    compare(lambda lib, i, w: lib.nn.functional.embedding(i, w, padding_idx=-1, scale_grad_by_freq=True), idx,
            x(5, 3))


def test_embedding_max_norm_renormalizes_rows_in_place():
    w0 = x(5, 3) * 3
    rows = {}
    for lib in (tapegrad, torch):
        w = lib.from_numpy(w0.copy())
        out = lib.nn.functional.embedding(lib.tensor([1, 2, 2]), w, max_norm=1.0)
        rows[lib] = (w.numpy().copy(), out.numpy())
    for p, q in zip(rows[tapegrad], rows[torch]):
        np.testing.assert_allclose(p, q, rtol=1e-6)


def test_embedding_index_error():
    with pytest.raises(IndexError, match="index out of range in self"):
        tapegrad.nn.functional.embedding(tapegrad.tensor([5]), tapegrad.randn(5, 2))


@pytest.mark.parametrize("fn,shape,p", [("dropout", (8,), 0.5), ("dropout", (5, 7), 0.3), ("dropout2d", (3, 4, 2, 2), 0.5),
                                        ("dropout1d", (3, 4, 5), 0.4), ("alpha_dropout", (6, 5), 0.2),
                                        ("feature_alpha_dropout", (3, 4, 2), 0.3)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_draws_torchs_mask(fn, shape, p, dtype):
    outs, grads = {}, {}
    for lib in (tapegrad, torch):
        lib.manual_seed(0)
        a = lib.ones(*shape, dtype=getattr(lib, dtype), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = getattr(lib.nn.functional, fn)(a, p, training=True)
            y2 = getattr(lib.nn.functional, fn)(a, p, training=True)  # the generator advanced alike
        (y * 2 + y2).sum().backward()
        outs[lib] = (y.detach().numpy(), y2.detach().numpy(), type(y.grad_fn).__name__)
        grads[lib] = a.grad.numpy()
    np.testing.assert_allclose(outs[tapegrad][0], outs[torch][0], rtol=1e-6)
    np.testing.assert_allclose(outs[tapegrad][1], outs[torch][1], rtol=1e-6)
    assert outs[tapegrad][2] == outs[torch][2]
    np.testing.assert_allclose(grads[tapegrad], grads[torch], rtol=1e-6)


def test_dropout_seed_example_and_identity_cases():
    tapegrad.manual_seed(0)
    out = tapegrad.nn.functional.dropout(tapegrad.ones(8), 0.5)
    torch.manual_seed(0)
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.dropout(torch.ones(8), 0.5).numpy())
    a = tapegrad.ones(3, requires_grad=True)
    assert tapegrad.nn.functional.dropout(a, 0.0) is a
    assert tapegrad.nn.functional.dropout(a, 0.5, training=False) is a
    assert tapegrad.nn.functional.dropout(a, 1.0).sum().item() == 0.0
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        tapegrad.nn.functional.dropout(a, 1.5)


@pytest.mark.parametrize("mode,pad,shape", [("constant", (1, 2), (2, 3)), ("constant", (1, 0, 2, 1), (1, 2, 3, 3)),
                                            ("constant", (-1, 1), (2, 4)), ("reflect", (2, 1), (2, 3, 5)),
                                            ("reflect", (1, 2, 2, 1), (1, 2, 4, 4)), ("replicate", (2, 3), (2, 3, 4)),
                                            ("replicate", (1, 2, 0, 1), (1, 2, 3, 3)),
                                            ("circular", (1, 2, 2, 1), (1, 2, 3, 4))])
def test_pad(mode, pad, shape):
    compare(lambda lib, a: lib.nn.functional.pad(a, pad, mode=mode), x(*shape), names=mode != "circular")
    if mode == "constant":
        compare(lambda lib, a: lib.nn.functional.pad(a, pad, value=2.5), x(*shape))


@pytest.mark.parametrize("shape,pad,mode", [((2, 3, 4, 4), (1, 1), "reflect"), ((4,), (1, 1), "reflect"),
                                            ((2, 3, 4, 4, 4, 4), (1, 1), "replicate"),
                                            ((1, 1, 4, 4, 4), (1,) * 8, "circular"), ((3, 4), (1,) * 4, "reflect")])
def test_pad_unsupported_size_message(shape, pad, mode):
    def message(lib):
        with pytest.raises(NotImplementedError) as info:
            lib.nn.functional.pad(lib.ones(shape), pad, mode=mode)
        return str(info.value)
    assert message(tapegrad) == message(torch)


def test_one_hot():
    compare(lambda lib, t: lib.nn.functional.one_hot(t), np.array([0, 2, 1]), grad=False)
    compare(lambda lib, t: lib.nn.functional.one_hot(t, 5), np.array([[0, 2], [4, 1]]), grad=False)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        tapegrad.nn.functional.one_hot(tapegrad.tensor([3]), 2)


def test_normalize_and_distances():
    compare(lambda lib, a: lib.nn.functional.normalize(a), x(3, 4))
    compare(lambda lib, a: lib.nn.functional.normalize(a, p=1, dim=0), x(3, 4))
    compare(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), x(3, 4), x(3, 4))
    compare(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim=0), x(3, 4), x(1, 4))
    # torch's pairwise_distance ends in NormBackward1; tapegrad's norm is LinalgVectorNormBackward0
    compare(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b), x(3, 4), x(3, 4), names=False)
    compare(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, p=1, keepdim=True), x(3, 4), x(3, 4),
            names=False)


@pytest.mark.parametrize("kw", [{"scale_factor": 2}, {"size": (5, 7)}, {"scale_factor": 1.5},
                                {"scale_factor": 2, "mode": "bilinear"},
                                {"size": (5, 7), "mode": "bilinear", "align_corners": True},
                                {"size": (3, 2), "mode": "bilinear", "align_corners": False},
                                {"scale_factor": 0.5, "mode": "bilinear"}, {"size": (2, 3), "mode": "area"},
                                {"scale_factor": 2.5, "mode": "bilinear", "recompute_scale_factor": True}])
def test_interpolate_2d(kw):
    compare(lambda lib, a: lib.nn.functional.interpolate(a, **kw), x(2, 3, 4, 5))


@pytest.mark.parametrize("kw", [{"scale_factor": 2}, {"size": 7}, {"scale_factor": 2, "mode": "linear"},
                                {"size": 9, "mode": "linear", "align_corners": True}])
def test_interpolate_1d(kw):
    compare(lambda lib, a: lib.nn.functional.interpolate(a, **kw), x(2, 3, 5))


def test_pixel_shuffle():
    compare(lambda lib, a: lib.nn.functional.pixel_shuffle(a, 2), x(2, 8, 3, 2))
    compare(lambda lib, a: lib.nn.functional.pixel_unshuffle(a, 2), x(2, 2, 4, 6))


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"}, {"mask": "float"}])
def test_scaled_dot_product_attention(kw):
    kw = dict(kw)
    mask = kw.pop("mask", None)
    arrays = [x(2, 3, 4, 5), x(2, 3, 6, 5), x(2, 3, 6, 2)]
    if mask == "bool":
        m = np.random.RandomState(2).rand(4, 6) > 0.3
        m[:, 0] = True
        compare(lambda lib, q, k, v, m: lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw),
                *arrays, m, names=False)
    elif mask == "float":
        compare(lambda lib, q, k, v, m: lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m, **kw),
                *arrays, x(4, 6), names=False)
    else:
        compare(lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw), *arrays,
                names=False)
