"""Random tensors (rand, randn, randint, randperm, normal, bernoulli, multinomial, poisson) and the
in-place fills (uniform_, normal_, random_, bernoulli_, ...), drawn from a Generator as torch draws them.

Note [Fill order]
    torch's in-place samplers visit a tensor's elements in memory order (TensorIterator sorts
    the dimensions by stride), one value after another.  ``_fill`` draws a C-ordered block in
    that order and transposes it back; the *_like factories draw in the memory order of a fresh
    tensor with the input's strides (``like_values``).  Inside vmap, see Note [Random batching]
    in _random_vmap.py.  ``normal_`` alone has a second path: a
    contiguous tensor of 16 or more elements goes through ``normal_fill`` (blocks of 16), any
    other through the serial Box-Muller sampler.

Note [Random ops and autograd]
    The samples do not depend on the tensor's old values or on the distribution's parameters in
    a differentiable way; torch still records a node (``NormalBackward0`` for ``normal_`` on a
    tensor that requires grad, ``NormalBackward3`` for ``normal(Tensor, Tensor)``, ...) whose
    gradients are zeros.  ``_node_op`` builds those nodes as unregistered op-table entries, so
    the in-place checks, version counters and views work as for every other op.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np

from . import _dtype as D
from ._creation import _finish, size_args
from ._device import check_device
from ._tensor import Tensor, make
from .ops import _registry as R
from .ops._inplace import apply_inplace, check_inplace_allowed
from .random import default_generator
from ._vmap_state import VM as _VM
from ._random_vmap import (batched as _batched, dense_perm, factory_levels, fill_target, like_target, like_values,
                           run_physical, tensor_levels)

__all__ = ["rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "rand_like",
           "randn_like", "randint_like", "poisson"]

_C_TYPE = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short", "int32": "int",
           "int64": "long"}
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_RANDINT_SIGNATURES = (
    " * (int high, tuple of ints size, *, torch.Generator generator, Tensor out = None, torch.dtype dtype = None, "
    "torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
    " * (int high, tuple of ints size, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n"
    " * (int low, int high, tuple of ints size, *, torch.Generator generator, Tensor out = None, torch.dtype dtype "
    "= None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool requires_grad = "
    "False)\n"
    " * (int low, int high, tuple of ints size, *, Tensor out = None, torch.dtype dtype = None, torch.layout layout "
    "= None, torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n")
_NORMAL_SIGNATURES = (
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, Tensor out = None, "
    "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)\n")
_RANDOM_SIGNATURES = (" * (*, torch.Generator generator = None)\n"
                      " * (int from, int to, *, torch.Generator generator = None)\n"
                      " * (int to, *, torch.Generator generator = None)\n")


# --- helpers ------------------------------------------------------------------------------
def _gen(generator: Any) -> Any:
    return default_generator if generator is None else generator


def _gen_batch(generator: Any) -> tuple:
    """(generator, levels, sizes) for a factory: under vmap(randomness='different') it draws
    `sizes + shape` (outermost level first, as torch) and `_batched` marks the result batched."""
    return (_gen(generator),) + factory_levels()


def _num(x: float) -> str:
    """A double as torch's messages print it (C++ stream: 6 significant digits)."""
    return f"{float(x):g}"


def _type_name(x: Any) -> str:
    if isinstance(x, Tensor):
        return "Tensor"
    if isinstance(x, bool):
        return "bool"
    return type(x).__name__


def _invalid(name: str, args: tuple, kwargs: dict, signatures: str) -> TypeError:
    got = [_type_name(a) for a in args] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()]
    return TypeError(f"{name}() received an invalid combination of arguments - got ({', '.join(got)}), "
                     f"but expected one of:\n{signatures}")


def _not_implemented(kernel: str, dtype: D.dtype) -> NotImplementedError:
    return NotImplementedError(f'"{kernel}" not implemented for \'{dtype._legacy}\'')


def _floating(dtype: Any, kernel: str, complex_ok: bool = True) -> D.dtype:
    d = D.as_dtype(dtype) if dtype is not None else D.get_default_dtype()
    if not (d.is_floating_point or (complex_ok and d.is_complex)):
        raise _not_implemented(kernel, d)
    return d


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _size_arg(size: Any) -> tuple:
    if isinstance(size, (tuple, list)) or (isinstance(size, Tensor) and size.dim() == 1):
        return size_args((tuple(size),))
    raise TypeError


def _broadcast(a: tuple, b: tuple) -> tuple:
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        for i in range(1, min(len(a), len(b)) + 1):
            if a[-i] != b[-i] and a[-i] != 1 and b[-i] != 1:
                raise RuntimeError(f"The size of tensor a ({a[-i]}) must match the size of tensor b ({b[-i]}) at "
                                   f"non-singleton dimension {max(len(a), len(b)) - i}") from None
        raise


# --- autograd nodes with zero gradients (Note [Random ops and autograd]) ------------------
def _values(self: Any, values: Any) -> Any:
    return values


def _values2(mean: Any, std: Any, values: Any) -> Any:
    return values


def _zero(grad: Any) -> Any:
    from ._creation import zeros_like
    return zeros_like(grad)


_NODE_OPS: dict = {}


def _node_op(node: str, two_inputs: bool = False) -> R.OpDef:
    key = (node, two_inputs)
    op = _NODE_OPS.get(key)
    if op is None:
        names = ("mean", "std") if two_inputs else ("self",)
        op = R.OpDef(node, _values2 if two_inputs else _values, node=node, grads={n: _zero for n in names},
                     promote="none", tensors=names, inputs=names, outputs=1, differentiable_outputs=1, view=False,
                     list_input=False, scalar_edges=False, samples=None, return_type=None, differentiable=True,
                     nondeterministic_samples=True, float_output=False)
        _NODE_OPS[key] = op
    return op


def _fill(self: Tensor, plan: Any, node: str, draw: Callable[..., np.ndarray], probs: Any = None) -> Tensor:
    """Write ``draw(shape, contiguous, probs)``'s values into ``self`` in memory order, as torch's
    in-place samplers do; ``plan``: fill_target's answer inside vmap (None: a plain fill)."""
    check_inplace_allowed(self)  # before any draw: a refused call leaves the generator alone
    target = self._data if plan is None else plan.array
    if plan is not None:
        probs = plan.probs
    perm = None
    if target.ndim >= 2 and not target.flags.c_contiguous:
        perm = sorted(range(target.ndim), key=lambda i: -abs(target.strides[i]) if target.shape[i] > 1 else 0)
    shape = target.shape if perm is None else tuple(target.shape[i] for i in perm)
    if probs is not None:
        probs = np.ascontiguousarray(probs if perm is None else np.transpose(probs, perm))
    values = draw(shape, target.flags.c_contiguous, probs)
    if perm is not None:
        values = np.transpose(values, np.argsort(perm))
    if plan is None:
        return apply_inplace(_node_op(node), (self, values))
    from .func._vmap import physical
    with physical():
        return apply_inplace(_node_op(node), (self, plan.back(values)))


def _out_of_place(values: np.ndarray, node: str, *tensors: Tensor) -> Tensor:
    if len(tensors) == 2:
        return R.dispatch(_node_op(node, True), (tensors[0], tensors[1], values))
    return R.dispatch(_node_op(node), (tensors[0], values))


# --- drawing by dtype ---------------------------------------------------------------------
def _uniform(gen: Any, shape: tuple, d: D.dtype, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    if d.is_complex:
        real = d.to_real().numpy
        return gen.uniform(shape + (2,), real, low, high).view(d.numpy).reshape(shape)
    return gen.uniform(shape, d.numpy, low, high)


def _normal(gen: Any, shape: tuple, d: D.dtype, mean: float = 0.0, std: float = 1.0,
            contiguous: bool = True) -> np.ndarray:
    if d.is_complex:  # torch: normal_ on the real view with std / sqrt(2)
        real = _normal(gen, shape + (2,), d.to_real(), mean, std / math.sqrt(2.0), contiguous)
        return real.view(d.numpy).reshape(shape)
    if contiguous:
        return gen.normal(shape, d.numpy, mean, std)
    return gen._normal_serial(math.prod(shape), d.numpy, mean, std).reshape(shape)


def _float_bounds_update(low: int, high: int | None, d: D.dtype) -> tuple:
    """torch moves integer bounds a float dtype cannot hold onto values it can (random_ on floats)."""
    digits = {"float16": 11, "float32": 24, "float64": 53}[d.name]
    ftype = d.numpy.type

    def down(v: int) -> int:  # the largest value whose float rounding stays below the bound
        below = int(ftype(v - 1)) if abs(v - 1) < 2 ** 63 else v
        if below >= v:
            n = abs(v - 1).bit_length() - 1
            return below - (1 << (n - digits + 1))
        return v

    def up(v: int) -> int:
        above = int(ftype(v + 1))
        if above < v:
            n = abs(v + 1).bit_length() - 1
            return above + (1 << (n - digits + 1))
        return v

    return up(low), (down(high) if high is not None else None)


def _check_from_to(low: int, high_inc: int, d: D.dtype, warn: int) -> None:
    if d.is_floating_point:
        if not warn:
            return
        digits = {"float16": 11, "float32": 24, "float64": 53}[d.name]
        limit = 1 << digits
        cname = {"float16": "c10::Half", "float32": "float", "float64": "double"}[d.name]
        for what, v in (("from", low), ("to - 1", high_inc)):
            if not -limit <= v <= limit:
                warnings.warn(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                              f"{cname} can support discrete uniform distribution only within this range. This "
                              "warning will become an error in version 1.7 release, please fix the code in advance",
                              UserWarning, stacklevel=warn + 1)
        return
    info = (0, 1) if d.name == "bool" else (int(np.iinfo(d.numpy).min), int(np.iinfo(d.numpy).max))
    if not info[0] <= low <= info[1]:
        raise RuntimeError(f"from is out of bounds for {_C_TYPE[d.name]}")
    if not info[0] <= high_inc <= info[1]:
        raise RuntimeError(f"to - 1 is out of bounds for {_C_TYPE[d.name]}")


def _random_from_to(gen: Any, shape: tuple, d: D.dtype, low: int, high: int | None, warn: int = 0) -> np.ndarray:
    """``random_(from, to)`` (``to=None``: up to the dtype's largest value) and ``randint``; ``warn``: the
    stack level of the user's call for torch's float-precision warning (0: no warning)."""
    n = math.prod(shape)
    if high is not None:
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        if d.is_floating_point:
            low, high = _float_bounds_update(low, high, d)
            if low >= high:
                raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, "
                                   f"but got from={low} >= to={high}")
        _check_from_to(low, high - 1, d, warn and warn + 1)
        return gen._from_to(low, high - low, n, d.numpy).reshape(shape)
    if low == _INT64_MIN:  # the whole 64-bit range
        return gen._words64(n).view(np.int64).astype(d.numpy).reshape(shape)
    if d.is_floating_point:
        top = 1 << {"float16": 11, "float32": 24, "float64": 53}[d.name]
        low = _float_bounds_update(low, None, d)[0]
        if low >= top:
            raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                               f"casted to dtype, but got from={low} > to_inc={top}")
    else:
        top = 1 if d.name == "bool" else int(np.iinfo(d.numpy).max)
    _check_from_to(low, top, d, warn and warn + 1)
    return gen._from_to(low, top - low + 1, n, d.numpy).reshape(shape)


# --- factories ----------------------------------------------------------------------------
def _size_of(size: tuple, kwargs: dict, name: str) -> tuple:
    if "size" in kwargs:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (kwargs.pop("size"),)
    if kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return size_args(size)


def rand(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False, **kwargs: Any) -> Tensor:
    """Uniform values in [0, 1)."""
    check_device(device)
    shape = _size_of(size, kwargs, "rand")
    d = _floating(dtype, "check_uniform_bounds")
    gen, levels, batch = _gen_batch(generator)
    return _batched(_finish(_uniform(gen, batch + shape, d), requires_grad), levels)


def randn(*size: Any, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False, **kwargs: Any) -> Tensor:
    """Standard normal values."""
    check_device(device)
    shape = _size_of(size, kwargs, "randn")
    d = _floating(dtype, "normal_kernel_cpu")
    gen, levels, batch = _gen_batch(generator)
    return _batched(_finish(_normal(gen, batch + shape, d), requires_grad), levels)


def randint(*args: Any, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False, pin_memory: bool = False, **kwargs: Any) -> Tensor:
    """Integers uniform in [low, high): randint(high, size) or randint(low, high, size)."""
    check_device(device)
    given = dict(kwargs)
    total = len(args) + len(kwargs)
    names = ("low", "high", "size") if total == 3 else ("high", "size") if total == 2 else ()
    bound = dict(zip(names, args))
    if not names or any(k not in names or k in bound for k in kwargs):
        raise _invalid("randint", args, given, _RANDINT_SIGNATURES)
    bound.update(kwargs)
    low, high, size = bound.get("low"), bound["high"], bound["size"]
    if not _is_int(high) or (low is not None and not _is_int(low)):
        raise _invalid("randint", args, given, _RANDINT_SIGNATURES)
    try:
        shape = _size_arg(size)
    except TypeError:
        if _is_int(size) and len(args) == total:
            raise TypeError(f"randint(): argument 'size' (position {total}) must be tuple of ints, not "
                            f"{_type_name(size)}") from None
        raise _invalid("randint", args, given, _RANDINT_SIGNATURES) from None
    low = 0 if low is None else int(low)
    d = D.as_dtype(dtype) if dtype is not None else D.int64
    if requires_grad and not (d.is_floating_point or d.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    gen, levels, batch = _gen_batch(generator)
    return _batched(_finish(_random_from_to(gen, batch + shape, d, low, int(high), warn=2), requires_grad), levels)


def randperm(n: int, *, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1."""
    check_device(device)
    n = int(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    d = D.as_dtype(dtype) if dtype is not None else D.int64
    if d.name == "bool" or d.is_complex:
        raise _not_implemented("randperm", d)
    if d.name == "float16" and n > 2049:
        raise RuntimeError("n cannot be greater than 2049 for Half type.")
    if not d.is_floating_point and n > 0 and n - 1 > int(np.iinfo(d.numpy).max):
        raise RuntimeError(f"value cannot be converted to type {d.name}_t without overflow")
    if requires_grad and not d.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    gen, levels, batch = _gen_batch(generator)
    if levels:  # one permutation per batch element, drawn innermost level slowest (as torch's loops)
        from .func._vmap import mark
        batch = batch[::-1]
        perms = [gen.randperm(n, np.int64) for _ in range(math.prod(batch))]
        values = np.stack(perms).reshape(batch + (n,)) if perms else np.empty(batch + (n,), np.int64)
        return mark(_finish(values.astype(d.numpy), requires_grad), levels)
    return _finish(gen.randperm(n, np.int64).astype(d.numpy), requires_grad)


def normal(*args: Any, generator: Any = None, out: Any = None, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False, pin_memory: bool = False, **kwargs: Any) -> Tensor:
    """Normal values: scalar mean and std with a size, or elementwise tensor means/stds."""
    given = dict(kwargs)
    names = ("mean", "std", "size")
    if len(args) > 3 or any(k not in names for k in kwargs):
        raise _invalid("normal", args, given, _NORMAL_SIGNATURES)
    bound = dict(zip(names, args))
    for k, v in kwargs.items():
        if k in bound:
            raise _invalid("normal", args, given, _NORMAL_SIGNATURES)
        bound[k] = v
    if "mean" not in bound:
        raise _invalid("normal", args, given, _NORMAL_SIGNATURES)
    mean, std, size = bound["mean"], bound.get("std"), bound.get("size")
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mt and not st:
        gen, levels, batch = _gen_batch(generator)
        if std is None or size is None:
            if std is None and not isinstance(mean, Tensor):
                raise TypeError(f"normal(): argument 'mean' (position 1) must be Tensor, not {_type_name(mean)}")
            raise _invalid("normal", args, given, _NORMAL_SIGNATURES)
        check_device(device)
        try:
            shape = _size_arg(size)
        except TypeError:
            raise _invalid("normal", args, given, _NORMAL_SIGNATURES) from None
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
        d = _floating(dtype, "normal_kernel_cpu")
        return _batched(_finish(_normal(gen, batch + shape, d, float(mean), float(std)), requires_grad), levels)
    if size is not None:
        raise _invalid("normal", args, given, _NORMAL_SIGNATURES)
    if std is None:
        std = 1.0
    gen = _gen(generator)
    levels = tensor_levels(mean, std)
    if levels:
        return run_physical(levels, lambda m, s: _normal_tensors(gen, m, s), mean, std)
    return _normal_tensors(gen, mean, std)


def _normal_tensors(gen: Any, mean: Any, std: Any) -> Tensor:
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    d = (mean if mt else std).dtype
    if not (d.is_floating_point or d.is_complex):
        raise _not_implemented("normal_kernel_cpu", d)
    shape = _broadcast(mean.shape if mt else (), std.shape if st else ())
    if st:
        if (std._data < 0).any() or np.isnan(std._data).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        values = _normal(gen, shape, d)
        values = (values * std._data).astype(d.numpy, copy=False)  # as torch: mul_ by std, then add_ mean
        m = mean._data if mt else mean
        values = (values + m).astype(d.numpy, copy=False)
        if mt:
            return _out_of_place(values, "NormalBackward3", mean, std)
        return _out_of_place(values, "NormalBackward2", std)
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
    values = _normal(gen, shape, d, 0.0, float(std))
    values = (values + mean._data).astype(d.numpy, copy=False)
    return _out_of_place(values, "NormalBackward1", mean)


_P_RANGE = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be improved?  "
            "If so, please report an enhancement request to PyTorch.)")


def bernoulli(input: Tensor, *args: Any, generator: Any = None, out: Any = None, **kwargs: Any) -> Tensor:
    """0/1 draws with the probabilities in input, or with a float ``p`` (input gives shape and dtype)."""
    if len(args) > 1 or any(k != "p" for k in kwargs) or (args and kwargs):
        raise TypeError("bernoulli() received an invalid combination of arguments")
    p = args[0] if args else kwargs.get("p")
    if isinstance(p, Tensor):
        raise TypeError("bernoulli() received an invalid combination of arguments")
    gen = _gen(generator)
    levels = tensor_levels(input)
    if levels:
        return run_physical(levels, lambda t: _bernoulli(gen, t, p), input)
    return _bernoulli(gen, input, p)


def _bernoulli(gen: Any, input: Tensor, p: Any) -> Tensor:
    if p is None:
        d = input.dtype
        if not d.is_floating_point:
            raise _not_implemented("bernoulli_tensor_cpu_p_", d)
        probs = input._data
        if ((probs < 0) | (probs > 1)).any():
            raise RuntimeError(_P_RANGE)
        values = gen.bernoulli(np.ascontiguousarray(probs), probs.shape, d.numpy)  # drawn in logical order
        return _out_of_place(values, "BernoulliBackward0", input)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_num(p)}")
    return make(gen.bernoulli(float(p), input.shape, input._data.dtype), False, None, 0)  # logical order


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None,
                out: Any = None) -> Tensor:
    """Indices drawn from the categorical distributions in input's rows."""
    gen = _gen(generator)
    levels = tensor_levels(input)
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if levels:  # every batch element's rows drawn as the rows of one matrix, as torch
        return run_physical(levels, lambda t: _multinomial(gen, t, num_samples, replacement), input)
    result = _multinomial(gen, input, num_samples, replacement)
    if out is not None:
        out._data = result._data
        return out
    return result


def _multinomial(gen: Any, input: Tensor, num_samples: int, replacement: bool) -> Tensor:
    probs = input._data
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
    rows = probs if probs.ndim <= 2 else probs.reshape(-1, probs.shape[-1])
    if (not replacement or num_samples == 1) and dense_perm(rows) is not None:
        # torch's exponential race draws its noise like the weights (empty_like): in their memory order
        noise = like_values(rows, lambda shape: gen.exponential(shape, rows.dtype, 1.0))
        draws = np.ascontiguousarray(np.argsort(-(rows / noise), axis=1, kind="stable")[:, :int(num_samples)])
    else:
        draws = gen.multinomial(rows, int(num_samples), bool(replacement))
    return make(draws.reshape(probs.shape[:-1] + draws.shape[-1:]), False, None, 0)


def _like(input: Tensor, requires_grad: bool, draw: Callable[[tuple, bool], np.ndarray]) -> Tensor:
    """A fresh tensor like input (its strides when dense, as torch's empty_like) filled by
    ``draw(shape, contiguous)`` in memory order; inside vmap as Note [Random batching] says."""
    like, levels = like_target(input) if _VM.active else (input._data, ())
    contiguous = dense_perm(like) is None
    return _batched(_finish(like_values(like, lambda shape: draw(shape, contiguous)), requires_grad), levels)


def rand_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None, generator: Any = None) -> Tensor:
    """Uniform values in [0, 1) shaped like input."""
    d = _floating(dtype or input.dtype, "check_uniform_bounds")
    gen = _gen(generator)
    return _like(input, requires_grad, lambda shape, _: _uniform(gen, shape, d))


def randn_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None, generator: Any = None) -> Tensor:
    """Standard normal values shaped like input."""
    d = _floating(dtype or input.dtype, "normal_kernel_cpu")
    gen = _gen(generator)
    return _like(input, requires_grad, lambda shape, contiguous: _normal(gen, shape, d, contiguous=contiguous))


def randint_like(input: Tensor, *args: Any, dtype: Any = None, layout: Any = None, device: Any = None,
                 requires_grad: bool = False, memory_format: Any = None, generator: Any = None,
                 **kwargs: Any) -> Tensor:
    """Integers in [low, high) shaped like input: randint_like(input, high) or (input, low, high)."""
    bound = dict(zip(("low", "high") if len(args) == 2 else ("high",), args))
    bound.update(kwargs)
    if "high" not in bound or set(bound) - {"low", "high"}:
        given = {k: v for k, v in kwargs.items()}
        sig = ("Tensor input, int low, int high", "Tensor input, Tensor high", "Tensor input, int high")
        tail = (", *, {g}torch.memory_format memory_format = None, torch.dtype dtype = None, torch.layout layout = "
                "None, torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n")
        lines = "".join(f" * ({s}{tail.format(g=g)}" for s in sig for g in ("torch.Generator generator, ", ""))
        raise _invalid("randint_like", (input,) + args, given, lines)
    d = D.as_dtype(dtype) if dtype is not None else input.dtype
    high = bound["high"]
    high = int(high.item()) if isinstance(high, Tensor) else int(high)
    low = int(bound.get("low", 0))
    if requires_grad and not (d.is_floating_point or d.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    _random_from_to(_NoDraw(), (0,), d, low, high, warn=2)  # argument errors and warnings, before any draw
    gen = _gen(generator)
    return _like(input, requires_grad, lambda shape, _: _random_from_to(gen, shape, d, low, high))


def poisson(input: Tensor, generator: Any = None) -> Tensor:
    """Poisson draws with the rates in input.

    The distribution is right but the values are not torch's: torch's sampler (a transformed
    rejection method drawing a data-dependent number of words) is not reproduced.  The draw is
    seeded from one 64-bit value of the generator's stream, so it is reproducible under a seed.
    """
    gen = _gen(generator)
    levels = tensor_levels(input)
    if levels:
        return run_physical(levels, lambda t: _poisson(gen, t), input)
    return _poisson(gen, input)


def _poisson(gen: Any, input: Tensor) -> Tensor:
    words = gen._words64(1)
    draws = np.random.default_rng(int(words[0])).poisson(input._data)
    return make(draws.astype(input._data.dtype), False, None, 0)


# --- in-place fills (Tensor methods) ------------------------------------------------------
def uniform_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """Fill with uniform values in [from, to)."""
    plan = fill_target(self)
    bound = dict(zip(("from", "to"), args))
    for k, v in kwargs.items():
        if k not in ("from", "to") or k in bound:
            raise TypeError(f"uniform_() got an unexpected keyword argument '{k}'")
        bound[k] = v
    low, high = bound.get("from", 0.0), bound.get("to", 1.0)
    for pos, (name, v) in enumerate((("from", low), ("to", high)), 1):
        if isinstance(v, (str, bytes)) or not isinstance(v, (int, float, np.number)):
            raise TypeError(f"uniform_(): argument '{name}' (position {pos}) must be float, not {_type_name(v)}")
    d = self.dtype
    if not (d.is_floating_point or d.is_complex):
        raise _not_implemented("check_uniform_bounds", d)
    if not low <= high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_num(low)} > "
                           f"to={_num(high)}")
    real = d.to_real().numpy
    limit = float(np.finfo(real).max)
    cname = {"float16": "c10::Half", "float32": "float", "float64": "double"}[d.to_real().name]
    if not -limit <= low <= limit:
        raise RuntimeError(f"from is out of bounds for {cname}")
    if not -limit <= high <= limit:
        raise RuntimeError(f"to is out of bounds for {cname}")
    if high - low > limit:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{cname}>::max(), but found "
                           f"to={_num(high)} and from={_num(low)} which result in to-from to exceed the limit")
    gen = _gen(generator)
    return _fill(self, plan, "UniformBackward0", lambda shape, *_: _uniform(gen, shape, d, low, high))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with normal values."""
    plan = fill_target(self)
    d = self.dtype
    if not (d.is_floating_point or d.is_complex):
        raise _not_implemented("normal_kernel_cpu", d)
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
    gen = _gen(generator)
    return _fill(self, plan, "NormalBackward0",
                 lambda shape, contiguous, _: _normal(gen, shape, d, float(mean), float(std), contiguous))


_UNBOUNDED = object()


def random_(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """Fill with integers: random_() over the dtype's range, random_(to), random_(from, to)."""
    plan = fill_target(self)
    bound = dict(zip(("from", "to"), args) if len(args) == 2 else zip(("to",), args))
    if len(args) > 2 or any(k not in ("from", "to") or k in bound for k in kwargs):
        raise _invalid("random_", args, kwargs, _RANDOM_SIGNATURES)
    bound.update(kwargs)
    if any(v is not None and not _is_int(v) for v in bound.values()):
        raise _invalid("random_", args, kwargs, _RANDOM_SIGNATURES)
    d = self.dtype
    if d.is_complex:
        raise _not_implemented("random_from_to_range_calc", d)
    gen = _gen(generator)
    if not bound:
        return _fill(self, plan, "RandomBackward2", lambda shape, *_: gen.random(shape, d.numpy))
    low = int(bound.get("from", 0))
    high = bound.get("to", _UNBOUNDED)
    if high is _UNBOUNDED:
        raise _invalid("random_", args, kwargs, _RANDOM_SIGNATURES)
    high = None if high is None else int(high)
    node = "RandomBackward0" if "from" in bound else "RandomBackward1"
    _random_from_to_checks(low, high, d)
    return _fill(self, plan, node, lambda shape, *_: _random_from_to(gen, shape, d, low, high))


def _random_from_to_checks(low: int, high: int | None, d: D.dtype) -> None:
    """The argument errors of ``random_from_to``, raised before any draw."""
    _random_from_to(_NoDraw(), (0,), d, low, high, warn=3)


class _NoDraw:
    """A stand-in generator for argument checks: every draw is empty."""

    def _from_to(self, base: int, span: int, n: int, dtype: Any) -> np.ndarray:
        return np.empty(0, dtype)

    def _words64(self, n: int) -> np.ndarray:
        return np.empty(0, np.uint64)


def bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    """Fill with 0/1 draws of probability p (a float or a tensor broadcast to self)."""
    plan = fill_target(self, p)
    gen = _gen(generator)
    dtype = self._data.dtype
    if isinstance(p, Tensor):
        from .func._vmap import physical_data
        probs = physical_data(p)
        if ((probs < 0) | (probs > 1)).any():
            raise RuntimeError(_P_RANGE)
        if plan is None:
            from .ops.shape import _expand
            probs = _expand(probs, self._data.shape)
        return _fill(self, plan, "BernoulliBackward1", lambda shape, _, full: gen.bernoulli(full, shape, dtype),
                     probs)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_num(p)}")
    return _fill(self, plan, "BernoulliBackward2", lambda shape, *_: gen.bernoulli(float(p), shape, dtype))


def _continuous(self: Tensor, name: str, kernel: str) -> None:
    d = self.dtype
    if not d.is_floating_point:
        c = _C_TYPE.get(d.name, d.name)
        c = "long int" if c == "long" else c
        if name in ("Exponential", "Cauchy"):
            spelled = d._legacy if name == "Exponential" else c
            raise RuntimeError(f"{name} distribution is a continuous probability distribution. dtype must be a "
                               f"floating point but you specified {spelled}")
        raise _not_implemented(kernel, d)


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with exponential draws of rate lambd."""
    plan = fill_target(self)
    _continuous(self, "Exponential", "exponential_cpu")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_num(lambd)}")
    gen = _gen(generator)
    dtype = self._data.dtype
    return _fill(self, plan, "ExponentialBackward0", lambda shape, *_: gen.exponential(shape, dtype, lambd))


def geometric_(self: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success."""
    plan = fill_target(self)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_num(p)}")
    gen = _gen(generator)
    return _fill(self, plan, "GeometricBackward0", lambda shape, *_: gen.geometric(shape, self._data.dtype, p))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Any = None) -> Tensor:
    """Fill with exp of normal draws."""
    plan = fill_target(self)
    _continuous(self, "LogNormal", "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_num(std)}")
    gen = _gen(generator)
    dtype = self._data.dtype
    return _fill(self, plan, "LogNormalBackward0", lambda shape, *_: gen.log_normal(shape, dtype, mean, std))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Any = None) -> Tensor:
    """Fill with Cauchy draws."""
    plan = fill_target(self)
    _continuous(self, "Cauchy", "cauchy_cpu")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_num(sigma)}")
    gen = _gen(generator)
    dtype = self._data.dtype
    return _fill(self, plan, "CauchyBackward0", lambda shape, *_: gen.cauchy(shape, dtype, median, sigma))


def _bernoulli_method(self: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    return bernoulli(self, *args, generator=generator, **kwargs)


def _multinomial_method(self: Tensor, num_samples: int, replacement: bool = False, *,
                        generator: Any = None) -> Tensor:
    return multinomial(self, num_samples, replacement, generator=generator)


for _fn in (uniform_, normal_, random_, bernoulli_, exponential_, geometric_, log_normal_, cauchy_):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.bernoulli = _bernoulli_method
Tensor.multinomial = _multinomial_method
