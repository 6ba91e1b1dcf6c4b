"""The NumPy generator in tapegrad/_generator.py draws what torch's CPU generator draws.

The module is loaded by path so these tests run whatever state the package is in.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

_PATH = pathlib.Path(__file__).resolve().parents[1] / "tapegrad" / "_generator.py"
_spec = importlib.util.spec_from_file_location("tapegrad_generator_under_test", _PATH)
gen_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_module)
Generator = gen_module.Generator

SEEDS = [0, 1, 42, 2**40 + 3]
SIZES = [0, 1, 2, 3, 15, 16, 17, 24, 31, 32, 33, 40, 100, 1000, 10007]
FLOATS = [np.float32, np.float64]


# ---------------------------------------------------------------- without torch

def test_same_seed_same_draws():
    a, b = Generator(7), Generator(7)
    for g in (a, b):
        g.uniform(5), g.normal(17), g.randint(0, 9, (3,))
    np.testing.assert_array_equal(a.normal((4, 5)), b.normal((4, 5)))


def test_state_round_trip_replays_draws():
    g = Generator(3)
    g.normal(3)  # leaves a cached Box-Muller value in the state
    state = g.get_state()
    first = (g.normal(1), g.uniform(700, np.float64), g.randint(-5, 5, (9,)))
    g.set_state(state)
    again = (g.normal(1), g.uniform(700, np.float64), g.randint(-5, 5, (9,)))
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    assert state.dtype == np.uint8 and state.shape == (gen_module.STATE_SIZE,)


def test_state_moves_between_generators():
    a = Generator(11)
    a.uniform(10)
    b = Generator()
    b.set_state(a.get_state())
    np.testing.assert_array_equal(a.normal(40), b.normal(40))
    assert b.initial_seed() == 11


def test_manual_seed_wraps_like_torch():
    assert Generator(-1).initial_seed() == 2**64 - 1
    np.testing.assert_array_equal(Generator(2**32 + 5).uniform(4), Generator(5).uniform(4))
    with pytest.raises(RuntimeError):
        Generator(2**64)


def test_default_seed_and_reseed():
    assert Generator().initial_seed() == 67280421310721
    g = Generator()
    s = g.seed()
    assert g.initial_seed() == s
    np.testing.assert_array_equal(g.uniform(3), Generator(s).uniform(3))


def test_shapes_dtypes_and_ranges():
    g = Generator(0)
    assert g.uniform((2, 3)).dtype == np.float32 and g.uniform((2, 3)).shape == (2, 3)
    assert g.normal((0, 4), np.float64).shape == (0, 4)
    x = g.uniform(10000, np.float64, -2.0, 3.0)
    assert x.min() >= -2.0 and x.max() < 3.0
    assert sorted(g.randperm(50).tolist()) == list(range(50))
    r = g.randint(-3, 4, (1000,), np.int32)
    assert r.dtype == np.int32 and r.min() == -3 and r.max() == 3
    z = g.normal(200000)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01


# ------------------------------------------------------------------ against torch

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _torch_dtype(torch, dtype):
    return {np.float32: torch.float32, np.float64: torch.float64, np.float16: torch.float16,
            np.int64: torch.int64, np.int32: torch.int32, np.int16: torch.int16,
            np.uint8: torch.uint8, np.int8: torch.int8, np.bool_: torch.bool}[dtype]


@pytest.mark.parametrize("dtype", FLOATS + [np.float16])
def test_rand_matches(torch, dtype):
    g = Generator()
    for seed in SEEDS:
        for n in SIZES:
            torch.manual_seed(seed)
            g.manual_seed(seed)
            expected = torch.rand(n, dtype=_torch_dtype(torch, dtype)).numpy()
            np.testing.assert_array_equal(g.uniform(n, dtype), expected)


@pytest.mark.parametrize("dtype", FLOATS)
def test_randn_matches(torch, dtype):
    g = Generator()
    for seed in SEEDS:
        for n in SIZES:
            torch.manual_seed(seed)
            g.manual_seed(seed)
            expected = torch.randn(n, dtype=_torch_dtype(torch, dtype)).numpy()
            np.testing.assert_array_equal(g.normal(n, dtype), expected, err_msg=f"{seed} {n}")


def test_randn_float16_small_matches(torch):
    g = Generator(5)
    torch.manual_seed(5)
    np.testing.assert_array_equal(g.normal(15, np.float16),
                                  torch.randn(15, dtype=torch.float16).numpy())


def test_multidim_is_flat_fill(torch):
    g = Generator(9)
    torch.manual_seed(9)
    np.testing.assert_array_equal(g.normal((3, 7, 5)), torch.randn(3, 7, 5).numpy())
    np.testing.assert_array_equal(g.uniform((4, 1, 3), np.float64),
                                  torch.rand(4, 1, 3, dtype=torch.float64).numpy())


def test_mixed_sequence_stays_in_step(torch):
    g = Generator(1234)
    torch.manual_seed(1234)
    steps = [
        (lambda: torch.rand(3), lambda: g.uniform(3)),
        (lambda: torch.randn(5), lambda: g.normal(5)),
        (lambda: torch.randint(0, 10, (4,)), lambda: g.randint(0, 10, (4,))),
        (lambda: torch.randn(17), lambda: g.normal(17)),
        (lambda: torch.randn(3, dtype=torch.float64), lambda: g.normal(3, np.float64)),
        (lambda: torch.randn(1), lambda: g.normal(1)),  # the cached sine, across dtypes
        (lambda: torch.randperm(20), lambda: g.randperm(20)),
        (lambda: torch.rand(5, dtype=torch.float64), lambda: g.uniform(5, np.float64)),
        (lambda: torch.randn(1000), lambda: g.normal(1000)),
    ]
    for with_torch, with_ours in steps:
        np.testing.assert_array_equal(with_ours(), with_torch().numpy())
    np.testing.assert_array_equal(g.get_state(), torch.get_rng_state().numpy())


def test_state_bytes_match_torch(torch):
    for seed in (0, 42, -7):
        g = Generator(seed)
        torch.manual_seed(seed)
        np.testing.assert_array_equal(g.get_state(), torch.get_rng_state().numpy())
        g.normal(3, np.float64)
        g.uniform(623)
        torch.randn(3, dtype=torch.float64)
        torch.rand(623)
        np.testing.assert_array_equal(g.get_state(), torch.get_rng_state().numpy())
    torch.manual_seed(99)
    torch.randn(5)
    g = Generator()
    g.set_state(torch.get_rng_state().numpy())
    np.testing.assert_array_equal(g.normal(21), torch.randn(21).numpy())
    assert g.initial_seed() == 99


def test_normal_mean_std_and_uniform_range(torch):
    g = Generator()
    for dtype in FLOATS:
        tdt = _torch_dtype(torch, dtype)
        for n in (5, 16, 33, 1000):
            torch.manual_seed(n)
            g.manual_seed(n)
            np.testing.assert_array_equal(g.normal(n, dtype, 1.3, 2.7),
                                          torch.empty(n, dtype=tdt).normal_(1.3, 2.7).numpy())
            np.testing.assert_array_equal(g.uniform(n, dtype, -1.7, 2.9),
                                          torch.empty(n, dtype=tdt).uniform_(-1.7, 2.9).numpy())


def test_normal_tensor_params(torch):
    g = Generator()
    mean = np.linspace(-2, 2, 40).astype(np.float32)
    std = np.linspace(0.1, 3, 40).astype(np.float32)
    cases = [
        (lambda: torch.normal(torch.from_numpy(mean), torch.from_numpy(std)),
         lambda: g.normal_tensor_params(mean, std)),
        (lambda: torch.normal(torch.from_numpy(mean), 2.5),
         lambda: g.normal_tensor_params(mean, 2.5)),
        (lambda: torch.normal(0.5, torch.from_numpy(std)),
         lambda: g.normal_tensor_params(0.5, std)),
        (lambda: torch.normal(torch.from_numpy(mean[:7]), torch.from_numpy(std[:7])),
         lambda: g.normal_tensor_params(mean[:7], std[:7])),
    ]
    for with_torch, with_ours in cases:
        torch.manual_seed(4)
        g.manual_seed(4)
        np.testing.assert_array_equal(with_ours(), with_torch().numpy())


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint8, np.float32])
def test_randint_matches(torch, dtype):
    g = Generator()
    spans = [(0, 10), (-5, 3), (0, 2**28 - 1), (0, 2**28), (0, 2**31 - 1), (-(2**40), 2**40),
             (0, 256), (0, 2**32 + 7)]
    for low, high in spans:
        if np.dtype(dtype).kind in "iu":
            info = np.iinfo(dtype)
            if low < info.min or high - 1 > info.max:
                with pytest.raises(RuntimeError):
                    g.randint(low, high, (5,), dtype)
                continue
        elif dtype == np.float32 and high - low > 2**24:
            continue  # torch warns that float32 spans above 2**24 are unsupported
        torch.manual_seed(high)
        g.manual_seed(high)
        expected = torch.randint(low, high, (50,), dtype=_torch_dtype(torch, dtype)).numpy()
        np.testing.assert_array_equal(g.randint(low, high, (50,), dtype), expected)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_, np.float32,
                                   np.float64, np.float16])
def test_random_matches(torch, dtype):
    g = Generator(8)
    torch.manual_seed(8)
    expected = torch.empty(30, dtype=_torch_dtype(torch, dtype)).random_().numpy()
    np.testing.assert_array_equal(g.random(30, dtype), expected)


def test_randperm_matches(torch):
    g = Generator()
    for n in (0, 1, 2, 10, 1000, 30011):
        torch.manual_seed(n)
        g.manual_seed(n)
        np.testing.assert_array_equal(g.randperm(n), torch.randperm(n).numpy())


def test_bernoulli_matches(torch):
    g = Generator()
    for dtype in FLOATS:
        p = np.linspace(0, 1, 257).astype(dtype).reshape(1, 257).repeat(3, 0)
        torch.manual_seed(2)
        g.manual_seed(2)
        np.testing.assert_array_equal(g.bernoulli(p), torch.bernoulli(torch.from_numpy(p)).numpy())
    torch.manual_seed(3)
    g.manual_seed(3)
    expected = torch.empty(100).bernoulli_(0.3).numpy()
    np.testing.assert_array_equal(g.bernoulli(0.3, (100,), np.float32), expected)


def test_multinomial_matches(torch):
    g = Generator()
    rng = np.random.default_rng(0)
    probs1 = rng.random(30).astype(np.float32)
    probs2 = rng.random((4, 12)).astype(np.float64)
    cases = [(probs1, 1, False), (probs1, 10, False), (probs1, 50, True),
             (probs2, 5, False), (probs2, 20, True), (probs2, 1, True)]
    for probs, k, replacement in cases:
        torch.manual_seed(k)
        g.manual_seed(k)
        expected = torch.multinomial(torch.from_numpy(probs), k, replacement).numpy()
        np.testing.assert_array_equal(g.multinomial(probs, k, replacement), expected)


@pytest.mark.parametrize("dtype", FLOATS)
def test_other_distributions_match(torch, dtype):
    g = Generator()
    tdt = _torch_dtype(torch, dtype)
    cases = [
        (lambda t: t.exponential_(1.5), lambda: g.exponential(200, dtype, 1.5)),
        (lambda t: t.geometric_(0.3), lambda: g.geometric(200, dtype, 0.3)),
        (lambda t: t.log_normal_(0.5, 0.7), lambda: g.log_normal(200, dtype, 0.5, 0.7)),
        (lambda t: t.cauchy_(1.0, 2.0), lambda: g.cauchy(200, dtype, 1.0, 2.0)),
    ]
    for with_torch, with_ours in cases:
        torch.manual_seed(6)
        g.manual_seed(6)
        np.testing.assert_array_equal(with_ours(), with_torch(torch.empty(200, dtype=tdt)).numpy())
