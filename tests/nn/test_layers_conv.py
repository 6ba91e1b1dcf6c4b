"""Convolution layers against torch: default initialisation from the seed, repr, state_dict, and
outputs and gradients with stride, padding ('same'/'valid'), dilation, groups, padding modes,
transposed convolutions with output_padding/output_size, in float64 and float32."""
import numpy as np
import pytest

import tapegrad
from _layer_harness import build_pair, check_init, check_layer, outcome

torch = pytest.importorskip("torch")

RNG = np.random.RandomState(0)


def x(*shape):
    return RNG.randn(*shape)


def test_conv2d_default_init_is_torchs_exactly():
    tapegrad.manual_seed(0)
    ours = tapegrad.nn.Conv2d(1, 6, 5)
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(1, 6, 5)
    assert repr(ours) == "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))"
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    np.testing.assert_array_equal(ours.bias.detach().numpy(), theirs.bias.detach().numpy())


CONV2D = [
    dict(),
    dict(stride=2, padding=1),
    dict(padding="same"),
    dict(padding="same", dilation=(1, 2), kernel_size=(4, 3)),
    dict(padding="valid", bias=False),
    dict(dilation=2, padding=2, groups=2),
    dict(stride=(2, 1), padding=(1, 0)),
    dict(padding=2, padding_mode="reflect"),
    dict(padding=(1, 2), padding_mode="replicate"),
    dict(padding=1, padding_mode="circular", stride=2),
    dict(padding="same", padding_mode="reflect", kernel_size=4),
]


@pytest.mark.parametrize("kw", CONV2D, ids=[str(k) for k in CONV2D])
def test_conv2d(kw):
    kw = dict(kw)
    k = kw.pop("kernel_size", 3)
    check_layer(lambda nn: nn.Conv2d(4, 6, k, **kw), x(2, 4, 7, 6))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_dtypes_and_unbatched(dtype):
    check_layer(lambda nn: nn.Conv2d(3, 2, 3, padding=1), x(3, 5, 5), dtype=dtype)
    check_layer(lambda nn: nn.Conv2d(3, 6, 3, groups=3), x(2, 3, 6, 6), dtype=dtype)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, dilation=2), dict(padding="same", groups=2),
                                dict(padding=2, padding_mode="reflect"), dict(bias=False, padding="valid")])
def test_conv1d(kw):
    check_layer(lambda nn: nn.Conv1d(4, 6, 3, **kw), x(3, 4, 9))


def test_conv1d_unbatched_float32():
    check_layer(lambda nn: nn.Conv1d(2, 3, 2), x(2, 5), dtype="float32")


def test_conv3d():
    check_layer(lambda nn: nn.Conv3d(2, 3, 2, padding=1, stride=(1, 2, 1)), x(2, 2, 3, 4, 3))


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, output_padding=1), dict(stride=2, padding=1, groups=2),
                                dict(dilation=2, bias=False), dict(stride=(2, 3), output_padding=(1, 2))])
def test_conv_transpose2d(kw):
    check_layer(lambda nn: nn.ConvTranspose2d(4, 6, 3, **kw), x(2, 4, 4, 5))


def test_conv_transpose2d_output_size_and_float32():
    check_layer(lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2), x(1, 2, 4, 4), call=lambda m, a: m(a, [10, 10]))
    check_layer(lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2), x(1, 2, 4, 4),
                call=lambda m, a: m(a, output_size=(1, 3, 9, 10)), dtype="float32")


def test_conv_transpose1d_and_3d():
    check_layer(lambda nn: nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1, output_padding=2), x(2, 3, 5))
    check_layer(lambda nn: nn.ConvTranspose1d(3, 2, 4), x(3, 5), dtype="float32")
    check_layer(lambda nn: nn.ConvTranspose3d(2, 2, 2, stride=2), x(1, 2, 2, 3, 2))


@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv2d(4, 4, 3, groups=0),
    lambda nn: nn.Conv2d(4, 4, 3, groups=3),
    lambda nn: nn.Conv2d(4, 5, 3, groups=2),
    lambda nn: nn.Conv2d(4, 4, 3, padding="full"),
    lambda nn: nn.Conv2d(4, 4, 3, padding="same", stride=2),
    lambda nn: nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
])
def test_constructor_errors(make):
    ours, theirs = outcome(lambda lib: make(lib.nn))
    assert ours[0] == theirs[0] == "ValueError"
    assert ours[1] == theirs[1] or "{" in theirs[1]  # torch prints a set, whose order varies


def test_bad_padding_mode_message():
    ours, _ = outcome(lambda lib: lib.nn.Conv2d(1, 1, 1, padding_mode="bad"))
    assert ours == ("ValueError", "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, "
                                  "but got padding_mode='bad'")


@pytest.mark.parametrize("size", [[12, 12], [1, 2, 3]])
def test_conv_transpose_output_size_errors(size):
    def scenario(lib):
        lib.manual_seed(0)
        return lib.nn.ConvTranspose2d(2, 2, 3, stride=2)(lib.ones(1, 2, 4, 4), output_size=size)
    ours, theirs = outcome(scenario)
    assert ours == theirs


def test_wrong_channels_error():
    def scenario(lib):
        lib.manual_seed(0)
        return lib.nn.Conv2d(3, 2, 3)(lib.ones(1, 4, 5, 5))
    ours, theirs = outcome(scenario)
    assert ours == theirs


def test_reprs_and_padding_bookkeeping():
    makes = [lambda nn: nn.Conv2d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False,
                                  padding_mode="reflect"),
             lambda nn: nn.Conv2d(2, 4, (3, 4), padding="same", dilation=(1, 2)),
             lambda nn: nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1),
             lambda nn: nn.Conv1d(2, 4, 3, padding=1, padding_mode="circular")]
    for make in makes:
        ours, theirs = build_pair(make)
        check_init(ours, theirs)
        assert list(ours._reversed_padding_repeated_twice) == list(theirs._reversed_padding_repeated_twice)
        for attr in ("kernel_size", "stride", "padding", "dilation", "output_padding", "groups", "transposed"):
            assert getattr(ours, attr) == getattr(theirs, attr), attr


def test_lenet_style_stack_trains_like_torch():
    def make(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3),
                             nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
    check_layer(make, x(4, 1, 8, 8), steps=2)
    check_layer(make, x(4, 1, 8, 8), dtype="float32", steps=2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_small_cnn_trains_step_for_step_like_torch(dtype):
    """Five SGD steps of a CNN with batch norm and dropout, from the same seed: same losses, weights and stats."""
    def make(nn):
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding="same"), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Dropout2d(0.25), nn.Conv2d(4, 6, 3, stride=2, bias=False), nn.GELU(),
                             nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.3), nn.Linear(6, 3))
    images = x(8, 1, 10, 10).astype(dtype)
    labels = np.random.RandomState(9).randint(0, 3, size=8)
    runs = {}
    for lib in (tapegrad, torch):
        lib.manual_seed(0)
        model = make(lib.nn).to(getattr(lib, dtype))
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss_fn = lib.nn.CrossEntropyLoss(label_smoothing=0.1)
        losses = []
        for _ in range(5):
            opt.zero_grad()
            loss = loss_fn(model(lib.from_numpy(images)), lib.from_numpy(labels))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        with lib.no_grad():
            final = model(lib.from_numpy(images)).numpy()
        runs[lib] = losses, {k: v.numpy() for k, v in model.state_dict().items()}, final
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    (l1, s1, f1), (l2, s2, f2) = runs[tapegrad], runs[torch]
    np.testing.assert_allclose(l1, l2, **tol)
    assert list(s1) == list(s2)
    for k in s2:
        np.testing.assert_allclose(s1[k], s2[k], err_msg=k, **tol)
    np.testing.assert_allclose(f1, f2, **tol)
