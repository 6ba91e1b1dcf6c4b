"""Composites of existing ops where torch's own grad_fn shows a composite too (the grad_fn is that
of the last primitive): type_as, diff, tensordot, the stacks, atleast_nd, broadcast_tensors, kron,
cartesian_prod, combinations, cov, corrcoef, trapezoid, vander.
"""
from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from . import _registry as R
from ._registry import FUNCTIONS, dispatch, public
from .extra_math import MUL_SCALAR, _const, _f, _tensors_of
from .reduction_extra import warn_user, wrap_dim

@public("type_as", function=False)
def type_as(self: Any, other: Any) -> Any:
    """`self` cast to `other`'s dtype."""
    return self.to(other.dtype)


@public("diff")
def diff(input: Any, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """The n-th forward difference along `dim`, after joining prepend and append."""
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    axis = wrap_dim(dim, input.dim())
    parts = [t for t in (prepend, input, append) if t is not None]
    parts = [t if isinstance(t, R.Tensor) else _const(np.asarray(t, input._data.dtype)) for t in parts]
    parts = [t.expand(tuple(input.shape[:axis]) + (1,) + tuple(input.shape[axis + 1:])) if t.dim() == 0 else t
             for t in parts]
    x = _f("cat")(parts, axis) if len(parts) > 1 else input
    for _ in range(n):
        length = x.shape[axis]
        if length == 0:
            break
        hi, lo = x.narrow(axis, 1, length - 1), x.narrow(axis, 0, length - 1)
        x = hi.logical_xor(lo) if x.dtype is D.bool_ else hi - lo
    return x


@public("tensordot", method=False)
def tensordot(a: Any, b: Any, dims: Any = 2, out: Any = None) -> Any:
    """Contract the dims of `a` and `b` given as a count (last of a with first of b) or two lists."""
    if isinstance(dims, R.Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(a.dim() - dims, a.dim()))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [wrap_dim(d, a.dim()) for d in da]
    db = [wrap_dim(d, b.dim()) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    free_a = [d for d in range(a.dim()) if d not in da]
    free_b = [d for d in range(b.dim()) if d not in db]
    size = int(np.prod([a.shape[d] for d in da]))
    ma = a.permute(free_a + da).reshape(int(np.prod([a.shape[d] for d in free_a])), size)
    mb = b.permute(db + free_b).reshape(size, int(np.prod([b.shape[d] for d in free_b])))
    return ma.mm(mb).view([a.shape[d] for d in free_a] + [b.shape[d] for d in free_b])


def _atleast(ndim: int) -> Any:
    def one(t: Any) -> Any:
        if t.dim() >= ndim:
            return t
        if ndim == 3 and t.dim() == 2:
            return t.unsqueeze(-1)
        if ndim >= 2 and t.dim() == 1:
            out = t.unsqueeze(0)
            return out.unsqueeze(-1) if ndim == 3 else out
        return t.reshape((1,) * ndim)

    def atleast(*tensors: Any) -> Any:
        ts = _tensors_of(tensors)
        if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)):
            return one(tensors[0])
        return tuple(one(t) for t in ts)
    atleast.__name__ = f"atleast_{ndim}d"
    atleast.__doc__ = f"Each tensor viewed with at least {ndim} dimensions."
    return atleast


atleast_1d = public("atleast_1d", method=False)(_atleast(1))
atleast_2d = public("atleast_2d", method=False)(_atleast(2))
atleast_3d = public("atleast_3d", method=False)(_atleast(3))


@public("vstack", method=False)
def vstack(tensors: Sequence[Any], *, out: Any = None) -> Any:
    """Concatenate along dim 0 after making every tensor at least 2-d."""
    return _f("cat")(list(atleast_2d(*tensors)) if len(tensors) != 1 else [atleast_2d(tensors[0])], 0)


FUNCTIONS["row_stack"] = vstack


@public("hstack", method=False)
def hstack(tensors: Sequence[Any], *, out: Any = None) -> Any:
    """Concatenate along dim 1 (dim 0 for 1-d tensors)."""
    ts = [atleast_1d(t) for t in tensors]
    return _f("cat")(ts, 0 if ts and ts[0].dim() == 1 else 1)


@public("dstack", method=False)
def dstack(tensors: Sequence[Any], *, out: Any = None) -> Any:
    """Concatenate along dim 2 after making every tensor at least 3-d."""
    return _f("cat")([atleast_3d(t) for t in tensors], 2)


@public("column_stack", method=False)
def column_stack(tensors: Sequence[Any], *, out: Any = None) -> Any:
    """Stack 0-d/1-d tensors as columns, concatenating 2-d ones along dim 1."""
    ts = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in tensors]
    return _f("cat")(ts, 1)


@public("broadcast_tensors", method=False)
def broadcast_tensors(*tensors: Any) -> tuple:
    """The tensors expanded to their common broadcast shape (ones already of that shape unchanged)."""
    from .. import broadcast_shapes
    ts = _tensors_of(tensors)
    shape = tuple(broadcast_shapes(*[tuple(t.shape) for t in ts]))
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in ts)


@public("kron")
def kron(input: Any, other: Any) -> Any:
    """The Kronecker product."""
    nd = builtins.max(input.dim(), other.dim())
    a = input.reshape((1,) * (nd - input.dim()) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.dim()) + tuple(other.shape))
    a_shape = []
    b_shape = []
    for sa, sb in zip(a.shape, b.shape):
        a_shape += [sa, 1]
        b_shape += [1, sb]
    prod = a.reshape(a_shape) * b.reshape(b_shape)
    return dispatch(R.OPS["_unsafe_view"], (prod, [sa * sb for sa, sb in zip(a.shape, b.shape)]))


@public("cartesian_prod", method=False)
def cartesian_prod(*tensors: Any) -> Any:
    """Every combination of one element from each 1-d tensor, as rows."""
    ts = _tensors_of(tensors)
    for t in ts:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = _f("meshgrid")(*ts, indexing="ij")
    return _f("stack")([g.flatten() for g in grids], 1)


@public("combinations", method=False)
def combinations(input: Any, r: int = 2, with_replacement: bool = False) -> Any:
    """The length-r combinations of the elements of a 1-d tensor, as rows."""
    import itertools
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _const(np.empty((0,), input._data.dtype))
    make = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.asarray(list(make(range(input.shape[0]), r)), np.int64).reshape(-1, r)
    cols = [input.index_select(0, _const(rows[:, k].copy())) for k in range(r)]
    return _f("stack")(cols, 1)


@public("cov")
def cov(input: Any, *, correction: int = 1, fweights: Any = None, aweights: Any = None) -> Any:
    """Covariance of the variables in the rows of `input` (observations in columns)."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    if not x.is_floating_point():
        x = x.to(D.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        avg = x.mean(1)
        wsum = _const(np.asarray(n, x._data.dtype))
        norm = wsum - correction
    else:
        avg = (x * w).sum(1) / w.sum()
        wsum = w.sum()
        if correction == 0:
            norm = wsum
        elif aweights is None:
            norm = wsum - correction
        else:
            norm = wsum - correction * (w * aweights).sum() / wsum
    if float(norm) <= 0:
        warn_user("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                  "observations.")
        norm = norm * 0
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = xw.mm(xm.t()) / norm
    return c.squeeze()


@public("corrcoef")
def corrcoef(input: Any) -> Any:
    """Pearson correlation coefficients of the variables in the rows of `input`."""
    if input.dim() > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    std = d.sqrt()
    c = c / std.unsqueeze(1)
    c = c / std.unsqueeze(0)
    return c.clamp(-1, 1)


def _trapz_weights(y: Any, x: Any, dx: Any, axis: int) -> Any:
    n = y.shape[axis]
    if x is None:
        return None
    if x.dim() == 1:
        d = x.narrow(0, 1, n - 1) - x.narrow(0, 0, n - 1)
        shape = [1] * y.dim()
        shape[axis] = n - 1
        return d.reshape(shape)
    return x.narrow(axis, 1, n - 1) - x.narrow(axis, 0, n - 1)


# torch multiplies and divides by C++ doubles here (mul.Scalar / div.Scalar: MulBackward1, DivBackward1)
def _mul_scalar(t: Any, value: float) -> Any:
    return dispatch(MUL_SCALAR, (t, value))


def _div_scalar(t: Any, value: float) -> Any:
    op = R.OPS.get("div.Scalar")
    return dispatch(op, (t, value)) if op is not None else t / value


@public("trapezoid", method=False)
def trapezoid(y: Any, x: Any = None, *, dx: Any = None, dim: int = -1) -> Any:
    """Trapezoidal rule along `dim`, with sample points x or spacing dx (default 1)."""
    axis = wrap_dim(dim, y.dim())
    n = y.shape[axis]
    if x is not None and not isinstance(x, R.Tensor):
        dx, x = x, None
    if n == 0:
        return y.sum(axis) * 0
    if x is None:
        ends = _mul_scalar(y.select(axis, 0) + y.select(axis, -1), 0.5)
        return _mul_scalar(y.sum(axis) - ends, 1.0 if dx is None else dx)
    pairs = y.narrow(axis, 1, n - 1) + y.narrow(axis, 0, n - 1)
    return _div_scalar((_trapz_weights(y, x, dx, axis) * pairs).sum(axis), 2.0)


FUNCTIONS["trapz"] = trapezoid


@public("cumulative_trapezoid", method=False)
def cumulative_trapezoid(y: Any, x: Any = None, *, dx: Any = None, dim: int = -1) -> Any:
    """Cumulative trapezoidal rule along `dim`."""
    axis = wrap_dim(dim, y.dim())
    n = y.shape[axis]
    if x is not None and not isinstance(x, R.Tensor):
        dx, x = x, None
    if n == 0:
        return y.narrow(axis, 0, 0)
    pairs = y.narrow(axis, 1, n - 1) + y.narrow(axis, 0, n - 1)
    if x is None:
        return _mul_scalar(pairs, (1.0 if dx is None else dx) / 2.0).cumsum(axis)
    return _div_scalar((_trapz_weights(y, x, dx, axis) * pairs).cumsum(axis), 2.0)


@public("vander", method=False)
def vander(x: Any, N: int | None = None, increasing: bool = False) -> Any:
    """Vandermonde matrix of the 1-d tensor x: columns x^0..x^(N-1), decreasing unless `increasing`."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if not x.is_floating_point() and not x.is_complex():
        x = x.to(D.int64)
    out = _const(np.empty((x.shape[0], n), x._data.dtype))
    if n:
        out[:, 0] = 1
    if n > 1:
        out[:, 1:] = x.unsqueeze(1).expand((x.shape[0], n - 1)).cumprod(1)
    return out if increasing else out.flip(1)
