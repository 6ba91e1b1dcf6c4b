"""Normalization layers against torch: BatchNorm1d/2d/3d running statistics (momentum, cumulative
average, track_running_stats, affine, bias), train/eval behaviour, state_dict incl.
num_batches_tracked, input-dim errors; LayerNorm and GroupNorm values and gradients."""
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad
from _layer_harness import build_pair, check_init, check_layer, outcome

torch = pytest.importorskip("torch")

RNG = np.random.RandomState(2)


def x(*shape):
    return RNG.randn(*shape) * 2 + 0.5


BN = [dict(), dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False),
      dict(track_running_stats=False), dict(affine=False, track_running_stats=False), dict(bias=False)]


@pytest.mark.parametrize("kw", BN, ids=[str(k) for k in BN])
def test_batch_norm2d_train_then_eval(kw):
    ours, _ = check_layer(lambda nn: nn.BatchNorm2d(3, **kw), x(4, 3, 5, 2), steps=3)
    if ours.track_running_stats:
        assert ours.num_batches_tracked.item() == 3


@pytest.mark.parametrize("kw", BN[:3], ids=[str(k) for k in BN[:3]])
def test_batch_norm1d_2d_and_3d_inputs(kw):
    check_layer(lambda nn: nn.BatchNorm1d(3, **kw), x(5, 3), steps=2)
    check_layer(lambda nn: nn.BatchNorm1d(3, **kw), x(4, 3, 6), steps=2, dtype="float32")
    check_layer(lambda nn: nn.BatchNorm3d(2, **kw), x(2, 2, 3, 2, 2), steps=2)


def test_batch_norm_float32_running_stats():
    check_layer(lambda nn: nn.BatchNorm2d(4), x(8, 4, 3, 3), dtype="float32", steps=4)


def test_cumulative_average_is_the_plain_mean_of_batch_statistics():
    bn = tapegrad.nn.BatchNorm1d(2, momentum=None)
    batches = [x(6, 2) for _ in range(3)]
    for b in batches:
        bn(tapegrad.from_numpy(b).float())
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.mean(0) for b in batches], 0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-5)


def test_eval_uses_running_statistics_and_leaves_them_alone():
    bn = tapegrad.nn.BatchNorm1d(2).eval()
    out = bn(tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(out.detach().numpy(), np.array([[1, 2], [3, 4]]) / np.sqrt(1 + 1e-5), rtol=1e-6)
    assert bn.num_batches_tracked.item() == 0
    assert bn.running_mean.tolist() == [0.0, 0.0]


def test_state_dict_keys_buffers_and_dtypes():
    for make in (lambda nn: nn.BatchNorm2d(6), lambda nn: nn.BatchNorm1d(3, affine=False),
                 lambda nn: nn.BatchNorm2d(6, momentum=None, affine=False, track_running_stats=False),
                 lambda nn: nn.BatchNorm1d(3, bias=False)):
        ours, theirs = build_pair(make)
        check_init(ours, theirs)
        assert [k for k, _ in ours.named_buffers()] == [k for k, _ in theirs.named_buffers()]
        assert (ours.num_batches_tracked is None) == (theirs.num_batches_tracked is None)
    ours = tapegrad.nn.BatchNorm2d(6)
    assert repr(ours) == "BatchNorm2d(6, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert ours.num_batches_tracked.dtype == tapegrad.int64 and ours.num_batches_tracked.dim() == 0
    assert ours.state_dict()._metadata[""]["version"] == 2


def test_old_state_dict_without_num_batches_tracked_loads():
    def scenario(lib):
        bn = lib.nn.BatchNorm1d(2)
        sd = OrderedDict((k, v) for k, v in bn.state_dict().items() if k != "num_batches_tracked")
        sd._metadata = OrderedDict({"": {"version": 1}})
        result = bn.load_state_dict(sd)
        return repr(result), bn.num_batches_tracked.item()
    ours, theirs = outcome(scenario)
    assert ours == theirs


def test_reset_running_stats_and_to_double():
    bn = tapegrad.nn.BatchNorm1d(2)
    bn(tapegrad.randn(4, 2))
    bn.reset_running_stats()
    assert bn.running_var.tolist() == [1.0, 1.0] and bn.num_batches_tracked.item() == 0
    bn.double()
    assert bn.running_mean.dtype == tapegrad.float64 and bn.num_batches_tracked.dtype == tapegrad.int64


@pytest.mark.parametrize("make,shape", [
    (lambda nn: nn.BatchNorm1d(3), (2, 3, 4, 5)), (lambda nn: nn.BatchNorm1d(3), (3,)),
    (lambda nn: nn.BatchNorm2d(3), (2, 3, 4)), (lambda nn: nn.BatchNorm3d(3), (2, 3, 4, 4)),
    (lambda nn: nn.BatchNorm1d(3), (1, 3)), (lambda nn: nn.BatchNorm2d(3), (1, 3, 1, 1)),
])
def test_input_errors(make, shape):
    ours, theirs = outcome(lambda lib: make(lib.nn)(lib.ones(*shape)))
    assert ours == theirs


def test_one_sample_is_fine_in_eval():
    ours, theirs = outcome(lambda lib: make_eval(lib)(lib.ones(1, 3)).tolist())
    assert ours == theirs


def make_eval(lib):
    return lib.nn.BatchNorm1d(3).eval()


LN = [dict(normalized_shape=4), dict(normalized_shape=[3, 4]), dict(normalized_shape=4, elementwise_affine=False),
      dict(normalized_shape=(4,), bias=False), dict(normalized_shape=4, eps=1e-2)]


@pytest.mark.parametrize("kw", LN, ids=[str(k) for k in LN])
def test_layer_norm(kw):
    check_layer(lambda nn: nn.LayerNorm(**kw), x(2, 3, 4))
    check_layer(lambda nn: nn.LayerNorm(**kw), x(5, 3, 4), dtype="float32")


def test_layer_norm_with_trained_affine():
    def make(nn):
        ln = nn.LayerNorm(4)
        nn.init.uniform_(ln.weight, 0.5, 1.5)
        nn.init.uniform_(ln.bias, -1, 1)
        return ln
    check_layer(make, x(3, 4))


GN = [dict(num_groups=2, num_channels=4), dict(num_groups=4, num_channels=4), dict(num_groups=1, num_channels=4),
      dict(num_groups=2, num_channels=4, affine=False), dict(num_groups=2, num_channels=4, bias=False)]


@pytest.mark.parametrize("kw", GN, ids=[str(k) for k in GN])
def test_group_norm(kw):
    check_layer(lambda nn: nn.GroupNorm(**kw), x(2, 4, 3, 3))
    check_layer(lambda nn: nn.GroupNorm(**kw), x(3, 4, 5), dtype="float32")


def test_group_norm_errors():
    ours, theirs = outcome(lambda lib: lib.nn.GroupNorm(3, 4))
    assert ours == theirs == ("ValueError", "num_channels (4) must be divisible by num_groups (3)")


IN = [dict(), dict(affine=True), dict(track_running_stats=True), dict(affine=True, track_running_stats=True,
                                                                     momentum=None)]


@pytest.mark.parametrize("kw", IN, ids=[str(k) for k in IN])
def test_instance_norm(kw):
    check_layer(lambda nn: nn.InstanceNorm2d(3, **kw), x(2, 3, 4, 5), steps=2)
    check_layer(lambda nn: nn.InstanceNorm1d(3, **kw), x(3, 6), steps=2, dtype="float32")


@pytest.mark.parametrize("make,shape", [(lambda nn: nn.InstanceNorm1d(3, affine=True), (2, 4, 5)),
                                        (lambda nn: nn.InstanceNorm2d(3), (2, 3))])
def test_instance_norm_errors(make, shape):
    ours, theirs = outcome(lambda lib: make(lib.nn)(lib.ones(*shape)))
    assert ours == theirs
