"""The Tensor: a NumPy array with a dtype, autograd state (requires_grad, grad_fn, grad) and a
version counter shared with its views. Operations live in the op table (tapegrad/ops) and are
attached as methods by tapegrad/ops/__init__.py; this module holds what is not an op.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Any, Callable, Iterator

import numpy as np

from . import _dtype as D
from ._size import Size, wrap_dim
from ._device import device as _device_cls, CPU
from .autograd.grad_mode import _state
from .autograd.engine import run_backward as _run_backward
from .autograd.graph import AccumulateGrad, RemovableHandle, _add_hook

__all__ = ["Tensor", "make", "wrap", "fill_inplace_"]

_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information. "
    "(Triggered internally at /pytorch/build/aten/src/ATen/core/TensorBody.h:493.)")


class Tensor:
    """A multi-dimensional array that can record the operations applied to it for autograd."""

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_output_nr", "_version_counter", "_base", "_view_fn",
                 "_grad", "_accumulator", "_hooks", "_post_accumulate_hooks", "_retains_grad", "_inference",
                 "_view_multi", "_view_created_no_grad", "_fw_grads", "__dict__", "__weakref__")

    __array_priority__ = 1000  # NumPy defers to our reflected operators (ndarray * Tensor -> Tensor)

    def __new__(cls, *args: Any, **kwargs: Any) -> "Tensor":
        # torch.Tensor(2, 3) / torch.Tensor([1, 2]): legacy constructor (float32)
        from ._creation import legacy_tensor_new
        return legacy_tensor_new(cls, *args, **kwargs)

    # ---------------------------------------------------------------- basic attributes
    @property
    def dtype(self) -> D.dtype:
        return D._BY_NUMPY[self._data.dtype]

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape as torch.Size, or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[wrap_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def device(self) -> _device_cls:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_sparse(self) -> bool:
        return False

    @property
    def is_quantized(self) -> bool:
        return False

    @property
    def is_meta(self) -> bool:
        return False

    @property
    def layout(self) -> str:
        return "torch.strided"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    def stride(self, dim: int | None = None) -> Any:
        """Strides in elements, as torch reports them."""
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        if self._data.size <= 1 or 0 in self._data.shape:
            strides = _contiguous_strides(self._data.shape)
        if dim is None:
            return strides
        return strides[wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        a = self._data
        if a.flags.c_contiguous:
            return True
        expected = 1
        for size, stride in zip(reversed(a.shape), reversed(a.strides)):
            if size != 1 and stride != expected * a.itemsize:
                return False
            expected *= size
        return True

    def storage_offset(self) -> int:
        base = self._base
        if base is None:
            return 0
        start = base._data.__array_interface__["data"][0]
        return (self._data.__array_interface__["data"][0] - start) // self._data.itemsize

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def untyped_storage(self) -> Any:
        return _Storage(self._base._data if self._base is not None else self._data)

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    @property
    def is_inference(self) -> Callable[[], bool]:
        return lambda: self._inference

    # ---------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._grad_fn is not None:
            msg = "you can only change requires_grad flags of leaf variables."
            if not value:
                msg += (" If you want to use a computed variable in a subgraph that doesn't require differentiation"
                        " use var_no_grad = var.detach().")
            raise RuntimeError(msg)
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set requires_grad in place on a leaf; returns self."""
        if self._grad_fn is not None:
            if requires_grad:
                return self
            self.requires_grad = False
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self) -> Any:
        return self._grad_fn

    @property
    def grad(self) -> "Tensor | None":
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def _grad_accumulator(self) -> Any:
        return self._get_accumulator() if self._grad_fn is None and self._requires_grad else None

    def _get_accumulator(self) -> AccumulateGrad:
        acc = self._accumulator() if self._accumulator is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._accumulator = weakref.ref(acc)
        return acc

    def retain_grad(self) -> None:
        """Populate `.grad` of this non-leaf tensor during backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        ref = weakref.ref(self)

        def retain(grad: Tensor) -> None:
            t = ref()
            if t is None:
                return
            if t._grad is None:
                t._grad = grad if grad._requires_grad else make(np.array(grad._data, copy=True), False, None, 0)
            else:
                t._grad = t._grad + grad
        retain._is_retain_grad = True  # type: ignore[attr-defined]
        self._grad_fn._register_tensor_hook(self._output_nr, retain)
        self._retains_grad = True

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]) -> RemovableHandle:
        """Call `hook(grad)` whenever this tensor's gradient is computed; it may return a replacement."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._register_tensor_hook(self._output_nr, hook)
        return _add_hook(self, "_hooks", hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[["Tensor"], None]) -> RemovableHandle:
        """Call `hook(tensor)` after a gradient has been accumulated into this leaf's `.grad`."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        return _add_hook(self, "_post_accumulate_hooks", hook)

    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Compute the gradient of this tensor w.r.t. graph leaves (accumulated into their `.grad`)."""
        fn = self._grad_fn
        if inputs is None and not create_graph and fn is not None and self._data.dtype.kind == "f":
            # the common `loss.backward()` / `y.backward(v)`: skip the general argument handling
            if gradient is None and self._data.size == 1:
                seed = make(np.ones(self._data.shape, self._data.dtype), False, None, 0)
            elif isinstance(gradient, Tensor) and gradient._data.shape == self._data.shape and \
                    gradient._data.dtype.kind == "f":
                seed = gradient
            else:
                seed = None
            if seed is not None:
                _run_backward([(fn, self._output_nr)], [seed], keep_graph=bool(retain_graph), create_graph=False)
                return
        from .autograd import backward as autograd_backward
        autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    @property
    def data(self) -> "Tensor":
        out = make(self._data, False, None, 0, self._version_counter_for_data())
        return out

    def _version_counter_for_data(self) -> list:
        return [0]

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data

    def detach(self) -> "Tensor":
        """A new tensor sharing storage and version counter, outside the graph."""
        out = make(self._data, False, None, 0, self._version_counter)
        out._base = self._base if self._base is not None else None
        return out

    def detach_(self) -> "Tensor":
        """Detach this tensor from the graph in place; it becomes a leaf."""
        if self._base is not None and self._view_fn is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) "
                "for training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and "
                "hence detach_() cannot be called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    # ---------------------------------------------------------------- conversions
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array sharing this tensor's memory."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if dtype is None:
            return self._data
        return self._data.astype(dtype, copy=False)

    def item(self) -> Any:
        """The single value as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            if self._data.size == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def _scalar(self, kind: type) -> Any:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return kind(self._data.reshape(()).item())

    def __float__(self) -> float:
        return self._scalar(float)

    def __int__(self) -> int:
        return self._scalar(int)

    def __complex__(self) -> complex:
        return self._scalar(complex)

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()).item())

    def __hash__(self) -> int:
        return id(self)

    def __contains__(self, element: Any) -> bool:
        if isinstance(element, (Tensor, int, float, bool, complex)):
            return bool((self == element).any().item())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                           f"{type(element)}.")

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_tensor, (np.array(self._data), self._requires_grad))

    def __deepcopy__(self, memo: dict) -> "Tensor":
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = make(np.array(self._data, copy=True), self._requires_grad, None, 0)
        if type(self) is not Tensor:
            new = _retype(new, type(self))
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        new.__dict__.update(self.__dict__)
        memo[id(self)] = new
        return new

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from ._tensor_str import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return str(self)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """'torch.FloatTensor' style name, or a copy converted to `dtype`."""
        if dtype is None:
            return "torch." + self.dtype._legacy + "Tensor"
        if isinstance(dtype, str):
            name = dtype.replace("torch.", "")
            for d in D.ALL_DTYPES:
                if d._legacy + "Tensor" == name:
                    return self.to(d)
            raise ValueError(f"invalid type: '{dtype}'")
        return self.to(dtype)

    def cpu(self, memory_format: Any = None) -> "Tensor":
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> "Tensor":
        raise AssertionError("Torch not compiled with CUDA enabled")

    def pin_memory(self, *args: Any) -> "Tensor":
        return self

    def is_pinned(self, *args: Any) -> bool:
        return False

    def share_memory_(self) -> "Tensor":
        return self

    def is_shared(self) -> bool:
        return False

    def get_device(self) -> int:
        return -1

    def __dlpack__(self, stream: Any = None) -> Any:
        return self._data.__dlpack__()

    def __dlpack_device__(self) -> Any:
        return self._data.__dlpack_device__()


class _Storage:
    """The bytes behind a tensor (enough for `untyped_storage().data_ptr()` and `size()`)."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    def data_ptr(self) -> int:
        return self._array.__array_interface__["data"][0]

    def size(self) -> int:
        return self._array.nbytes

    def nbytes(self) -> int:
        return self._array.nbytes


def _contiguous_strides(shape: tuple) -> tuple:
    strides = []
    acc = 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))




_new = object.__new__


def make(data: np.ndarray, requires_grad: bool, grad_fn: Any, output_nr: int, counter: list | None = None,
         cls: type = Tensor) -> Tensor:
    """Wrap an array as a Tensor (the one constructor every op uses)."""
    if data.__class__ is _LANE:  # one batch element of a vmapped tensor: the whole batch (func/_vmap.py)
        return _lane_make(data, requires_grad, grad_fn, output_nr, counter, cls)
    t = _new(cls)
    t._data = data
    t._requires_grad = requires_grad
    t._grad_fn = grad_fn
    t._output_nr = output_nr
    t._version_counter = [0] if counter is None else counter
    t._base = None
    t._view_fn = None
    t._grad = None
    t._accumulator = None
    t._hooks = None
    t._post_accumulate_hooks = None
    t._retains_grad = False
    t._inference = _state.inference
    return t


_LANE: Any = None       # set by tapegrad.func._vmap: the class of its logical views
_lane_make: Any = None


def wrap(array: Any, requires_grad: bool = False) -> Tensor:
    """A leaf Tensor over `array` (no copy when it is already an ndarray)."""
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    return make(array, requires_grad, None, 0)


def _retype(t: Tensor, cls: type) -> Tensor:
    new = make(t._data, t._requires_grad, t._grad_fn, t._output_nr, t._version_counter, cls=cls)
    return new


def _rebuild_tensor(array: np.ndarray, requires_grad: bool) -> Tensor:
    return make(array, requires_grad, None, 0)


def fill_inplace_(t: Tensor, values: Any) -> Tensor:
    """Write `values` into t's storage as an in-place op that autograd does not record."""
    from .ops._inplace import check_inplace_allowed
    check_inplace_allowed(t, recorded=False)
    np.copyto(t._data, values, casting="unsafe")
    t._version_counter[0] += 1
    return t


from .ops import _registry as _reg  # noqa: E402  (the op table needs the class)
from .ops import _dispatch as _reg_dispatch  # noqa: E402

_reg.Tensor = Tensor
_reg._make = make
_reg_dispatch.Tensor = Tensor  # the hot path reads them as its own globals
_reg_dispatch._make = make
