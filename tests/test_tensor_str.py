"""Tensor printing: tapegrad's repr must equal torch 2.13's, character for character.

Most tests build a torch tensor, derive a stand-in with the attributes
``tensor_repr`` reads (``_data``, ``dtype``, ``grad_fn``, ``requires_grad``,
``is_leaf``) from the same values, and compare the two reprs under the same
print options.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tapegrad import _tensor_str
from tapegrad._tensor_str import (
    get_printoptions,
    printoptions,
    set_printoptions,
    tensor_repr,
)


class FakeDtype:
    """Stand-in for a tapegrad dtype: repr ``torch.xxx`` and two flags."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_complex = name.startswith("complex")
        self.is_floating_point = name.startswith(("float", "bfloat"))

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FakeDtype) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class FakeTensor:
    """Stand-in for tapegrad.Tensor with exactly the attributes the printer uses."""

    def __init__(self, data: np.ndarray, dtype: str | None = None, *,
                 requires_grad: bool = False, grad_fn_name: str | None = None) -> None:
        self._data = data
        self.dtype = FakeDtype(dtype or str(np.asarray(data).dtype))
        self.grad_fn = type(grad_fn_name, (), {})() if grad_fn_name else None
        self.requires_grad = requires_grad or self.grad_fn is not None
        self.is_leaf = self.grad_fn is None


@pytest.fixture(autouse=True)
def restore_printoptions():
    """Every test starts and ends with default options, in tapegrad and in torch."""
    set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")
    try:
        import torch
    except ImportError:
        return
    torch.set_printoptions(profile="default")


# ---------------------------------------------------------------- without torch

def test_examples_without_torch():
    f32 = np.float32
    assert tensor_repr(FakeTensor(np.array(36.0, f32), grad_fn_name="MeanBackward0")) == \
        "tensor(36., grad_fn=<MeanBackward0>)"
    assert tensor_repr(FakeTensor(np.array([1, 2, 3], f32), requires_grad=True)) == \
        "tensor([1., 2., 3.], requires_grad=True)"
    assert tensor_repr(FakeTensor(np.array([np.nan, np.inf, 1, -2], f32))) == \
        "tensor([nan, inf,  1., -2.])"
    assert tensor_repr(FakeTensor(np.array([12345.6789], f32))) == "tensor([12345.6787])"
    assert tensor_repr(FakeTensor(np.array([1, 2], np.int32))) == "tensor([1, 2], dtype=torch.int32)"
    assert tensor_repr(FakeTensor(np.array([True, False]))) == "tensor([ True, False])"
    assert tensor_repr(FakeTensor(np.zeros((0, 3), f32))) == "tensor([], size=(0, 3))"
    assert tensor_repr(FakeTensor(np.zeros(0, np.int64))) == "tensor([], dtype=torch.int64)"
    assert tensor_repr(FakeTensor(np.array([1 + 2j, -0.5 - 1j], np.complex64))) == \
        "tensor([ 1.0000+2.j, -0.5000-1.j])"
    assert tensor_repr(FakeTensor(np.ones(1001, f32))) == "tensor([1., 1., 1.,  ..., 1., 1., 1.])"


def test_tensor_contents_replaces_values_but_keeps_suffixes():
    t = FakeTensor(np.array([1.0, 2.0]), requires_grad=True)
    assert tensor_repr(t, tensor_contents="[x]") == \
        "tensor([x], dtype=torch.float64, requires_grad=True)"


def test_printoption_api():
    assert get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                  "linewidth": 80, "sci_mode": None}
    set_printoptions(profile="short")
    assert get_printoptions()["precision"] == 2 and get_printoptions()["edgeitems"] == 2
    set_printoptions(profile="full")
    assert get_printoptions()["threshold"] == float("inf")
    set_printoptions(sci_mode=True)
    assert get_printoptions()["sci_mode"] is True
    set_printoptions(profile="default")  # any call without sci_mode resets it
    assert get_printoptions()["sci_mode"] is None
    with printoptions(precision=1, sci_mode=False):
        assert tensor_repr(FakeTensor(np.array([1.25e-9]))) == \
            "tensor([0.0], dtype=torch.float64)"
    assert get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                  "linewidth": 80, "sci_mode": None}


def test_printing_1000_elements_is_fast():
    t = FakeTensor(np.random.default_rng(0).standard_normal((10, 100)).astype(np.float32))
    start = time.perf_counter()
    tensor_repr(t)
    assert time.perf_counter() - start < 0.05


def test_default_dtype_controls_dtype_suffix(monkeypatch):
    monkeypatch.setattr(_tensor_str, "_default_dtype_name", lambda: "torch.float64")
    assert tensor_repr(FakeTensor(np.array([1.5]))) == "tensor([1.5000])"
    assert tensor_repr(FakeTensor(np.array([1.5], np.float32))) == \
        "tensor([1.5000], dtype=torch.float32)"
    assert tensor_repr(FakeTensor(np.array([1j], np.complex128))) == "tensor([0.+1.j])"
    assert tensor_repr(FakeTensor(np.array([1j], np.complex64))) == \
        "tensor([0.+1.j], dtype=torch.complex64)"


# ---------------------------------------------------------------- against torch

def _torch():
    return pytest.importorskip("torch")


def stand_in(t) -> FakeTensor:
    """A FakeTensor holding the same values, dtype and autograd state as torch tensor ``t``."""
    torch = _torch()
    values = t.detach()
    if values.dtype == torch.bfloat16:
        values = values.float()
    return FakeTensor(values.numpy(), str(t.dtype).removeprefix("torch."),
                      requires_grad=t.requires_grad,
                      grad_fn_name=type(t.grad_fn).__name__ if t.grad_fn is not None else None)


def check(t, **options) -> None:
    """Assert that tapegrad prints ``t`` as torch does, under ``options``."""
    torch = _torch()
    torch.set_printoptions(**options)
    set_printoptions(**options)
    try:
        expected = repr(t)
        assert tensor_repr(stand_in(t)) == expected, f"\nexpected:\n{expected}"
    finally:
        torch.set_printoptions(profile="default")
        set_printoptions(profile="default")


def _value_pools(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Pools of float values of many kinds, 60 of each."""
    n = 60
    return {
        "normal": rng.standard_normal(n),
        "integral": np.round(rng.standard_normal(n) * 50),
        "big_integral": np.round(rng.standard_normal(n) * 1e9),
        "wide_range": rng.standard_normal(n) * 10.0 ** rng.integers(-6, 7, n),
        "tiny": rng.standard_normal(n) * 1e-7,
        "huge": rng.standard_normal(n) * 1e12,
        "mid": rng.uniform(100, 999, n),
        "specials": rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5, -2.0, 3.0], n),
        "zeros_and_nan": rng.choice([0.0, -0.0, np.nan], n),
        "all_zero": np.zeros(n),
        "integral_with_specials": rng.choice([np.nan, -np.inf, 0.0, 7.0, -120.0], n),
    }


SHAPES = [(), (1,), (7,), (2, 3), (3, 1, 4), (2, 2, 1, 3)]


@pytest.mark.parametrize("dtype_name", ["float32", "float64", "float16", "bfloat16"])
def test_float_values_of_all_kinds_and_ranks(dtype_name):
    torch = _torch()
    rng = np.random.default_rng(1)
    dtype = getattr(torch, dtype_name)
    for pool_name, pool in _value_pools(rng).items():
        for shape in SHAPES:
            size = int(np.prod(shape))
            values = rng.choice(pool, size).reshape(shape)
            with np.errstate(over="ignore"):
                check(torch.tensor(values, dtype=dtype))


def test_mixtures_of_magnitudes_decide_the_style():
    torch = _torch()
    cases = [
        [1.0, 2000.0], [1.0, 999.0], [0.0001, 0.1], [0.00009, 1.0], [1e8, 1.0], [1.1e8],
        [123456789.0], [99999.99999], [1e-5], [-1132.212, 797.5872, -964.3265],
        [21.845, 0.012004, 1.5111], [0.1, 0.2, 0.3], [-0.0, 1.5], [np.nan, -np.inf, 1.5],
        [1.0, 1000.0], [0.001, 1.0], [1e8], [1e8, 1.0, 2.0], [1e-4], [1e-4, 0.1], [0.5, 500.0],
        [1e300, 1e-300], [5e-324, 1.0], [1.7e308, -1.7e308],
    ]
    for values in cases:
        for dtype in (torch.float32, torch.float64):
            with np.errstate(over="ignore"):
                check(torch.tensor(values, dtype=dtype))


@pytest.mark.parametrize("dtype_name", ["int8", "int16", "int32", "int64", "uint8", "bool"])
def test_integer_and_bool_tensors(dtype_name):
    torch = _torch()
    rng = np.random.default_rng(2)
    dtype = getattr(torch, dtype_name)
    info = torch.iinfo(dtype) if dtype != torch.bool else None
    for shape in SHAPES + [(40,), (3, 30)]:
        size = int(np.prod(shape))
        if info is None:
            values = rng.integers(0, 2, size).astype(bool)
        else:
            values = rng.integers(info.min, info.max, size, endpoint=True, dtype=np.int64)
            values[: size // 2] //= 1000
        check(torch.tensor(values.reshape(shape), dtype=dtype))


@pytest.mark.parametrize("dtype_name", ["complex64", "complex128"])
def test_complex_tensors(dtype_name):
    torch = _torch()
    rng = np.random.default_rng(3)
    dtype = getattr(torch, dtype_name)
    pools = list(_value_pools(rng).values())
    for i, real in enumerate(pools):
        imag = pools[(i * 3 + 1) % len(pools)]
        for shape in [(), (5,), (2, 3), (20,)]:
            size = int(np.prod(shape))
            values = np.empty(shape, np.complex128)
            values.real = rng.choice(real, size).reshape(shape)
            values.imag = rng.choice(imag, size).reshape(shape)
            check(torch.tensor(values, dtype=dtype))
    check(torch.tensor([1 + 2j, complex(float("nan"), float("nan")), 1e-9 + 1e5j]))
    check(torch.randn(30, 40, dtype=dtype))


def test_empty_tensors():
    torch = _torch()
    for shape in [(0,), (0, 3), (2, 0, 3), (3, 0)]:
        for dtype in (torch.float32, torch.float64, torch.int64, torch.int32, torch.bool,
                      torch.complex64, torch.float16):
            check(torch.zeros(shape, dtype=dtype))
            check(torch.zeros(shape, dtype=dtype), edgeitems=0)
    check(torch.zeros(0, 3, requires_grad=True))


def test_summarisation_around_the_threshold():
    torch = _torch()
    gen = torch.Generator().manual_seed(4)
    for shape in [(1000,), (1001,), (10, 100), (10, 101), (2, 3, 200), (7, 7, 7, 3), (1001, 1),
                  (1, 1001), (6, 167), (5, 5, 41)]:
        check(torch.randn(shape, generator=gen))
        check(torch.randint(-5000, 5000, shape, generator=gen))
    check(torch.ones(1001))
    # the format is decided from the shown edges only: a big middle value does not count
    t = torch.ones(2000)
    t[1000] = 1e10
    check(t)


def test_wide_rows_wrap_with_nested_indentation():
    torch = _torch()
    gen = torch.Generator().manual_seed(5)
    for shape in [(30,), (2, 30), (2, 2, 25), (2, 1, 2, 20), (100,)]:
        check(torch.randn(shape, generator=gen) * 1000)
        check(torch.randn(shape, generator=gen, dtype=torch.float64) * 1e-6)
        check(torch.randint(0, 10**9, shape, generator=gen))
        check(torch.randn(shape, generator=gen, dtype=torch.complex64))


def test_suffixes_and_their_wrapping():
    torch = _torch()
    base = [123456.0, 2.1, 3.2, 4.3, 5.4, 6.5]
    for n in range(1, 9):
        values = (base * 2)[:n]
        for dtype in (torch.float32, torch.float64, torch.float16):
            check(torch.tensor(values, dtype=dtype, requires_grad=True))
            leaf = torch.tensor(values, dtype=dtype, requires_grad=True)
            check(leaf * 2)
            check((leaf * 2).sum())
            check(leaf.mean(), linewidth=20)
        check(torch.tensor(values, dtype=torch.float64), linewidth=40)
    check(torch.arange(10, dtype=torch.int32), threshold=5)
    wide = torch.randn(3, 9, dtype=torch.float64, requires_grad=True)
    for linewidth in (40, 60, 80, 100, 120):
        check(wide, linewidth=linewidth)
        check(wide.exp(), linewidth=linewidth)
    check(torch.zeros(0, 3, dtype=torch.float64, requires_grad=True).sum(0))


def test_non_contiguous_arrays():
    torch = _torch()
    t = torch.randn(4, 5, 6, dtype=torch.float64)
    for view in (t.transpose(0, 2), t[:, ::2, 1:], t.permute(1, 2, 0)[1]):
        check(view)


OPTIONS = [
    dict(precision=2),
    dict(precision=0),
    dict(precision=8),
    dict(sci_mode=True),
    dict(sci_mode=False),
    dict(linewidth=40),
    dict(linewidth=10),
    dict(linewidth=3),
    dict(edgeitems=2),
    dict(edgeitems=1, threshold=10),
    dict(threshold=5),
    dict(threshold=5, edgeitems=0),
    dict(edgeitems=0),
    dict(threshold=0),
    dict(profile="short"),
    dict(profile="full"),
    dict(profile="short", precision=6, sci_mode=True),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()))
def test_non_default_printoptions(options):
    torch = _torch()
    gen = torch.Generator().manual_seed(6)
    tensors = [
        torch.tensor(3.25), torch.tensor(7), torch.tensor([0.0, 0.0]),
        torch.tensor([1.5, -2.25, 1e-6]), torch.tensor([1.0, 20.0, 300.0]),
        torch.tensor([np.nan, 1.0, -np.inf]), torch.tensor([1e10, -3.0]),
        torch.randn(12, generator=gen), torch.randn(4, 9, generator=gen, dtype=torch.float64),
        torch.randn(3, 4, 5, generator=gen, requires_grad=True),
        torch.arange(10), torch.arange(30).reshape(2, 3, 5), torch.arange(2000.0).reshape(20, 100),
        torch.randn(2, 3, dtype=torch.complex64, generator=gen), torch.zeros(2, 0),
        torch.ones(7, dtype=torch.bool),
    ]
    for t in tensors:
        check(t, **options)
    with torch.no_grad():
        check(tensors[9] * 3, **options)


def test_printoptions_context_manager_matches_torch():
    torch = _torch()
    t = torch.arange(10.0) / 3
    with torch._tensor_str.printoptions(precision=2, threshold=5):
        expected = repr(t)
    with printoptions(precision=2, threshold=5):
        assert tensor_repr(stand_in(t)) == expected
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    assert tensor_repr(stand_in(t)) == repr(t)


def test_set_printoptions_resets_sci_mode_like_torch():
    torch = _torch()
    t = torch.tensor([1.5, 2.5])
    for call in (dict(sci_mode=True), dict(precision=3), dict(profile="default"),
                 dict(sci_mode=False, linewidth=50), dict(profile="nonexistent")):
        torch.set_printoptions(**call)
        set_printoptions(**call)
        assert get_printoptions() == torch._tensor_str.get_printoptions()
        assert tensor_repr(stand_in(t)) == repr(t)


def test_default_dtype_float64_against_torch(monkeypatch):
    torch = _torch()
    monkeypatch.setattr(_tensor_str, "_default_dtype_name", lambda: "torch.float64")
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        for t in (torch.tensor([1.5]), torch.tensor([1.5], dtype=torch.float32),
                  torch.tensor([1j]), torch.tensor([1j], dtype=torch.complex64),
                  torch.zeros(0), torch.zeros(0, dtype=torch.float32), torch.zeros(0, 2)):
            check(t)
    finally:
        torch.set_default_dtype(previous)


def test_default_dtype_is_read_from_tapegrad_dtype():
    dtypes = pytest.importorskip("tapegrad._dtype")
    previous = dtypes.get_default_dtype()
    dtypes.set_default_dtype(dtypes.float64)
    try:
        assert tensor_repr(FakeTensor(np.array([1.5]))) == "tensor([1.5000])"
        assert tensor_repr(FakeTensor(np.array([1.5], np.float32))) == \
            "tensor([1.5000], dtype=torch.float32)"
    finally:
        dtypes.set_default_dtype(previous)
    assert tensor_repr(FakeTensor(np.array([1.5]))) == "tensor([1.5000], dtype=torch.float64)"
