"""nn.init against torch: for the same seed every initialiser draws the same values, and the
fan/gain helpers and errors say what torch says."""
import math
import warnings

import numpy as np
import pytest

import tapegrad


@pytest.fixture
def real_torch():
    return pytest.importorskip("torch")


def run(lib, fn, shape, dtype_name, seed=0, **kwargs):
    lib.manual_seed(seed)
    t = lib.empty(*shape, dtype=getattr(lib, dtype_name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = getattr(lib.nn.init, fn)(t, **kwargs)
    assert out is t
    return t.numpy().copy()


EXACT = [
    ("uniform_", (5, 7), {"a": -2.0, "b": 3.0}),
    ("normal_", (40, 3), {"mean": 1.0, "std": 0.5}),
    ("normal_", (3, 2), {}),
    ("constant_", (2, 3), {"val": 0.25}),
    ("ones_", (2, 3), {}),
    ("zeros_", (4,), {}),
    ("eye_", (3, 5), {}),
    ("dirac_", (4, 2, 3, 3), {"groups": 2}),
    ("xavier_uniform_", (20, 30), {"gain": 2.0}),
    ("xavier_normal_", (8, 4, 3), {}),
    ("kaiming_uniform_", (16, 8, 3, 3), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (10, 6), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (64, 32), {"nonlinearity": "relu"}),
    ("kaiming_normal_", (5, 3), {"mode": "fan_out"}),
    ("trunc_normal_", (50, 20), {}),                             # normal draws, redrawn outside [a, b]
    ("trunc_normal_", (7, 3), {"mean": 0.5, "std": 0.2, "a": -0.1, "b": 1.0}),
    ("trunc_normal_", (30, 40), {"mean": 0.0, "std": 1.0, "a": 1.5, "b": 3.0}),  # uniform proposals, accepted by pdf
    ("trunc_normal_", (4, 5), {"std": 0.02}),
    ("sparse_", (10, 6), {"sparsity": 0.3}),
]


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("fn,shape,kwargs", EXACT, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(EXACT)])
def test_same_values_as_torch(real_torch, fn, shape, kwargs, dtype_name):
    got = run(tapegrad, fn, shape, dtype_name, **kwargs)
    want = run(real_torch, fn, shape, dtype_name, **kwargs)
    if fn == "trunc_normal_" and kwargs.get("a") == 1.5:
        # acceptance compares a float32/float64 log-ratio: a one-ulp difference in log could flip a draw
        assert np.mean(got == want) > 0.999
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape", [(6, 4), (3, 8), (4, 2, 3), (5, 5)])
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_orthogonal_matches_torch(real_torch, shape, dtype_name):
    got = run(tapegrad, "orthogonal_", shape, dtype_name, gain=1.5)
    want = run(real_torch, "orthogonal_", shape, dtype_name, gain=1.5)
    tol = 1e-5 if dtype_name == "float32" else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    flat = got.reshape(shape[0], -1).astype(np.float64) / 1.5
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-5)


def test_generator_argument(real_torch):
    for lib in (tapegrad, real_torch):
        g = lib.Generator().manual_seed(3)
        lib.manual_seed(0)
        a = lib.nn.init.kaiming_uniform_(lib.empty(4, 5), generator=g).numpy().copy()
        b = lib.nn.init.trunc_normal_(lib.empty(4, 5), generator=g).numpy().copy()
        lib.manual_seed(0)
        c = lib.rand(1).item()
        if lib is tapegrad:
            ours = (a, b, c)
        else:
            theirs = (a, b, c)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == theirs[2]  # the default generator was not consumed


def test_works_on_parameters_without_recording():
    p = tapegrad.nn.Parameter(tapegrad.empty(3, 4))
    v = p._version
    tapegrad.nn.init.xavier_uniform_(p)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None and p._version > v


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None), ("leaky_relu", True), ("leaky_relu", "x"), ("gelu", None),
])
def test_calculate_gain(real_torch, nonlinearity, param):
    def outcome(lib):
        try:
            return lib.nn.init.calculate_gain(nonlinearity, param)
        except ValueError as exc:
            return str(exc)
    assert outcome(tapegrad) == outcome(real_torch)


@pytest.mark.parametrize("case", ["fan_1d", "bad_mode", "eye_3d", "dirac_2d", "dirac_groups", "orth_1d", "sparse_3d",
                                  "zero_element"])
def test_errors_and_warnings(real_torch, case):
    def outcome(lib):
        init = lib.nn.init
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                if case == "fan_1d":
                    init.xavier_uniform_(lib.empty(3))
                elif case == "bad_mode":
                    init.kaiming_normal_(lib.empty(3, 3), mode="fan_avg")
                elif case == "eye_3d":
                    init.eye_(lib.empty(2, 2, 2))
                elif case == "dirac_2d":
                    init.dirac_(lib.empty(2, 2))
                elif case == "dirac_groups":
                    init.dirac_(lib.empty(3, 2, 2), groups=2)
                elif case == "orth_1d":
                    init.orthogonal_(lib.empty(3))
                elif case == "sparse_3d":
                    init.sparse_(lib.empty(2, 2, 2), 0.5)
                elif case == "zero_element":
                    init.kaiming_uniform_(lib.empty(0, 3))
            except ValueError as exc:
                return "ValueError", str(exc)
            return [str(x.message) for x in w]
    assert outcome(tapegrad) == outcome(real_torch)


def test_fans_and_deprecated_names(real_torch):
    for shape in [(3, 4), (8, 4, 3, 3), (2, 5, 7)]:
        assert (tapegrad.nn.init._calculate_fan_in_and_fan_out(tapegrad.empty(*shape))
                == real_torch.nn.init._calculate_fan_in_and_fan_out(real_torch.empty(*shape)))
    with pytest.warns(FutureWarning, match=r"`nn.init.xavier_uniform` is now deprecated in favor of "
                                           r"`nn.init.xavier_uniform_`."):
        tapegrad.nn.init.xavier_uniform(tapegrad.empty(2, 2))
