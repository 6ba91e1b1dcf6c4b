"""nn.functional normalization against torch: batch_norm (training/eval, running statistics,
momentum), layer_norm, group_norm, instance_norm; values, grad_fn names, gradients, double
backward, and the errors of common mistakes."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

from torch_compare import compare  # noqa: E402

RNG = np.random.RandomState(0)


def x(*shape):
    return RNG.randn(*shape)
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_and_running_stats(shape, training):
    c = shape[1]
    rm0, rv0 = x(c), np.abs(x(c)) + 0.5
    stats = {}

    def run(lib, a, w, b):
        rm, rv = lib.from_numpy(rm0.copy()), lib.from_numpy(rv0.copy())
        out = lib.nn.functional.batch_norm(a, rm, rv, w, b, training=training, momentum=0.3, eps=1e-3)
        stats[lib] = (rm.numpy(), rv.numpy())
        return out
    compare(run, x(*shape), x(c), x(c))
    for p, q in zip(stats[tapegrad], stats[torch]):
        np.testing.assert_allclose(p, q, rtol=1e-7)


def test_batch_norm_without_running_stats_or_affine():
    compare(lambda lib, a: lib.nn.functional.batch_norm(a, None, None, training=True), x(5, 3, 2))


def test_batch_norm_double_backward():
    res = {}
    arrays = [x(4, 3), x(3)]
    for lib in (tapegrad, torch):
        a, w = [lib.from_numpy(v.copy()).requires_grad_() for v in arrays]
        y = lib.nn.functional.batch_norm(a, None, None, w, None, training=True)
        ga, = lib.autograd.grad((y ** 3).sum(), (a,), create_graph=True)
        res[lib] = [g.numpy() for g in lib.autograd.grad(ga.pow(2).sum(), (a, w))]
    for p, q in zip(res[tapegrad], res[torch]):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-8)


def test_batch_norm_one_value_per_channel_error():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"torch.Size\(\[1, 10\]\)"):
        tapegrad.nn.functional.batch_norm(tapegrad.randn(1, 10), tapegrad.zeros(10), tapegrad.ones(10),
                                          training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 10 elements not 9"):
        tapegrad.nn.functional.batch_norm(tapegrad.randn(2, 10), tapegrad.zeros(9), tapegrad.ones(10),
                                          training=True)


@pytest.mark.parametrize("shape,norm", [((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 5), [5])])
def test_layer_norm(shape, norm):
    n = tuple(norm)
    compare(lambda lib, a, w, b: lib.nn.functional.layer_norm(a, norm, w, b), x(*shape), x(*n), x(*n))
    compare(lambda lib, a: lib.nn.functional.layer_norm(a, norm, eps=1e-2), x(*shape))


def test_layer_norm_error():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[9\], expected input with shape \[\*, 9\], "
                                           r"but got input of size\[2, 10\]"):
        tapegrad.nn.functional.layer_norm(tapegrad.randn(2, 10), (9,))
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        tapegrad.nn.functional.layer_norm(tapegrad.randn(2, 10), 10)


def test_group_norm():
    compare(lambda lib, a, w, b: lib.nn.functional.group_norm(a, 2, w, b), x(3, 4, 5), x(4), x(4))
    compare(lambda lib, a: lib.nn.functional.group_norm(a, 3), x(2, 6, 2, 2))
    with pytest.raises(RuntimeError, match="Expected number of channels in input to be divisible by num_groups"):
        tapegrad.nn.functional.group_norm(tapegrad.randn(2, 10), 3)


def test_instance_norm():
    compare(lambda lib, a, w, b: lib.nn.functional.instance_norm(a, weight=w, bias=b), x(2, 3, 5), x(3), x(3))
    stats = {}

    def run(lib, a):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        out = lib.nn.functional.instance_norm(a, rm, rv, momentum=0.2)
        stats[lib] = (rm.numpy(), rv.numpy())
        return out
    compare(run, x(2, 3, 4, 4))
    for p, q in zip(stats[tapegrad], stats[torch]):
        np.testing.assert_allclose(p, q, rtol=1e-7)
