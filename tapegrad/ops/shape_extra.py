"""More shape ops: split/chunk/tensor_split (views), flip, roll, repeat/tile/repeat_interleave,
tril/triu, diagonal (a view)/diag/diag_embed, movedim, meshgrid, unfold (a view).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._size import wrap_dim as _wrap
from . import _registry as R
from ._registry import defop, dispatch, public
from ._samples import Sample, arr
from .shape import CAT, PERMUTE, SLICE, _scatter_into_zeros, _shape_str, parse_shape


def _dims(dims: Any) -> tuple:
    if isinstance(dims, (list, tuple)):
        return tuple(int(d) for d in dims)
    return (int(dims),)


# --- split / chunk / tensor_split ---------------------------------------------------------------
def _pieces(a: np.ndarray, d: int, sizes: Sequence[int]) -> tuple:
    out = []
    start = 0
    for s in sizes:
        out.append(a[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def _split(self, split_size, dim=0):
    if self.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap(dim, self.ndim)
    n = self.shape[d]
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={split_size}")
    if split_size == 0 and n != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
    count = max(1, math.ceil(n / split_size)) if split_size else 1
    sizes = [split_size] * (count - 1) + [n - split_size * (count - 1)]
    return _pieces(self, d, sizes)


def _split_with_sizes(self, split_sizes, dim=0):
    if self.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap(dim, self.ndim)
    sizes = [int(s) for s in split_sizes]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={_shape_str(sizes)}")
    if sum(sizes) != self.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {self.shape[d]} (input tensor's "
                           f"size at dimension {d}), but got split_sizes={_shape_str(sizes)}")
    return _pieces(self, d, sizes)


def _cat_grads(grads, dim):
    return dispatch(CAT, (list(grads), dim))


SPLIT = defop("split.Tensor", _split, node="SplitBackward0", view=True, outputs=-1, function=False, method=False,
              grads={"self": _cat_grads},
              samples=lambda: iter([Sample(arr(5, 3), 2), Sample(arr(4, 6), 3, 1), Sample(arr(3, 4), 5),
                                    Sample(arr(0, 2), 0)]),
              jvps={"self": "linear"})
SPLIT_WITH_SIZES = defop("split_with_sizes", _split_with_sizes, node="SplitWithSizesBackward0", view=True,
                         outputs=-1, function=False, method=True, grads={"self": _cat_grads},
                         samples=lambda: iter([Sample(arr(5, 3), [1, 4]), Sample(arr(4, 6), [2, 0, 4], -1),
                                               Sample(arr(3), [3])]),
                         jvps={"self": "linear"})


@public("split")
def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Views of pieces of `split_size` along dim (the last may be smaller), or of the listed sizes."""
    if isinstance(split_size_or_sections, (list, tuple)):
        return dispatch(SPLIT_WITH_SIZES, (tensor, list(split_size_or_sections), dim))
    return dispatch(SPLIT, (tensor, int(split_size_or_sections), dim))


@public("chunk")
def chunk(input: Any, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` views of equal size along dim (the last may be smaller)."""
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._data.shape[_wrap(dim, input._data.ndim)]
    return dispatch(SPLIT, (input, math.ceil(n / chunks), dim))


@public("tensor_split")
def tensor_split(input: Any, indices_or_sections: Any, dim: int = 0) -> tuple:
    """Views split into `sections` near-equal parts, or at the given indices, along dim."""
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _wrap(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, R.Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        bounds = [int(i) for i in indices_or_sections]
        starts = [0] + bounds
        ends = bounds + [n]
    else:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(n, sections)
        sizes = [small + 1] * extra + [small] * (sections - extra)
        starts = [sum(sizes[:i]) for i in range(sections)]
        ends = [s + z for s, z in zip(starts, sizes)]
    out = []
    for s, e in zip(starts, ends):
        s = min(max(s + n if s < 0 else s, 0), n)
        e = min(max(e + n if e < 0 else e, 0), n)
        out.append(dispatch(SLICE, (input, d, s, max(s, e), 1)))
    return tuple(out)


def _directional_split(name: str, min_dims: int, dim_of: Any) -> Any:
    def fn(input: Any, indices_or_sections: Any) -> tuple:
        nd = input._data.ndim
        if nd < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                               f"with {nd} dimensions!")
        d = dim_of(nd)
        sections = indices_or_sections
        if isinstance(sections, int) and sections and input._data.shape[d] % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the dimension "
                               f"{input._data.shape[d]} is not divisible by the split_size {indices_or_sections}!")
        return tensor_split(input, indices_or_sections, d)
    fn.__name__ = name
    fn.__doc__ = f"tensor_split along the dim torch.{name} names."
    return fn


public("hsplit")(_directional_split("hsplit", 1, lambda nd: 1 if nd > 1 else 0))
public("vsplit")(_directional_split("vsplit", 2, lambda nd: 0))
public("dsplit")(_directional_split("dsplit", 3, lambda nd: 2))


# --- flip / roll ----------------------------------------------------------------------------
def _flip(self, dims):
    axes = [_wrap(d, max(self.ndim, 1)) for d in _dims(dims)]
    for i, a in enumerate(axes):
        if a in axes[:i]:
            raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
    if self.ndim == 0:
        return self.copy()
    return np.flip(self, axis=tuple(axes)).copy()


FLIP = defop("flip", _flip, node="FlipBackward0", method=False, function=False,
             grads={"self": lambda grad, dims: dispatch(FLIP, (grad, dims))},
             samples=lambda: iter([Sample(arr(3, 4), (0,)), Sample(arr(2, 3, 4), (0, -1)), Sample(arr(), (0,)),
                                   Sample(arr(0, 3), (1,))]),
             jvps={"self": "linear"})


@public("flip")
def flip(input: Any, *dims: Any) -> Any:
    """A copy with the order of elements reversed along `dims`."""
    return dispatch(FLIP, (input, parse_shape(dims)))


@public("fliplr")
def fliplr(input: Any) -> Any:
    """Reverse the columns (dim 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return dispatch(FLIP, (input, (1,)))


@public("flipud")
def flipud(input: Any) -> Any:
    """Reverse the rows (dim 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return dispatch(FLIP, (input, (0,)))


def _roll(self, shifts, dims=None):
    shifts = _dims(shifts)
    if dims is None or dims == ():
        if dims == () and not shifts:
            raise RuntimeError("`shifts` required")
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return np.roll(self, shifts[0])
    dims = _dims(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    axes = tuple(_wrap(d, max(self.ndim, 1)) for d in dims)
    return np.roll(self, shifts, axis=axes) if self.ndim else self.copy()


def _roll_grad(grad, shifts, dims):
    back = tuple(-s for s in _dims(shifts))
    return dispatch(ROLL, (grad, back, dims))


ROLL = defop("roll", _roll, node="RollBackward0", grads={"self": _roll_grad},
             samples=lambda: iter([Sample(arr(3, 4), 1), Sample(arr(3, 4), (1, -2), (0, 1)), Sample(arr(3, 4), 5, 1),
                                   Sample(arr(), 2), Sample(arr(0, 2), 1, 0)]),
             jvps={"self": "linear"})


# --- repeat / tile / repeat_interleave --------------------------------------------------------
def _repeat(self, repeats):
    repeats = tuple(repeats)
    if len(repeats) < self.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    padded = (1,) * (len(repeats) - self.ndim) + self.shape
    target = tuple(r * s for r, s in zip(repeats, padded))
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(target)}: {_shape_str(target)}")
    return np.tile(self.reshape(padded), repeats)


def _repeat_grad(grad, repeats, self_shape):
    repeats = tuple(repeats)
    padded = (1,) * (len(repeats) - len(self_shape)) + tuple(self_shape)
    split = []
    for r, s in zip(repeats, padded):
        split += [r, s]
    g = grad.reshape(split)
    if split:
        g = g.sum(tuple(range(0, len(split), 2)))
    return g.reshape(self_shape)


REPEAT = defop("repeat", _repeat, node="RepeatBackward0", function=False, method=False,
               grads={"self": _repeat_grad},
               samples=lambda: iter([Sample(arr(2, 3), (2, 1)), Sample(arr(3), (2, 2)), Sample(arr(), (3,)),
                                     Sample(arr(2, 3), (1, 0)), Sample(arr(), ())]),
               jvps={"self": "linear"})


@public("repeat", function=False)
def repeat(self: Any, *sizes: Any) -> Any:
    """Repeat the tensor `sizes[i]` times along each dim (new leading dims allowed)."""
    return dispatch(REPEAT, (self, parse_shape(sizes)))


@public("tile")
def tile(input: Any, dims: Any) -> Any:
    """repeat, with `dims` padded by leading ones to the tensor's rank."""
    dims = parse_shape((dims,))
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return dispatch(REPEAT, (input, dims))


@public("repeat_interleave")
def repeat_interleave(input: Any, repeats: Any = None, dim: Any = None, *, output_size: Any = None) -> Any:
    """Repeat each element `repeats` times (an int or one count per element) along dim, or flattened."""
    from .gather_scatter import INDEX_SELECT
    if repeats is None:  # torch.repeat_interleave(counts): the indices repeated by their counts
        counts = input._data
        return R._make(np.repeat(np.arange(counts.size, dtype=np.int64), counts.reshape(-1)), False, None, 0)
    if dim is None:
        input = input.reshape(-1)
        dim = 0
    d = _wrap(dim, input._data.ndim)
    if isinstance(repeats, R.Tensor):
        counts = repeats._data
        n = input._data.shape[d]
        if counts.size == 1 and counts.ndim <= 1:
            counts = np.broadcast_to(counts.reshape(-1), (n,))
        if counts.ndim != 1 or counts.shape[0] != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{counts.shape[0] if counts.ndim else 1} and input.size(0) = {n}")
        if counts.size and counts.min() < 0:
            raise RuntimeError("repeats can not be negative")
        index = R._make(np.repeat(np.arange(n, dtype=np.int64), counts), False, None, 0)
        return dispatch(INDEX_SELECT, (input, d, index))
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    shape = input._data.shape
    expanded = input.unsqueeze(d + 1).expand(shape[:d + 1] + (repeats,) + shape[d + 1:])
    return expanded.clone().flatten(d, d + 1)


# --- tril / triu ----------------------------------------------------------------------------
def _triangle(name: str, fn: Any) -> Any:
    def forward(self, diagonal=0):
        if self.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return fn(self, diagonal)
    return forward


TRIL = defop("tril", _triangle("tril", np.tril), node="TrilBackward0", inplace="tril_",
             grads={"self": lambda grad, diagonal: dispatch(TRIL, (grad, diagonal))},
             samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(4, 3), 1), Sample(arr(2, 3, 3), -1),
                                   Sample(arr(0, 2))]),
             jvps={"self": "linear"})
TRIU = defop("triu", _triangle("triu", np.triu), node="TriuBackward0", inplace="triu_",
             grads={"self": lambda grad, diagonal: dispatch(TRIU, (grad, diagonal))},
             samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(4, 3), 1), Sample(arr(2, 3, 3), -2),
                                   Sample(arr(0, 2))]),
             jvps={"self": "linear"})


# --- diagonal / diag / diag_embed ---------------------------------------------------------------
def _diagonal(self, offset=0, dim1=0, dim2=1):
    """A writable strided view of the diagonal (NumPy's own is read-only)."""
    n = self.ndim
    d1, d2 = _wrap(dim1, n), _wrap(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if offset >= 0:
        length = max(0, min(self.shape[d1], self.shape[d2] - offset))
        start = self[(slice(None),) * d2 + (slice(min(offset, self.shape[d2]), None),)]
    else:
        length = max(0, min(self.shape[d1] + offset, self.shape[d2]))
        start = self[(slice(None),) * d1 + (slice(min(-offset, self.shape[d1]), None),)]
    rest = [k for k in range(n) if k not in (d1, d2)]
    shape = tuple(self.shape[k] for k in rest) + (length,)
    strides = tuple(self.strides[k] for k in rest) + (self.strides[d1] + self.strides[d2],)
    if length == 0:
        return np.empty(shape, self.dtype)[...]
    return as_strided(start, shape, strides, writeable=start.flags.writeable)


def _diagonal_grad(grad, self_shape, offset, dim1, dim2):
    return _scatter_into_zeros(grad, self_shape, lambda t: dispatch(DIAGONAL, (t, offset, dim1, dim2)))


DIAGONAL = defop("diagonal", _diagonal, node="DiagonalBackward0", view=True,
                 grads={"self": _diagonal_grad},
                 samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(3, 4), 1), Sample(arr(4, 3), -2),
                                       Sample(arr(2, 3, 4), 0, 2, 0), Sample(arr(3, 4), 5), Sample(arr(0, 3))]),
                 jvps={"self": "linear"})
DIAG_COPY = defop("diag.impl", lambda self, diagonal=0: _diagonal(self, diagonal, 0, 1).copy(),
                  node="DiagonalBackward0_copy", function=False, method=False,
                  grads={"self": lambda grad, self_shape, diagonal: _diagonal_grad(grad, self_shape, diagonal, 0, 1)},
                  samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(3, 4), -1)]),
                  jvps={"self": "linear"})


def _diag_embed(self, offset=0, dim1=-2, dim2=-1):
    n = self.ndim + 1
    d1, d2 = _wrap(dim1, n), _wrap(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = (self.shape[-1] if self.ndim else 1) + abs(offset)
    rest = list(self.shape[:-1])
    shape = []
    for k in range(n):
        shape.append(m if k in (d1, d2) else rest.pop(0))
    out = np.zeros(shape, self.dtype)
    _diagonal(out, offset, d1, d2)[...] = self
    return out


DIAG_EMBED = defop("diag_embed", _diag_embed, node="DiagEmbedBackward0",
                   grads={"self": lambda grad, offset, dim1, dim2: dispatch(DIAGONAL, (grad, offset, dim1, dim2))},
                   samples=lambda: iter([Sample(arr(3)), Sample(arr(2, 3), 1), Sample(arr(2, 3), -1, 0, 2),
                                         Sample(arr(0))]),
                   jvps={"self": "linear"})


@public("diag")
def diag(input: Any, diagonal: int = 0) -> Any:
    """A 1-D input as the diagonal of a square matrix; the diagonal of a 2-D input."""
    nd = input._data.ndim
    if nd == 1:
        return dispatch(DIAG_EMBED, (input, diagonal, 0, 1))
    if nd == 2:
        return dispatch(DIAG_COPY, (input, diagonal))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


# --- movedim / meshgrid ---------------------------------------------------------------------
@public("movedim", method=("movedim"), function=True)
def movedim(input: Any, source: Any, destination: Any) -> Any:
    """A view with the dims in `source` moved to the positions in `destination`."""
    n = input._data.ndim
    src, dst = _dims(source), _dims(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                           f"the same number of dims as destination ({list(dst)} dims)")
    src = tuple(_wrap(d, max(n, 1)) for d in src)
    dst = tuple(_wrap(d, max(n, 1)) for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(_dims(source if name == 'source' else destination))})")
    order = [d for d in range(n) if d not in src]
    perm = [0] * n
    placed = dict(zip(dst, src))
    rest = iter(order)
    for k in range(n):
        perm[k] = placed[k] if k in placed else next(rest)
    return dispatch(PERMUTE, (input, tuple(perm)))


R.FUNCTIONS["moveaxis"] = movedim
R.METHODS["moveaxis"] = movedim

_MESHGRID_WARNING = ("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument. "
                     "(Triggered internally at /pytorch/build/aten/src/ATen/native/TensorShape.cpp:4215.)")


@public("meshgrid", method=False)
def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-D tensors ('ij': matrix indexing, 'xy': Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("torch.meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    order = list(tensors)
    swap = indexing == "xy" and len(order) >= 2
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t._data.size for t in order)
    grids = []
    for i, t in enumerate(order):
        view_shape = tuple(-1 if k == i else 1 for k in range(len(order)))
        grids.append(t.view(view_shape).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# --- unfold ---------------------------------------------------------------------------------
def _unfold(self, dimension, size, step):
    a = self.reshape(1) if self.ndim == 0 else self
    d = _wrap(dimension, a.ndim)
    if size > a.shape[d]:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {a.shape[d]} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (a.shape[d] - size) // step + 1
    shape = a.shape[:d] + (count,) + a.shape[d + 1:] + (size,)
    strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1:] + (a.strides[d],)
    out = as_strided(a, shape, strides, writeable=a.flags.writeable)
    return out.reshape(size) if self.ndim == 0 else out


def _unfold_backward(grad_in, input_sizes, dim, size, step):
    grad = grad_in
    shape = tuple(input_sizes) or (1,)
    d = _wrap(dim, len(shape))
    out = np.zeros(shape, grad.dtype)
    g = grad if input_sizes else grad.reshape((1, size))
    count = g.shape[d]
    for j in range(size):
        if count:
            out[(slice(None),) * d + (slice(j, j + step * (count - 1) + 1, step),)] += g[..., j]
    return out.reshape(tuple(input_sizes))


UNFOLD_BACKWARD = defop("unfold_backward", _unfold_backward, node="UnfoldBackwardBackward0", method=False,
                        inputs=("grad_in",),
                        grads={"grad_in": lambda grad, dim, size, step: dispatch(UNFOLD, (grad, dim, size, step))},
                        samples=lambda: iter([Sample(arr(3, 3, 2), (3, 4), 1, 2, 1),
                                              Sample(arr(2, 4, 3), (5, 4), 0, 3, 2)]))
UNFOLD = defop("unfold", _unfold, node="UnfoldBackward0", view=True, function=False,
               grads={"self": lambda grad, self_shape, dimension, size, step:
                      dispatch(UNFOLD_BACKWARD, (grad, self_shape, dimension, size, step))},
               samples=lambda: iter([Sample(arr(3, 4), 1, 2, 1), Sample(arr(5, 4), 0, 3, 2), Sample(arr(6), 0, 2, 2),
                                     Sample(arr(), 0, 1, 1)]),
               jvps={"self": "linear"})
