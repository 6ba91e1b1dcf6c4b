"""The recorded graph: Node (one per recorded op application), AccumulateGrad, hook handles.

A Node points to the Nodes of its inputs (`next_functions`), never to its input Tensors'
wrappers nor back to its outputs, so a graph is freed by reference counting as soon as its
last output goes away (see Note [Saved tensors]).
"""
from __future__ import annotations

import itertools
import weakref
from collections import OrderedDict
from typing import Any, Callable

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "saved_tensors_hooks", "save_on_cpu",
           "increment_version"]

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
        return type(self).__name__

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


class saved_tensors_hooks:
    """Context manager registering pack/unpack hooks for saved tensors (accepted; see note in README)."""

    def __init__(self, pack_hook: Callable, unpack_hook: Callable) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        pass


class save_on_cpu(saved_tensors_hooks):
    """Save tensors on CPU: a no-op here, where every tensor already lives on the CPU."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(lambda t: t, lambda t: t)


def increment_version(tensor: Any) -> None:
    """Bump a tensor's version counter, as an in-place change torch cannot see would."""
    tensor._version_counter[0] += 1
