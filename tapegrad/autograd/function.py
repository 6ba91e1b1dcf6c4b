"""torch.autograd.Function: user-defined operations with their own backward.

A subclass declares static `forward` and `backward` (or `vjp`); `apply` runs the forward with
grad recording off and, when an input requires grad, records one node of the class
`<ClassName>Backward`. That node is also the `ctx` the forward and backward see, as in torch,
so `y.grad_fn.saved_tensors` and any attribute set on `ctx` are reachable from the graph.

Note [Custom Function outputs]
Each tensor output becomes output `i` of the node (non-tensor outputs keep their number but no
gradient). An input returned unchanged comes back as a new tensor sharing its storage and
version counter (torch returns a view), so the input itself is not rebound to the node; an
input marked dirty is rebound (it was modified in place). Saved outputs keep only their
array and are rebuilt with the node as grad_fn when unpacked, so the node holds no reference
to its own outputs (see Note [Saved tensors] in ops/_registry.py).
"""
from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._vmap_state import VM
from ..ops import _registry as R
from . import anomaly_mode as _anomaly
from ._function_vmap import batch_view, check_transform_support, has_vmap_rule, remember_levels, run_vmap_rule
from ._forward_state import FW as _FW
from .grad_mode import _state, no_grad
from .graph import FREED_MESSAGE, Node, hooks_state, pack_saved_tensor

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable", "InplaceFunction",
           "NestedIOFunction"]

_LEGACY_ERROR = (
    "Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
    "function with static forward method. (Example: https://pytorch.org/docs/stable/autograd.html"
    "#torch.autograd.Function)")
_ONCE_DIFFERENTIABLE_ERROR = "trying to differentiate twice a function that was marked with @once_differentiable"


class FunctionCtx:
    """What `forward`/`setup_context` use to hand information to `backward`."""

    def save_for_backward(self, *tensors: Any) -> None:
        """Save tensors (or None) for backward; read them back with `saved_tensors`."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, R.Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        """Save tensors for the `jvp` static method (forward mode)."""
        self._saved_for_forward = tensors

    def mark_dirty(self, *args: Any) -> None:
        """Declare the input tensors that forward modified in place."""
        self._dirty = args

    def mark_non_differentiable(self, *args: Any) -> None:
        """Declare outputs that get no gradient (they do not require grad)."""
        self._non_differentiable = args

    def set_materialize_grads(self, value: bool) -> None:
        """Whether None output gradients reach backward as zeros (default) or as None."""
        self._materialize_grads = value

    def mark_shared_storage(self, *pairs: Any) -> None:
        raise RuntimeError("mark_shared_storage is deprecated. Tensors with shared storages are automatically "
                           "tracked. Note that calls to `set_()` are not tracked")


class _FunctionOpInfo:
    """Stands in a custom node's `_op` slot: its forward name for torch's in-place error."""

    __slots__ = ("cls_name",)

    def __init__(self, cls_name: str) -> None:
        self.cls_name = cls_name

    def forward_name(self) -> str:
        return self.cls_name

    def saved_attribute(self, node: Node, name: str) -> Any:
        raise AttributeError(f"'{type(node).__name__}' object has no attribute '_saved_{name}'")


class BackwardCFunction(Node, FunctionCtx):
    """The node a custom Function records; subclassed per Function as `<ClassName>Backward`."""

    _forward_cls: Any = None

    def __init__(self) -> None:
        Node.__init__(self)
        self._to_save = None
        self._dirty = ()
        self._non_differentiable = ()
        self._materialize_grads = True
        self._vm = None  # the vmap levels forward saw (Note [Custom Functions under vmap])
        self.needs_input_grad: tuple = ()

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to save_for_backward, checked against in-place changes."""
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)
        saved = self._ctx
        if saved is None:
            return ()
        return tuple(_unpack(s, self) for s in saved)

    @property
    def saved_variables(self) -> tuple:
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2)
        return self.saved_tensors

    def __repr__(self) -> str:
        # torch's node classes live in torch.autograd.function; print that path, as its repr does
        return f"<torch.autograd.function.{type(self).__name__} object at {hex(id(self))}>"

    def apply(self, grads: tuple) -> list:
        if self._vm is not None:
            return batch_view(self, grads, self._run_backward)
        return self._run_backward(grads)

    def _run_backward(self, grads: tuple) -> list:
        backward_fn = _backward_of(self._forward_cls)
        if self._materialize_grads:
            grads = tuple(g if g is not None or m is None else R._make(np.zeros(m[0], m[1]), False, None, 0)
                          for g, m in zip(grads, self._out_meta))
        result = backward_fn(self, *grads)
        return self._check_grads(result)

    def _check_grads(self, result: Any) -> list:
        """torch's validation of what backward returned; one gradient per tensor input edge."""
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self._input_is_tensor)
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected {n}, "
                                   f"got {len(result)})")
        out = []
        k = 0
        for pos, (g, is_tensor) in enumerate(zip(result, self._input_is_tensor)):
            if not is_tensor:
                if g is not None:
                    raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                       f"{pos + 1}, but the corresponding forward input was not a Variable")
                continue
            edge = self._next[k]
            shape, dt = self._meta[k]
            k += 1
            if g is None or edge[0] is None:
                out.append(None)
                continue
            if not isinstance(g, R.Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if g._data.shape != shape:
                if not _expandable(shape, g._data.shape):
                    raise RuntimeError(f"Function {self.name()} returned an invalid gradient at index {pos} - got "
                                       f"[{', '.join(map(str, g._data.shape))}] but expected shape compatible with "
                                       f"[{', '.join(map(str, shape))}]")
                g = g.sum_to_size(shape)
            if g._data.dtype != dt:
                g = g.to(D.from_numpy(dt))
            out.append(g)
        return out

    def _release(self) -> None:
        if self._saved_any:
            self._ctx = None
            self._freed = True


def _unpack(saved: Any, node: BackwardCFunction) -> Any:
    """A saved tensor as backward sees it; a saved output always has the node as grad_fn, as in torch."""
    if saved is None:
        return None
    t = saved.unpack(node)
    if saved.is_output and t._grad_fn is None:
        t = R._make(t._data, True, node, saved.output_nr, t._version_counter)
    return t


def _expandable(shape: tuple, target: tuple) -> bool:
    """Whether `shape` broadcasts to `target` (then a gradient of `target`'s shape sums back to it)."""
    if len(shape) > len(target):
        return False
    for s, t in zip(reversed(shape), reversed(target)):
        if s != t and s != 1:
            return False
    return True


def _backward_of(cls: type) -> Callable:
    backward_fn = cls.backward
    vjp_fn = cls.vjp
    base_backward = Function.backward
    if backward_fn is not base_backward and vjp_fn is not base_backward and vjp_fn is not backward_fn:
        raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is not allowed. You should "
                           "only implement one of them.")
    return backward_fn if backward_fn is not base_backward else vjp_fn


class FunctionMeta(type):
    """Gives each Function subclass its node class, `<ClassName>Backward`."""

    def __init__(cls, name: str, bases: tuple, attrs: dict) -> None:
        backward_cls = type(f"{name}Backward", (BackwardCFunction,),
                            {"_forward_cls": cls, "_op": _FunctionOpInfo(name), "__module__": __name__})
        cls._backward_cls = backward_cls
        super().__init__(name, bases, attrs)


class Function(FunctionCtx, metaclass=FunctionMeta):
    """Base class of user-defined autograd operations (static forward/backward, called via `apply`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(f"{self.__class__} should not be instantiated. Methods on autograd functions are all static, so "
                      "you should invoke them on the class itself. Instantiating an autograd function will raise an "
                      "error in a future version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(_LEGACY_ERROR)

    generate_vmap_rule = False

    @staticmethod
    def forward(*args: Any, **kwargs: Any) -> Any:
        """The operation (receives `ctx` first unless `setup_context` is overridden)."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        """Save what backward needs, given forward's inputs and output (the newer form)."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        """Gradients of the inputs, given the gradients of the outputs."""
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        """Tangents of the outputs, given tangents of the inputs (forward mode)."""
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it with "
                                  "forward mode AD.")

    @staticmethod
    def vmap(info: Any, in_dims: Any, *args: Any) -> Any:
        raise NotImplementedError("To use autograd.Function with vmap, you must either override the vmap staticmethod "
                                  "or set generate_vmap_rule=True.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward and, when an input requires grad under grad mode, record the node."""
        uses_setup_context = cls.setup_context is not Function.setup_context
        args, kwargs = _bind(cls, args, kwargs, uses_setup_context)
        batched = check_transform_support(cls, uses_setup_context, args)  # Note [Custom Functions under vmap]
        is_tensor = tuple(isinstance(a, R.Tensor) for a in args)
        needs = tuple(t and a._requires_grad for t, a in zip(is_tensor, args))
        record = _state.enabled and any(needs)
        ctx = cls._backward_cls()
        ctx.needs_input_grad = needs
        # forward mode: the inputs' tangents are hidden from forward; the `jvp` method gives the
        # outputs' tangents instead (as torch, which raises when jvp is not implemented)
        levels = _FW.visible
        dual = levels and any(t and getattr(a, "_fw_grads", None) for t, a in zip(is_tensor, args))
        if dual:
            _FW.set_visible(())
        try:
            with no_grad():
                if uses_setup_context:
                    if batched and has_vmap_rule(cls):
                        output = run_vmap_rule(cls, args, kwargs)
                    else:
                        output = cls.forward(*args, **kwargs)
                    cls.setup_context(ctx, args, output)
                else:
                    output = cls.forward(ctx, *args, **kwargs)
        finally:
            if dual:
                _FW.set_visible(levels)
        if not isinstance(output, tuple):
            outputs, is_tuple = (output,), False
        else:
            outputs, is_tuple = output, True
        if record:
            _record_node(ctx, args, is_tensor)
        outputs = _wrap_outputs(ctx, args, outputs, record)
        if record:
            _save_tensors(ctx, outputs)
            if VM.stack:
                remember_levels(ctx, args, outputs)
        if dual:
            from ._forward_dispatch import custom_function_jvp
            custom_function_jvp(cls.jvp, ctx, args, outputs)
        return outputs if is_tuple else outputs[0]


def _bind(cls: type, args: tuple, kwargs: dict, uses_setup_context: bool) -> tuple:
    """Positional inputs with defaults filled in, as torch binds them to forward's signature."""
    info = cls.__dict__.get("_bind_info")
    if info is None:
        params = list(inspect.signature(cls.forward).parameters.values())
        if not uses_setup_context and params:
            params = params[1:]  # ctx
        info = (inspect.Signature(params), any(p.default is not inspect.Parameter.empty for p in params))
        cls._bind_info = info
    sig, has_defaults = info
    if not kwargs and not has_defaults:
        return args, kwargs
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError:
        return args, kwargs  # forward itself reports the bad call
    bound.apply_defaults()
    return bound.args, bound.kwargs


def _record_node(ctx: BackwardCFunction, args: tuple, is_tensor: tuple) -> None:
    edges = []
    meta = []
    for a, t in zip(args, is_tensor):
        if t:
            edges.append(R._edge(a) if a._requires_grad else R._NONE_EDGE)
            meta.append((a._data.shape, a._data.dtype))
    ctx._next = tuple(edges)
    ctx._meta = tuple(meta)
    ctx._input_is_tensor = is_tensor
    if _anomaly._enabled:
        _anomaly.record_forward_trace(ctx)


def _wrap_outputs(ctx: BackwardCFunction, args: tuple, outputs: tuple, record: bool) -> tuple:
    """Make tensor outputs outputs of the node (see Note [Custom Function outputs])."""
    dirty = ctx._dirty
    non_diff = ctx._non_differentiable
    out_meta = []
    wrapped = []
    for i, out in enumerate(outputs):
        if not isinstance(out, R.Tensor):
            out_meta.append(None)
            wrapped.append(out)
            continue
        out_meta.append((out._data.shape, out._data.dtype))
        is_input = any(out is a for a in args)
        is_dirty = any(out is d for d in dirty)
        if is_dirty:
            if record and out._requires_grad and out._grad_fn is None and out._base is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
            out._version_counter[0] += 1
        elif is_input:
            alias = R._make(out._data, False, None, 0, out._version_counter)
            if _state.enabled:
                alias._base = out._base if out._base is not None else out
            out = alias
        differentiable = (record and not any(out is n for n in non_diff) and out._data.dtype.kind in "fc")
        if differentiable:
            if is_dirty and out._base is not None and out._view_fn is not None:
                _rebase_dirty_view(ctx, out, i)
            else:
                out._grad_fn = ctx
                out._output_nr = i
                out._requires_grad = True
        elif record and not is_dirty:
            out._requires_grad = False
        wrapped.append(out)
    ctx._out_meta = tuple(out_meta)
    ctx.num_outputs = len(outputs)
    return tuple(wrapped)


def _rebase_dirty_view(ctx: BackwardCFunction, view: Any, output_nr: int) -> None:
    """A view modified in place by the Function: its base goes through CopySlices, as for ops."""
    from ..ops._inplace import _rebase_view
    if output_nr != 0 or not ctx._next or ctx._meta[0][0] != view._data.shape:
        raise NotImplementedError("mark_dirty on a view is supported only for the first input returned as the "
                                  "first output")
    _rebase_view(view, view._base, ctx)


def _save_tensors(ctx: BackwardCFunction, outputs: tuple) -> None:
    to_save = ctx._to_save
    ctx._to_save = None
    if not to_save:
        ctx._ctx = None
        return
    saved = []
    hooked = bool(hooks_state.stack)
    for t in to_save:
        if t is None:
            saved.append(None)
            continue
        nr = next((i for i, o in enumerate(outputs) if o is t and o._grad_fn is ctx), -1)
        if hooked:
            saved.append(pack_saved_tensor(t, nr >= 0, nr if nr >= 0 else t._output_nr))
        elif nr >= 0:
            saved.append(R.SavedTensor(None, t._data, t._version_counter, True, None, nr))
        else:
            if t._inference:
                raise RuntimeError(R._INFERENCE_SAVE_ERROR)
            saved.append(R.SavedTensor(t, t._data, t._version_counter, False, t._grad_fn, t._output_nr))
    ctx._ctx = saved
    ctx._saved_any = True


class _DelayedError(Node):
    """The node behind gradients computed by a once_differentiable backward: differentiating them raises."""

    def __init__(self, message: str, edges: tuple) -> None:
        super().__init__(edges)
        self._message = message

    def name(self) -> str:
        return "torch::autograd::Error"

    def __repr__(self) -> str:
        return f"<Error object at {hex(id(self))}>"

    def apply(self, grads: tuple) -> list:
        raise RuntimeError(self._message)


def once_differentiable(fn: Callable) -> Callable:
    """Decorate a backward that is not itself differentiable: it runs with grad off, and
    differentiating its result (create_graph) raises torch's error instead of a wrong answer."""
    @functools.wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        with no_grad():
            outputs = fn(ctx, *args)
        if not _state.enabled:
            return outputs
        grads_needing = [a for a in args if isinstance(a, R.Tensor) and a._requires_grad]
        if not grads_needing:
            return outputs
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        err = _DelayedError(_ONCE_DIFFERENTIABLE_ERROR, tuple(R._edge(a) for a in grads_needing))
        err.num_outputs = len(outs)  # type: ignore[misc]
        wrapped = tuple(R._make(o._data, True, err, i) if isinstance(o, R.Tensor) else o
                        for i, o in enumerate(outs))
        return wrapped if is_tuple else wrapped[0]
    return wrapper


class InplaceFunction(Function):
    """A Function with an `inplace` flag (kept for torch compatibility)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    """Legacy nested-input Function: not supported (torch deprecates it)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(_LEGACY_ERROR)
