"""Random tensors (rand, randn, randint, randperm, normal, bernoulli, multinomial) and the in-place
fills (uniform_, normal_, ...), all drawn from a Generator as torch draws them."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _dtype as D
from ._creation import _finish, size_args
from ._device import check_device
from ._tensor import Tensor, fill_inplace_, make
from .ops._registry import METHODS
from .random import default_generator


def _gen(generator: Any) -> Any:
    return default_generator if generator is None else generator


def _float_dtype(dtype: Any, name: str) -> np.dtype:
    d = D.as_dtype(dtype) if dtype is not None else D.get_default_dtype()
    if not d.is_floating_point and not d.is_complex:
        raise RuntimeError(f'"{name}" not implemented for \'{d._legacy}\'')
    return d.numpy


def rand(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform values in [0, 1)."""
    check_device(device)
    npd = _float_dtype(dtype, "check_uniform_bounds")
    return _finish(_gen(generator).uniform(size_args(size), npd), requires_grad)


def randn(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal values."""
    check_device(device)
    npd = _float_dtype(dtype, "normal_kernel_cpu")
    return _finish(_gen(generator).normal(size_args(size), npd), requires_grad)


def randint(*args: Any, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False, pin_memory: bool = False, **kwargs: Any) -> Tensor:
    """Integers uniform in [low, high): randint(high, size) or randint(low, high, size)."""
    check_device(device)
    if "size" in kwargs:
        args = args + (kwargs.pop("size"),)
    low = kwargs.pop("low", None)
    high = kwargs.pop("high", None)
    if low is not None or high is not None:
        args = ((low if low is not None else 0), high) + args
    if len(args) == 2:
        low, high, size = 0, args[0], args[1]
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError("randint() received an invalid combination of arguments")
    low, high = int(low), int(high)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    npd = D.as_dtype(dtype).numpy if dtype is not None else np.int64
    return _finish(_gen(generator).randint(low, high, size_args((size,)), npd), requires_grad)


def randperm(n: int, *, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1."""
    check_device(device)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    npd = D.as_dtype(dtype).numpy if dtype is not None else np.int64
    return _finish(_gen(generator).randperm(int(n), npd), requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, out: Any = None,
           dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal values: scalar mean and std with a size, or elementwise tensor means/stds."""
    gen = _gen(generator)
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got (float, float), but "
                            "expected (float mean, float std, tuple of ints size, *, torch.Generator generator)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        npd = _float_dtype(dtype, "normal_kernel_cpu")
        return _finish(gen.normal(size_args((size,)), npd, float(mean), float(std)), requires_grad)
    if st and (std._data < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if mt and st:
        npd = D.promote_types(mean.dtype, std.dtype).numpy
    else:
        npd = (mean if mt else std)._data.dtype
    m = mean._data if mt else np.asarray(mean, npd)
    s = std._data if st else np.asarray(std, npd)
    return _finish(gen.normal_tensor_params(m, s, npd).astype(npd, copy=False), requires_grad)


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None, out: Any = None) -> Tensor:
    """0/1 draws with the probabilities in input (or p)."""
    probs = input._data if p is None else p
    if p is None and ((input._data < 0) | (input._data > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                           "message be improved?  If so, please report an enhancement request to PyTorch.)")
    return make(_gen(generator).bernoulli(probs, input._data.shape, input._data.dtype), False, None, 0)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None,
                out: Any = None) -> Tensor:
    """Indices drawn from the categorical distributions in input's rows."""
    probs = input._data
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if probs.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype._legacy}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > probs.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (probs.sum(-1) == 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    return make(_gen(generator).multinomial(probs, int(num_samples), bool(replacement)), False, None, 0)


def rand_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None, layout: Any = None,
                 device: Any = None, requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """Poisson draws with the rates in input (right distribution, not torch's exact values: its
    sampler is not reproduced; the seed of the draw comes from the generator's stream)."""
    words = _gen(generator).randint(0, 2 ** 62, (1,), np.int64)
    draws = np.random.default_rng(int(words[0])).poisson(input._data)
    return make(draws.astype(input._data.dtype), False, None, 0)


# --- in-place fills (Tensor methods) ------------------------------------------------------
def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None, **kw: Any) -> Tensor:
    """Fill with uniform values in [a, b)."""
    a, b = kw.pop("from", a), kw.pop("to", b)
    return fill_inplace_(self, _gen(generator).uniform(self._data.shape, self._data.dtype, a, b))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with normal values."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return fill_inplace_(self, _gen(generator).normal(self._data.shape, self._data.dtype, mean, std))


def random_(self: Tensor, from_: int = 0, to: int | None = None, *, generator: Any = None) -> Tensor:
    """Fill with integers in [from, to) (to defaults to the dtype's range)."""
    gen = _gen(generator)
    if to is None and from_ == 0:
        return fill_inplace_(self, gen.random(self._data.shape, self._data.dtype))
    if to is None:
        from_, to = 0, from_
    return fill_inplace_(self, gen.randint(int(from_), int(to), self._data.shape, self._data.dtype))


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    probs = p._data if isinstance(p, Tensor) else p
    return fill_inplace_(self, _gen(generator).bernoulli(probs, self._data.shape, self._data.dtype))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    return fill_inplace_(self, _gen(generator).exponential(self._data.shape, self._data.dtype, lambd))


def geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    return fill_inplace_(self, _gen(generator).geometric(self._data.shape, self._data.dtype, p))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    return fill_inplace_(self, _gen(generator).log_normal(self._data.shape, self._data.dtype, mean, std))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    return fill_inplace_(self, _gen(generator).cauchy(self._data.shape, self._data.dtype, median, sigma))


for _fn in (uniform_, normal_, random_, bernoulli_, exponential_, geometric_, log_normal_, cauchy_):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: multinomial(
    self, num_samples, replacement, generator=generator)
