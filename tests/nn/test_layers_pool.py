"""Pooling layers against torch: repr, outputs, argmax indices and gradients (ceil_mode, padding,
dilation, count_include_pad, divisor_override, adaptive sizes incl. None), float64 and float32."""
import numpy as np
import pytest

from _layer_harness import build_pair, check_init, check_layer, outcome

torch = pytest.importorskip("torch")

RNG = np.random.RandomState(1)


def x(*shape):
    return RNG.randn(*shape)


MAX2D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, stride=2, ceil_mode=True),
         dict(kernel_size=(2, 3), dilation=(2, 1)), dict(kernel_size=2, return_indices=True),
         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)]


@pytest.mark.parametrize("kw", MAX2D, ids=[str(k) for k in MAX2D])
def test_max_pool2d(kw):
    check_layer(lambda nn: nn.MaxPool2d(**kw), x(2, 3, 7, 8))


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1, return_indices=True),
                                dict(kernel_size=2, ceil_mode=True, dilation=2)])
def test_max_pool1d(kw):
    check_layer(lambda nn: nn.MaxPool1d(**kw), x(2, 3, 9))
    check_layer(lambda nn: nn.MaxPool1d(**kw), x(3, 9), dtype="float32")


AVG2D = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=3, padding=1,
                                                                            count_include_pad=False),
         dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=2, divisor_override=3)]


@pytest.mark.parametrize("kw", AVG2D, ids=[str(k) for k in AVG2D])
def test_avg_pool2d(kw):
    check_layer(lambda nn: nn.AvgPool2d(**kw), x(2, 3, 7, 6))
    check_layer(lambda nn: nn.AvgPool2d(**kw), x(3, 7, 6), dtype="float32")


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                                          count_include_pad=False)])
def test_avg_pool1d(kw):
    check_layer(lambda nn: nn.AvgPool1d(**kw), x(2, 3, 10))


@pytest.mark.parametrize("size", [1, 3, (2, 4), (None, 3), (5, 2)])
def test_adaptive_pool2d(size):
    check_layer(lambda nn: nn.AdaptiveAvgPool2d(size), x(2, 3, 7, 6))
    check_layer(lambda nn: nn.AdaptiveMaxPool2d(size), x(2, 3, 7, 6))
    check_layer(lambda nn: nn.AdaptiveMaxPool2d(size, return_indices=True), x(3, 7, 6), dtype="float32")


@pytest.mark.parametrize("size", [1, 4, 7])
def test_adaptive_pool1d(size):
    check_layer(lambda nn: nn.AdaptiveAvgPool1d(size), x(2, 3, 10))
    check_layer(lambda nn: nn.AdaptiveMaxPool1d(size, return_indices=True), x(2, 3, 10))


def test_reprs():
    makes = [lambda nn: nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True),
             lambda nn: nn.MaxPool1d(2), lambda nn: nn.AvgPool2d(3, divisor_override=2),
             lambda nn: nn.AvgPool1d(3, 2, 1, True, False), lambda nn: nn.AdaptiveAvgPool2d((1, 1)),
             lambda nn: nn.AdaptiveMaxPool2d((None, 3)), lambda nn: nn.AdaptiveMaxPool1d(2, return_indices=True),
             lambda nn: nn.AdaptiveAvgPool1d(3)]
    for make in makes:
        check_init(*build_pair(make))


def test_indices_dtype_and_pool_errors():
    def indices(lib):
        out, idx = lib.nn.MaxPool2d(2, return_indices=True)(lib.arange(16.0).view(1, 1, 4, 4))
        return str(idx.dtype), idx.tolist()
    ours, theirs = outcome(indices)
    assert ours[0].split(".")[-1] == theirs[0].split(".")[-1] and ours[1] == theirs[1]
    ours, theirs = outcome(lambda lib: lib.nn.MaxPool2d(4)(lib.ones(1, 1, 2, 2)))
    assert ours[0] == theirs[0]
