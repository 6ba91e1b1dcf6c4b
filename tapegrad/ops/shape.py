"""Shape ops that are views in torch: view/reshape, expand, squeeze/unsqueeze, permute/transpose,
select/slice, unbind; and the copies beside them (clone, contiguous, to, sum_to_size, cat, stack).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from .._size import wrap_dim
from ..autograd.grad_mode import _state as _grad_state
from . import _registry as R
from ._registry import defop, dispatch, public
from ._samples import Sample, arr


def _shape_str(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def parse_shape(args: tuple) -> tuple:
    """`f(2, 3)`, `f((2, 3))`, `f([2, 3])` or `f(torch.Size([2, 3]))` as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    elif len(args) == 1 and isinstance(args[0], R.Tensor) and args[0].ndim == 1:
        args = tuple(args[0].tolist())
    out = []
    for a in args:
        if isinstance(a, (bool, float)) or not hasattr(a, "__index__"):
            raise TypeError(f"expected a sequence of ints as the shape, but got {type(a).__name__}")
        out.append(a.__index__())
    return tuple(out)


def infer_shape(shape: tuple, numel: int) -> tuple:
    """Replace a -1 in `shape`; torch's error when it does not match `numel` elements."""
    known = 1
    infer = None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if infer is not None:
        if known == 0 or numel % known:
            if known == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {_shape_str(shape)} because "
                                   "the unspecified dimension size -1 can be any value and is ambiguous")
            raise RuntimeError(f"shape '{_shape_str(shape)}' is invalid for input of size {numel}")
        shape = shape[:infer] + (numel // known,) + shape[infer + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{_shape_str(shape)}' is invalid for input of size {numel}")
    return shape


# --- view / reshape ---------------------------------------------------------------------
def _view(self, size):
    shape = infer_shape(tuple(size), self.size)
    out = self.view()
    try:
        out.shape = shape  # fails instead of copying when the strides do not allow a view
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return out


def _reshape_grad(grad, self_shape):
    return grad.reshape(self_shape)


VIEW = defop("view", _view, node="ViewBackward0", view=True, function=False, method=False,
             grads={"self": _reshape_grad},
             samples=lambda: iter([Sample(arr(2, 6), (3, 4)), Sample(arr(2, 3), (-1,)), Sample(arr(), (1, 1)),
                                   Sample(arr(0, 3), (3, 0))]),
             jvps={"self": lambda self_t, size: self_t.reshape(size)})  # a tangent need not be viewable
UNSAFE_VIEW = defop("_unsafe_view", lambda self, size: np.reshape(self, infer_shape(tuple(size), self.size)),
                    node="UnsafeViewBackward0", function=False, method=False, grads={"self": _reshape_grad},
                    samples=lambda: iter([Sample(arr(2, 6), (3, 4))]),
                    jvps={"self": "linear"})


@public("view", function=False)
def view(self: Any, *shape: Any) -> Any:
    """A view with another shape (same elements); a dtype argument reinterprets the bytes."""
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        out = R._make(self._data.view(shape[0].numpy), False, None, 0, self._version_counter)
        out._base = self._base if self._base is not None else self
        return out
    return dispatch(VIEW, (self, parse_shape(shape)))


@public("reshape")
def reshape(self: Any, *shape: Any) -> Any:
    """Same elements in another shape: a view when the strides allow it, else a copy."""
    size = parse_shape(shape)
    target = infer_shape(size, self._data.size)
    if target == self._data.shape and False:
        return self
    if _viewable(self._data, target):
        return dispatch(VIEW, (self, target))
    return dispatch(UNSAFE_VIEW, (dispatch(CLONE, (self, None)), target))


def _viewable(a: np.ndarray, shape: tuple) -> bool:
    probe = a.view()
    try:
        probe.shape = shape
    except AttributeError:
        return False
    return True


@public("view_as", function=False)
def view_as(self: Any, other: Any) -> Any:
    return view(self, other.shape)


@public("reshape_as", function=False)
def reshape_as(self: Any, other: Any) -> Any:
    return reshape(self, other.shape)


@public("flatten")
def flatten(input: Any, start_dim: int = 0, end_dim: int = -1) -> Any:
    """Merge dims start_dim..end_dim into one."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, len(shape))
    e = wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    merged = math.prod(shape[s:e + 1])
    return reshape(input, shape[:s] + (merged,) + shape[e + 1:])


@public("unflatten")
def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Any:
    """Split dim into `sizes`."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = infer_shape(tuple(sizes), shape[d])
    return view(input, shape[:d] + sizes + shape[d + 1:])


# --- expand / sum_to_size ---------------------------------------------------------------
def _expand(self, size):
    size = tuple(size)
    if len(size) < self.ndim:
        raise RuntimeError(f"expand(torch.{D._BY_NUMPY[self.dtype]._legacy}Tensor{{{_shape_str(self.shape)}}}, "
                           f"size={_shape_str(size)}): the number of sizes provided ({len(size)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({self.ndim})")
    lead = len(size) - self.ndim
    target = []
    for i, s in enumerate(size):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension " + str(i))
            target.append(s)
            continue
        cur = self.shape[i - lead]
        if s == -1:
            s = cur
        elif cur != 1 and s != cur:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {_shape_str(size)}.  Tensor sizes: "
                               f"{_shape_str(self.shape)}")
        target.append(s)
    return broadcast_view(self, tuple(target))


def broadcast_view(a: np.ndarray, shape: tuple) -> np.ndarray:
    """A read-only view of `a` broadcast to `shape` (shape already checked)."""
    if a.flags.c_contiguous and a.size:
        lead = len(shape) - a.ndim
        strides = (0,) * lead + tuple(0 if n == 1 and m != 1 else st
                                      for n, m, st in zip(a.shape, shape[lead:], a.strides))
        out = np.ndarray(shape, a.dtype, buffer=a, strides=strides)
        out.flags.writeable = False
        return out
    return np.broadcast_to(a, shape)


EXPAND = defop("expand", _expand, node="ExpandBackward0", view=True, function=False, method=False,
               grads={"self": lambda grad, self_shape: grad.sum_to_size(self_shape)},
               samples=lambda: iter([Sample(arr(3, 1), (3, 4)), Sample(arr(), (2, 2)), Sample(arr(4), (2, 3, 4)),
                                     Sample(arr(1, 2), (-1, 2))]),
               jvps={"self": "linear"})


@public("expand", function=False)
def expand(self: Any, *sizes: Any) -> Any:
    """Broadcast singleton dims to `sizes` without copying (-1 keeps a dim)."""
    return dispatch(EXPAND, (self, parse_shape(sizes)))


@public("expand_as", function=False)
def expand_as(self: Any, other: Any) -> Any:
    return dispatch(EXPAND, (self, other._data.shape))


@public("broadcast_to")
def broadcast_to(input: Any, size: Sequence[int]) -> Any:
    return dispatch(EXPAND, (input, tuple(size)))


def _sum_to(self, size):
    """Sum the dims where `size` (of self's rank) is 1 and self's is not, keeping them."""
    axes = tuple(i for i, s in enumerate(size) if s == 1 and self.shape[i] != 1)
    return np.sum(self, axis=axes, keepdims=True) if axes else self.copy()


SUM_TO_SIZE = defop("sum_to_size", _sum_to, node="SumBackward1", function=False, method=False,
                    grads={"self": lambda grad, self_shape: grad.expand(self_shape)},
                    samples=lambda: iter([Sample(arr(3, 4), (3, 1)), Sample(arr(2, 3, 4), (1, 1, 4)),
                                          Sample(arr(2, 3), (1, 1))]),
                    jvps={"self": "linear"})


@public("sum_to_size", function=False)
def sum_to_size(self: Any, *size: Any) -> Any:
    """Sum broadcast dims away so the result has shape `size`."""
    shape = parse_shape(size)
    have = self._data.shape
    if shape == have:
        return self
    lead = len(have) - len(shape)
    if lead < 0 or any(s != 1 and s != c for s, c in zip(shape, have[lead:])):
        raise RuntimeError(f"size {{{_shape_str(shape)}}} is not expandable to size {{{_shape_str(have)}}}.")
    if lead and not _grad_state.enabled and all(s == c for s, c in zip(shape, have[lead:])):
        # only leading dims to sum (a bias's gradient) and no graph to record: one op instead of two
        from .reduction import SUM
        return dispatch(SUM, (self, tuple(range(lead)), False, None))
    out = dispatch(SUM_TO_SIZE, (self, (1,) * lead + shape))  # torch's sum_to: sum keeping dims, then view
    return dispatch(VIEW, (out, shape)) if lead else out


# --- squeeze / unsqueeze ----------------------------------------------------------------
_wrap = wrap_dim


def _unsqueeze(self, dim):
    return np.expand_dims(self, _wrap(dim, self.ndim + 1))


UNSQUEEZE = defop("unsqueeze", _unsqueeze, node="UnsqueezeBackward0", view=True,
                  grads={"self": lambda grad, dim: grad.squeeze(dim)},
                  samples=lambda: iter([Sample(arr(3, 4), 0), Sample(arr(3, 4), -1), Sample(arr(), 0)]),
                  jvps={"self": "linear"})


def _squeeze_dims(a: np.ndarray, dim: Any) -> tuple:
    if dim is None:
        return tuple(i for i, s in enumerate(a.shape) if s == 1)
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(sorted({_wrap(d, a.ndim) for d in dims if a.ndim and a.shape[_wrap(d, a.ndim)] == 1}))


def _squeeze(self, dim=None):
    if self.ndim == 0:
        if dim is not None:
            for d in (dim if isinstance(dim, (tuple, list)) else (dim,)):
                _wrap(d, 0)
        return self.view()
    return np.squeeze(self, axis=_squeeze_dims(self, dim))


def _unsqueeze_to(grad, dim, self_shape):
    """squeeze's gradient: `grad` with the removed size-1 dims put back, one unsqueeze each (as torch)."""
    ndim = len(self_shape)
    if dim is None:
        dims = range(ndim)
    else:
        dims = sorted({d % ndim for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}) if ndim else ()
    for d in dims:
        if self_shape[d] == 1:
            grad = grad.unsqueeze(d)
    return grad


_SQUEEZE_GRAD = {"self": _unsqueeze_to}
SQUEEZE_ALL = defop("squeeze.all", _squeeze, node="SqueezeBackward0", view=True, function=False, method=False,
                    grads={"self": lambda grad, self_shape: _unsqueeze_to(grad, None, self_shape)}, samples=lambda: iter([Sample(arr(3, 1, 4, 1)), Sample(arr())]),
                    jvps={"self": "linear"})
SQUEEZE_DIM = defop("squeeze.dim", _squeeze, node="SqueezeBackward1", view=True, function=False, method=False,
                    grads=_SQUEEZE_GRAD, samples=lambda: iter([Sample(arr(3, 1, 4), 1), Sample(arr(3, 4), 0)]),
                    jvps={"self": "linear"})
SQUEEZE_DIMS = defop("squeeze.dims", _squeeze, node="SqueezeBackward2", view=True, function=False, method=False,
                     grads=_SQUEEZE_GRAD, samples=lambda: iter([Sample(arr(3, 1, 1), (1, 2))]),
                     jvps={"self": "linear"})
# matmul's internal squeeze_ of a 1-d operand's added dim
SQUEEZE_MATMUL = defop("_squeeze_matmul", _squeeze, node="SqueezeBackward4", view=True, function=False,
                       method=False, grads=_SQUEEZE_GRAD, samples=lambda: iter([Sample(arr(1, 4), 0)]),
                       jvps={"self": "linear"})


@public("squeeze")
def squeeze(input: Any, dim: Any = None) -> Any:
    """Remove dims of size 1 (all, one, or the listed ones)."""
    if dim is None:
        return dispatch(SQUEEZE_ALL, (input, None))
    if isinstance(dim, (tuple, list)):
        return dispatch(SQUEEZE_DIMS, (input, tuple(dim)))
    return dispatch(SQUEEZE_DIM, (input, dim))


# --- permute / transpose ----------------------------------------------------------------
def _permute(self, dims):
    dims = tuple(dims)
    if len(dims) != self.ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {self.ndim} is not "
                           f"equal to len(dims) = {len(dims)}")
    wrapped = tuple(_wrap(d, self.ndim) for d in dims)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return np.transpose(self, wrapped)


def _permute_grad(grad, dims):
    n = len(dims)
    wrapped = [d % n if n else 0 for d in dims]
    inverse = [0] * n
    for i, d in enumerate(wrapped):
        inverse[d] = i
    return grad.permute(inverse)


PERMUTE = defop("permute", _permute, node="PermuteBackward0", view=True, function=False, method=False,
                grads={"self": _permute_grad},
                samples=lambda: iter([Sample(arr(2, 3, 4), (2, 0, 1)), Sample(arr(3, 4), (-1, 0)), Sample(arr(), ())]),
                jvps={"self": "linear"})


@public("permute")
def permute(input: Any, *dims: Any) -> Any:
    """Reorder the dims."""
    return dispatch(PERMUTE, (input, parse_shape(dims)))


def _transpose(self, dim0, dim1):
    if self.ndim == 0:
        _wrap(dim0, 0), _wrap(dim1, 0)
        return self.view()
    return np.swapaxes(self, _wrap(dim0, self.ndim), _wrap(dim1, self.ndim))


TRANSPOSE = defop("transpose", _transpose, node="TransposeBackward0", view=True, method=("transpose", "swapaxes",
                  "swapdims"), function=("transpose", "swapaxes", "swapdims"),
                  grads={"self": lambda grad, dim0, dim1: grad.transpose(dim0, dim1)},
                  samples=lambda: iter([Sample(arr(2, 3, 4), 0, 2), Sample(arr(3, 4), -1, 0), Sample(arr(), 0, 0)]),
                  jvps={"self": "linear"})


def _t(self):
    if self.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return self.T


T_OP = defop("t", _t, node="TBackward0", view=True, grads={"self": lambda grad: grad.t()},
             samples=lambda: iter([Sample(arr(3, 4)), Sample(arr(5)), Sample(arr())]),
             jvps={"self": "linear"})


def _numpy_T(self: Any) -> Any:
    n = self._data.ndim
    if n not in (0, 2):
        import warnings
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
                      "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
                      "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
                      "tensor.", UserWarning, stacklevel=2)
    return dispatch(PERMUTE, (self, tuple(range(n - 1, -1, -1))))


def _matrix_T(self: Any) -> Any:
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self._data.ndim}-D "
                           "tensor.")
    return dispatch(TRANSPOSE, (self, -2, -1))


def _matrix_H(self: Any) -> Any:
    if self._data.ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self._data.ndim}-D tensor.")
    return dispatch(T_OP, (self,))


# attached as properties by tapegrad.ops
PROPERTIES = {"T": _numpy_T, "mT": _matrix_T, "H": _matrix_H, "mH": _matrix_T}


# --- select / slice / unbind / narrow ----------------------------------------------------
def _select(self, dim, index):
    if self.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap(dim, self.ndim)
    size = self.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {_shape_str(self.shape)} at "
                         f"dimension {d}")
    key = (slice(None),) * d + (index, Ellipsis)  # the Ellipsis keeps a 0-d result a view, not a scalar
    return self[key]


def _scatter_into_zeros(grad: Any, shape: tuple, view_fn: Any) -> Any:
    from ._inplace import view_scatter
    zeros = R._make(np.zeros(shape, grad._data.dtype), False, None, 0)
    return view_scatter(zeros, grad, view_fn)


SELECT = defop("select", _select, node="SelectBackward0", view=True, method=("select",),
               grads={"self": lambda grad, self_shape, dim, index:
                      dispatch(SELECT_BACKWARD, (grad, self_shape, dim, index))},
               samples=lambda: iter([Sample(arr(3, 4), 0, 1), Sample(arr(3, 4), 1, -1), Sample(arr(2, 3, 4), 2, 0)]),
               jvps={"self": "linear"})


def _slice(self, dim=0, start=None, end=None, step=1):
    d = _wrap(dim, self.ndim)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    return self[(slice(None),) * d + (slice(start, end, step),)]


SLICE = defop("slice", _slice, node="SliceBackward0", view=True, function=False, method=False,
              grads={"self": lambda grad, self_shape, dim, start, end, step:
                     dispatch(SLICE_BACKWARD, (grad, self_shape, dim, start, end, step))},
              samples=lambda: iter([Sample(arr(5, 4), 0, 1, 4, 1), Sample(arr(5, 4), 1, 0, 4, 2),
                                    Sample(arr(6), 0, -3, None, 1)]),
              jvps={"self": "linear"})


def _select_backward(grad_output, input_sizes, dim, index):
    """Zeros of the input's shape with grad_output written at `index` along `dim`."""
    out = np.zeros(input_sizes, grad_output.dtype)
    d = _wrap(dim, len(input_sizes))
    out[(slice(None),) * d + (index,)] = grad_output
    return out


def _slice_backward(grad_output, input_sizes, dim, start, end, step):
    """Zeros of the input's shape with grad_output written into the slice along `dim`."""
    out = np.zeros(input_sizes, grad_output.dtype)
    d = _wrap(dim, len(input_sizes))
    out[(slice(None),) * d + (slice(start, end, step),)] = grad_output
    return out


SELECT_BACKWARD = defop(
    "select_backward", _select_backward, node="SelectBackwardBackward0", function=False, method=False,
    inputs=("grad_output",),
    grads={"grad_output": lambda grad, dim, index: dispatch(SELECT, (grad, dim, index))},
    samples=lambda: iter([Sample(arr(4), (3, 4), 0, 1), Sample(arr(2, 3), (2, 5, 3), 1, -1)]),
    jvps={"grad_output": "linear"})
SLICE_BACKWARD = defop(
    "slice_backward", _slice_backward, node="SliceBackwardBackward0", function=False, method=False,
    inputs=("grad_output",),
    grads={"grad_output": lambda grad, dim, start, end, step: dispatch(SLICE, (grad, dim, start, end, step))},
    samples=lambda: iter([Sample(arr(3, 4), (5, 4), 0, 1, 4, 1), Sample(arr(5, 2), (5, 4), 1, 0, 4, 2)]),
    jvps={"grad_output": "linear"})


@public("narrow")
def narrow(input: Any, dim: int, start: Any, length: int) -> Any:
    """The `length` elements of `dim` from `start` (a view)."""
    d = _wrap(dim, input._data.ndim)
    size = input._data.shape[d]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return dispatch(SLICE, (input, d, start, start + length, 1))


def _unbind(self, dim=0):
    if self.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap(dim, self.ndim)
    return tuple(self[(slice(None),) * d + (i, Ellipsis)] for i in range(self.shape[d]))


UNBIND = defop("unbind", _unbind, node="UnbindBackward0", view=True, outputs=-1,
               grads={"self": lambda grads, dim: stack_grads(grads, dim)},
               samples=lambda: iter([Sample(arr(3, 4), 0), Sample(arr(3, 4), 1), Sample(arr(2, 0), 0)]),
               jvps={"self": "linear"})


def stack_grads(grads: tuple, dim: int) -> Any:
    return dispatch(STACK, (list(grads), dim))


# --- clone / contiguous / to ------------------------------------------------------------
# an expanded (0-stride) input clones to contiguous memory, as torch's preserve_format does for overlapping tensors
def _clone(self, memory_format=None):
    dense = memory_format == "torch.contiguous_format" or 0 in self.strides
    return np.array(self, copy=True, order="C" if dense else "K")


CLONE = defop("clone", _clone, node="CloneBackward0",
              grads={"self": lambda grad: grad}, samples=lambda: iter([Sample(arr(3, 4)), Sample(arr())]),
              jvps={"self": "linear"})


@public("contiguous", function=False)
def contiguous(self: Any, memory_format: Any = None) -> Any:
    """self when already contiguous, else a contiguous copy."""
    if self._data.flags.c_contiguous:
        return self
    return dispatch(CLONE, (self, "torch.contiguous_format"))


def _to_copy(self, dtype):
    return self.astype(dtype.numpy, copy=True)


TO_COPY = defop("_to_copy", _to_copy, node="ToCopyBackward0", function=False, method=False,
                grads={"self": lambda grad, self_dtype: grad.to(self_dtype)},
                samples=lambda: iter([Sample(arr(3, 4), D.float32), Sample(arr(), D.float64)]),
                jvps={"self": "linear"})


def _convert(self: Any, dtype: D.dtype, copy: bool = False) -> Any:
    if dtype.numpy == self._data.dtype and not copy:
        return self
    if not dtype.is_floating_point and not dtype.is_complex:
        prev = R._state.enabled
        R._state.enabled = False
        try:
            out = dispatch(TO_COPY, (self, dtype))
        finally:
            R._state.enabled = prev
        return out
    return dispatch(TO_COPY, (self, dtype))


@public("to", function=False)
def to(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Convert dtype (and accept device 'cpu'): to(dtype), to(device), to(device, dtype), to(other)."""
    from .._device import check_device
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    dev = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments - got unexpected keyword "
                        f"{next(iter(kwargs))}")
    for a in args:
        if isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, R.Tensor):
            dtype = a.dtype
        elif isinstance(a, bool):
            continue
        elif a is not None:
            dev = a
    if dev is not None:
        check_device(dev)
    if dtype is None:
        return R._make(np.array(self._data, copy=True), False, None, 0) if copy and False else self
    return _convert(self, D.as_dtype(dtype), copy)


def _dtype_method(name: str, dtype: D.dtype) -> Any:
    def method(self: Any, memory_format: Any = None) -> Any:
        return _convert(self, dtype)
    method.__name__ = name
    method.__doc__ = f"A copy converted to {dtype} (self when it already is)."
    return method


for _name, _dt in (("float", D.float32), ("double", D.float64), ("half", D.float16), ("long", D.int64),
                   ("int", D.int32), ("short", D.int16), ("char", D.int8), ("byte", D.uint8), ("bool", D.bool_),
                   ("cfloat", D.complex64), ("cdouble", D.complex128)):
    R.METHODS[_name] = _dtype_method(_name, _dt)
if hasattr(D, "bfloat16"):
    R.METHODS["bfloat16"] = _dtype_method("bfloat16", D.bfloat16)


# --- cat / stack ------------------------------------------------------------------------
def _check_cat(tensors: Sequence[np.ndarray], dim: int, name: str) -> int:
    if len(tensors) == 0:
        raise RuntimeError(f"{name}(): expected a non-empty list of Tensors")
    ref = next((t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)), tensors[0])
    if ref.ndim == 0:
        raise RuntimeError(f"zero-dimensional tensor (at position {[t.ndim for t in tensors].index(0)}) cannot be "
                           "concatenated")
    d = _wrap(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim == 1 and t.shape[0] == 0:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}")
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.shape[k]} but got size {t.shape[k]} for tensor number {i} in the list.")
    return d


def _cat(tensors, dim=0):
    d = _check_cat(tensors, dim, "torch.cat")
    parts = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or list(tensors[:1])
    return np.concatenate(parts, axis=d)


def _cat_grad(grad, tensors_shape, dim):
    ref = next((s for s in tensors_shape if s != (0,)), tensors_shape[0])
    d = _wrap(dim, len(ref))
    out = []
    offset = 0
    for s in tensors_shape:
        if s == (0,) and len(ref) != 1:
            out.append(None)
            continue
        n = s[d]
        out.append(dispatch(SLICE, (grad, d, offset, offset + n, 1)))
        offset += n
    return out


CAT = defop("cat", _cat, node="CatBackward0", list_input=True, promote="common", method=False,
            function=("cat", "concat", "concatenate"), inputs=("tensors",),
            grads={"tensors": _cat_grad},
            samples=lambda: iter([Sample([arr(2, 3), arr(4, 3)]), Sample([arr(2, 3), arr(2, 1)], 1),
                                  Sample([arr(3), arr(2), arr(0)])]),
            jvps={"tensors": "linear"})


def _stack(tensors, dim=0):
    if len(tensors) == 0:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {_shape_str(tensors[0].shape)} "
                               f"at entry 0 and {_shape_str(t.shape)} at entry {i}")
    return np.stack(tensors, axis=_wrap(dim, tensors[0].ndim + 1))


STACK = defop("stack", _stack, node="StackBackward0", list_input=True, promote="common", method=False,
              inputs=("tensors",),
              grads={"tensors": lambda grad, dim: list(grad.unbind(dim))},
              samples=lambda: iter([Sample([arr(2, 3), arr(2, 3)]), Sample([arr(3), arr(3), arr(3)], 1),
                                    Sample([arr(), arr()])]),
              jvps={"tensors": "linear"})


# --- as_strided (what a view becomes after an in-place op changed its base) ---------------
def _strided_region(flat: np.ndarray, size: tuple, stride: tuple, storage_offset: int) -> np.ndarray:
    item = flat.itemsize
    return np.lib.stride_tricks.as_strided(flat[storage_offset:], shape=tuple(size),
                                           strides=tuple(s * item for s in stride))


def _as_strided(self, size, stride, storage_offset=None):
    if not self.flags.c_contiguous:
        raise RuntimeError("as_strided: tapegrad supports it on contiguous tensors only")
    flat = self.reshape(-1)
    offset = 0 if storage_offset is None else storage_offset
    need = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if need > flat.size:
        raise RuntimeError(f"setStorage: sizes {_shape_str(size)}, strides {_shape_str(stride)}, storage offset "
                           f"{offset}, and itemsize {self.itemsize} requiring a storage size of "
                           f"{need * self.itemsize} are out of bounds for storage of size {flat.size * self.itemsize}")
    return _strided_region(flat, tuple(size), tuple(stride), offset)


def _as_strided_backward(grad, self_shape, size, stride, storage_offset=None):
    """Scatter-add `grad` into zeros of the input's shape at the strided positions."""
    flat = np.zeros(math.prod(self_shape), grad.dtype)
    region = _strided_region(flat, tuple(size), tuple(stride), 0 if storage_offset is None else storage_offset)
    index = _strided_region(np.arange(flat.size), tuple(size), tuple(stride),
                            0 if storage_offset is None else storage_offset)
    if np.unique(index).size == index.size:
        region += grad
    else:
        np.add.at(flat, index.reshape(-1), grad.reshape(-1))
    return flat.reshape(self_shape)


AS_STRIDED = defop("as_strided", _as_strided, node="AsStridedBackward0", view=True,
                   grads={"self": lambda grad, self_shape, size, stride, storage_offset:
                          dispatch(AS_STRIDED_BACKWARD, (grad, self_shape, size, stride, storage_offset))},
                   samples=lambda: iter([Sample(arr(4, 3), (2, 3), (3, 1), 3), Sample(arr(6), (3, 2), (1, 1), 0),
                                         Sample(arr(3, 4), (4, 3), (1, 4))]),
                   jvps={"self": "linear"})
AS_STRIDED_BACKWARD = defop(
    "as_strided_backward", _as_strided_backward, node="AsStridedBackwardBackward0", function=False, method=False,
    inputs=("grad",),
    grads={"grad": lambda grad, size, stride, storage_offset: dispatch(AS_STRIDED, (grad, size, stride,
                                                                                     storage_offset))},
    samples=lambda: iter([Sample(arr(2, 3), (4, 3), (2, 3), (3, 1), 3)]))
