"""nn.functional convolutions, unfold/fold and pooling against torch: values, grad_fn names,
gradients (float64), the shapes' arithmetic (stride, padding incl. 'same', dilation, groups,
ceil_mode) and the errors of common mistakes."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

from torch_compare import compare  # noqa: E402

RNG = np.random.RandomState(0)


def x(*shape):
    return RNG.randn(*shape)


@pytest.mark.parametrize("kw", [{}, {"stride": 2}, {"padding": 1}, {"padding": "same"}, {"padding": "valid"},
                                {"dilation": 2, "padding": 2}, {"stride": (2, 1), "padding": (1, 0)}])
def test_conv2d(kw):
    compare(lambda lib, a, w, b: lib.nn.functional.conv2d(a, w, b, **kw), x(2, 3, 7, 6), x(4, 3, 3, 2), x(4))


def test_conv2d_same_even_kernel_pads_asymmetrically():
    compare(lambda lib, a, w: lib.nn.functional.conv2d(a, w, padding="same"), x(1, 2, 5, 5), x(3, 2, 4, 4))


def test_conv2d_groups_and_unbatched():
    compare(lambda lib, a, w: lib.nn.functional.conv2d(a, w, groups=2), x(2, 4, 5, 5), x(6, 2, 3, 3))
    compare(lambda lib, a, w: lib.nn.functional.conv2d(a, w), x(3, 5, 5), x(2, 3, 3, 3))


def test_conv1d_and_conv3d():
    compare(lambda lib, a, w, b: lib.nn.functional.conv1d(a, w, b, stride=2, padding=1), x(2, 3, 9), x(4, 3, 3),
            x(4))
    compare(lambda lib, a, w: lib.nn.functional.conv3d(a, w, padding=1), x(1, 2, 4, 4, 4), x(2, 2, 3, 3, 3))


@pytest.mark.parametrize("kw", [{}, {"stride": 2}, {"stride": 2, "padding": 1, "output_padding": 1},
                                {"dilation": 2}, {"groups": 2}])
def test_conv_transpose2d(kw):
    compare(lambda lib, a, w, b: lib.nn.functional.conv_transpose2d(a, w, b, **kw), x(2, 4, 4, 5), x(4, 3, 3, 3),
            x(3 * kw.get("groups", 1)))


def test_conv_transpose1d():
    compare(lambda lib, a, w: lib.nn.functional.conv_transpose1d(a, w, stride=3, padding=1), x(2, 2, 5), x(2, 3, 4))


def test_conv_double_backward_matches_torch():
    out = {}
    for lib in (tapegrad, torch):
        a = lib.from_numpy(x(1, 2, 5, 5) if lib is tapegrad else out["a"]).requires_grad_()
        w = lib.from_numpy(x(3, 2, 3, 3) if lib is tapegrad else out["w"]).requires_grad_()
        if lib is tapegrad:
            out["a"], out["w"] = a.detach().numpy().copy(), w.detach().numpy().copy()
        y = lib.nn.functional.conv2d(a, w, stride=2, padding=1)
        ga, gw = lib.autograd.grad((y * y).sum(), (a, w), create_graph=True)
        second = lib.autograd.grad((ga.sin().sum() + (gw * gw).sum()), (a, w))
        out[lib] = [t.numpy() for t in second]
    for p, q in zip(out[tapegrad], out[torch]):
        np.testing.assert_allclose(p, q, rtol=1e-7, atol=1e-9)


def test_conv_errors():
    F = tapegrad.nn.functional
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[6, 1, 5, 5\], expected "
                                           r"input\[2, 3, 8, 8\] to have 1 channels, but got 3 channels instead"):
        F.conv2d(tapegrad.randn(2, 3, 8, 8), tapegrad.randn(6, 1, 5, 5))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(tapegrad.randn(1, 1, 2, 2), tapegrad.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(tapegrad.randn(1, 1, 4, 4), tapegrad.randn(1, 1, 3, 3), stride=2, padding="same")


def test_float32_conv_stays_float32():
    a = tapegrad.randn(2, 3, 6, 6)
    w = tapegrad.randn(4, 3, 3, 3, requires_grad=True)
    y = tapegrad.nn.functional.conv2d(a, w)
    y.sum().backward()
    assert y.dtype == tapegrad.float32 and w.grad.dtype == tapegrad.float32


def test_unfold_fold():
    compare(lambda lib, a: lib.nn.functional.unfold(a, (2, 3), dilation=1, padding=1, stride=2), x(2, 3, 5, 6))
    compare(lambda lib, c: lib.nn.functional.fold(c, (4, 5), 2), x(2, 12, 12))


@pytest.mark.parametrize("kw", [{}, {"stride": 1}, {"padding": 1}, {"ceil_mode": True}, {"dilation": 2},
                                {"stride": 2, "padding": 1, "ceil_mode": True}])
def test_max_pool2d_with_indices(kw):
    compare(lambda lib, a: lib.nn.functional.max_pool2d(a, 3, return_indices=True, **kw), x(2, 3, 9, 8))


def test_max_pool1d_and_ties_and_nan():
    compare(lambda lib, a: lib.nn.functional.max_pool1d(a, 3, 2, 1, return_indices=True), x(2, 3, 10))
    ties = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.5, 2.0, 2.0]]]])
    compare(lambda lib, a: lib.nn.functional.max_pool2d(a, 2, return_indices=True), ties)
    nans = np.array([[[[1.0, np.nan, 0.0, 2.0], [np.nan, 0.5, 2.0, 2.0]]]])
    compare(lambda lib, a: lib.nn.functional.max_pool2d(a, 2, return_indices=True), nans, grad=False)


@pytest.mark.parametrize("kw", [{}, {"stride": 1}, {"padding": 1}, {"padding": 1, "count_include_pad": False},
                                {"ceil_mode": True, "stride": 2}, {"divisor_override": 2},
                                {"ceil_mode": True, "padding": 1, "count_include_pad": False}])
def test_avg_pool2d(kw):
    compare(lambda lib, a: lib.nn.functional.avg_pool2d(a, 3, **kw), x(2, 2, 8, 7))


def test_avg_pool1d():
    compare(lambda lib, a: lib.nn.functional.avg_pool1d(a, 3, 2, 1, ceil_mode=True), x(2, 3, 10))


@pytest.mark.parametrize("size", [1, (2, 3), 3, (5, 4), (None, 2)])
def test_adaptive_pools(size):
    compare(lambda lib, a: lib.nn.functional.adaptive_avg_pool2d(a, size), x(2, 3, 7, 5))
    if size != (None, 2):
        compare(lambda lib, a: lib.nn.functional.adaptive_max_pool2d(a, size, return_indices=True), x(2, 3, 7, 5))


def test_adaptive_pools_1d():
    compare(lambda lib, a: lib.nn.functional.adaptive_avg_pool1d(a, 3), x(2, 3, 7))
    compare(lambda lib, a: lib.nn.functional.adaptive_max_pool1d(a, 3, return_indices=True), x(2, 3, 7))


def test_pool_errors():
    F = tapegrad.nn.functional
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(tapegrad.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(tapegrad.randn(1, 1, 1, 1), 2)
