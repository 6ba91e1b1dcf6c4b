"""The recorded graph: Node (one per recorded op application), AccumulateGrad, hook handles.

A Node points to the Nodes of its inputs (`next_functions`), never to its input Tensors'
wrappers nor back to its outputs, so a graph is freed by reference counting as soon as its
last output goes away (see Note [Saved tensors]).
"""
from __future__ import annotations

import itertools
import threading
import weakref
from collections import OrderedDict
from typing import Any, Callable

from .grad_mode import _state as _grad_state

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "saved_tensors_hooks", "save_on_cpu",
           "disable_saved_tensors_hooks", "increment_version", "GradientEdge", "get_gradient_edge",
           "register_multi_grad_hook", "allow_mutation_on_saved_tensors"]

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward.")

_sequence = itertools.count()


class RemovableHandle:
    """Returned by register_*hook; `remove()` unregisters the hook (also as a context manager)."""

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self._hooks_ref = weakref.ref(hooks) if not isinstance(hooks, OrderedDict) else (lambda h=hooks: h)
        self._hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _add_hook(owner: Any, attr: str, hook: Callable) -> RemovableHandle:
    hooks = getattr(owner, attr)
    if hooks is None:
        hooks = OrderedDict()
        setattr(owner, attr, hooks)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


class Node:
    """A recorded operation awaiting backward. Subclasses are named as torch's (`MulBackward0`).

    Slots: `_next` the input edges ((node, output_nr) pairs, node None for inputs that need no
    gradient), `_ctx` what the formulas need (None once released), `_meta` the input shapes and
    dtypes, `_tensor_pre_hooks` per-output hooks of tensors (register_hook, retain_grad).
    """

    __slots__ = ("_next", "_ctx", "_meta", "_saved_any", "_freed", "_tensor_pre_hooks", "_pre_hooks",
                 "_post_hooks", "_seq", "_anomaly", "metadata_dict", "__weakref__")
    _op = None
    num_outputs = 1

    def __init__(self, next_edges: tuple = (), ctx: Any = None, meta: tuple = (), saved_any: bool = False) -> None:
        self._next = next_edges
        self._ctx = ctx
        self._meta = meta
        self._saved_any = saved_any
        self._freed = False
        self._tensor_pre_hooks = None
        self._pre_hooks = None
        self._post_hooks = None
        self._seq = next(_sequence)
        self._anomaly = None
        self.metadata_dict = None

    # torch's vocabulary ---------------------------------------------------------------
    def name(self) -> str:
        n = type(self).__name__
        return "torch::autograd::NotImplemented" if n == "NotImplemented" else n

    @property
    def next_functions(self) -> tuple:
        return self._next

    @property
    def metadata(self) -> dict:
        if self.metadata_dict is None:
            self.metadata_dict = {}
        return self.metadata_dict

    def register_hook(self, fn: Callable) -> RemovableHandle:
        """fn(grad_inputs, grad_outputs) after the node ran; may return new grad_inputs."""
        return _add_hook(self, "_post_hooks", fn)

    def register_prehook(self, fn: Callable) -> RemovableHandle:
        """fn(grad_outputs) before the node runs; may return new grad_outputs."""
        return _add_hook(self, "_pre_hooks", fn)

    def _register_tensor_hook(self, output_nr: int, fn: Callable) -> RemovableHandle:
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = {}
        hooks = self._tensor_pre_hooks.setdefault(output_nr, OrderedDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    def __call__(self, *grads: Any) -> Any:
        result = self.apply(grads)
        return result[0] if len(result) == 1 else tuple(result)

    # backward --------------------------------------------------------------------------
    def apply(self, grads: tuple) -> list:
        """Gradients for each input edge, given the gradients of this node's outputs."""
        raise NotImplementedError

    def _release(self) -> None:
        """Drop what was saved for backward (called after a backward without retain_graph)."""
        if self._saved_any:
            self._ctx = None
            self._freed = True

    def _check_not_freed(self) -> None:
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_saved_") and self._op is not None:
            return self._op.saved_attribute(self, name[7:])
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds incoming gradients into `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable: Any) -> None:
        super().__init__()
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # torch's name() for its C++ engine nodes

    def apply(self, grads: tuple) -> list:
        from ..autograd.accumulate import accumulate_into_leaf
        accumulate_into_leaf(self.variable, grads[0])
        return []

    def _release(self) -> None:
        pass


class _SavedHooksState(threading.local):
    """Per-thread stack of (pack_hook, unpack_hook) pairs; see Note [Saved tensor hooks]."""

    def __init__(self) -> None:
        self.stack: list = []
        self.disabled: str | None = None


# Note [Saved tensor hooks]
# While a `saved_tensors_hooks` context is active, every tensor an op or a custom Function saves
# for backward goes through the innermost pack hook (with grad mode off), and the node keeps only
# what the hook returned; the unpack hook turns it back into a tensor when a formula needs it.
# The op table checks `hooks_state.stack` once per saved tensor, so without hooks saving costs
# one attribute read. As in torch, a tensor saved through hooks is not version-checked.
hooks_state = _SavedHooksState()


class PackedSavedTensor:
    """A tensor saved through a pack hook: what the hook returned, and the tensor's place in the graph."""

    __slots__ = ("packed", "unpack_hook", "is_output", "output_nr", "grad_fn", "requires_grad", "accumulator")

    def unpack(self, node: Node) -> Any:
        """The unpack hook's tensor, carrying the saved tensor's grad_fn (or the node, for an output)."""
        from ..ops import _registry as R
        t = self.unpack_hook(self.packed)
        if not isinstance(t, R.Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__}")
        if self.is_output:
            if _grad_state.enabled and self.output_nr < node.num_outputs:
                return R._make(t._data, True, node, self.output_nr, t._version_counter)
            return R._make(t._data, False, None, 0, t._version_counter)
        out = R._make(t._data, self.requires_grad, self.grad_fn, self.output_nr, t._version_counter)
        if self.accumulator is not None:
            out._accumulator = weakref.ref(self.accumulator)
        return out


def pack_saved_tensor(tensor: Any, is_output: bool, output_nr: int) -> PackedSavedTensor:
    """Save `tensor` through the innermost pack hook (called with grad mode off)."""
    pack_hook, unpack_hook = hooks_state.stack[-1]
    prev = _grad_state.enabled
    _grad_state.enabled = False
    try:
        packed = pack_hook(tensor)
    finally:
        _grad_state.enabled = prev
    saved = PackedSavedTensor()
    saved.packed = packed
    saved.unpack_hook = unpack_hook
    saved.is_output = is_output
    saved.output_nr = output_nr
    saved.grad_fn = None if is_output else tensor._grad_fn
    saved.requires_grad = tensor._requires_grad
    saved.accumulator = (tensor._get_accumulator() if not is_output and tensor._requires_grad
                         and tensor._grad_fn is None else None)
    return saved


class saved_tensors_hooks:
    """Context manager: pack every tensor saved for backward with `pack_hook`, unpack it with `unpack_hook`."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> "saved_tensors_hooks":
        if hooks_state.disabled is not None:
            raise RuntimeError(hooks_state.disabled)
        hooks_state.stack.append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc: Any) -> None:
        hooks_state.stack.pop()


class save_on_cpu(saved_tensors_hooks):
    """Save tensors on CPU: packing keeps the tensor as it is, since every tensor already lives on the CPU."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(_pack_on_cpu, _unpack_from_cpu)


def _pack_on_cpu(tensor: Any) -> Any:
    return tensor


def _unpack_from_cpu(packed: Any) -> Any:
    return packed


class disable_saved_tensors_hooks:
    """Context manager under which entering `saved_tensors_hooks` raises RuntimeError(error_message)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        self.prev = hooks_state.disabled
        hooks_state.disabled = self.error_message

    def __exit__(self, *exc: Any) -> None:
        hooks_state.disabled = self.prev


def increment_version(tensor: Any) -> None:
    """Bump a tensor's version counter, as an in-place change torch cannot see would."""
    tensor._version_counter[0] += 1


from ._graph_extras import (GradientEdge, allow_mutation_on_saved_tensors, get_gradient_edge,  # noqa: E402
                            register_multi_grad_hook)
