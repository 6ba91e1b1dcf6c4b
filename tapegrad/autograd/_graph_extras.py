"""torch.autograd.graph's GradientEdge, get_gradient_edge, register_multi_grad_hook and
allow_mutation_on_saved_tensors."""
from __future__ import annotations

import threading
from typing import Any, Callable, NamedTuple, Sequence

from . import engine

__all__ = ["GradientEdge", "get_gradient_edge", "register_multi_grad_hook", "allow_mutation_on_saved_tensors"]


class GradientEdge(NamedTuple):
    """Where a tensor's gradient enters the graph: a node and its input number; autograd.grad and
    backward accept it in place of the tensor."""

    node: Any
    output_nr: int
    ownership_token: Any = None


def get_gradient_edge(tensor: Any) -> GradientEdge:
    """The GradientEdge through which `tensor`'s gradient flows (its grad_fn, or a leaf's AccumulateGrad)."""
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    if tensor.grad_fn is not None:
        return GradientEdge(tensor.grad_fn, tensor._output_nr)
    return GradientEdge(tensor._get_accumulator(), 0)


class _MultiHandle:
    """Removes the hooks a register_multi_grad_hook call placed on each tensor."""

    def __init__(self, handles: Sequence[Any]) -> None:
        self.handles = tuple(handles)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def __enter__(self) -> "_MultiHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _node_of(t: Any) -> Any:
    return t.grad_fn if t.grad_fn is not None else t._get_accumulator()


def register_multi_grad_hook(tensors: Sequence[Any], fn: Callable, *, mode: str = "all") -> _MultiHandle:
    """Call `fn` once per backward over `tensors`: mode 'all' with the list of their gradients (None for
    those the backward does not reach) once every reached one is computed; mode 'any' with the first
    gradient computed."""
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    for t in tensors:
        if not t.requires_grad:
            raise AssertionError("Expected gradient function to be set")
    lock = threading.Lock()
    state: dict = {"task": None}

    def fresh(task: Any) -> dict:
        if state["task"] is not task:
            state.clear()
            state.update(task=task, grads=[None] * len(tensors), count=0, fired=False, expected=None)
        return state

    def all_hook(i: int) -> Callable:
        def hook(grad: Any) -> None:
            with lock:
                st = fresh(engine.current_backward())
                if st["expected"] is None:
                    if engine._task.capturing and any(t.grad_fn is None for t in tensors):
                        raise RuntimeError("A leaf node was passed to _will_engine_execute_node but we are "
                                           "currently running autograd.grad(). This is currently not supported.")
                    st["expected"] = sum(engine.will_execute(_node_of(t)) for t in tensors)
                st["grads"][i] = grad
                st["count"] += 1
                done = st["count"] == st["expected"]
            if done:
                fn(list(st["grads"]))
        return hook

    def any_hook(grad: Any) -> None:
        with lock:
            st = fresh(engine.current_backward())
            first = not st["fired"]
            st["fired"] = True
        if first:
            fn(grad)

    handles = [t.register_hook(all_hook(i) if mode == "all" else any_hook) for i, t in enumerate(tensors)]
    return _MultiHandle(handles)


_OUTSIDE = ("Trying to backward outside of the 'allow_mutation_on_saved_tensors' contextin which the graph was "
            "originally recorded.")


class allow_mutation_on_saved_tensors:
    """Context manager: tensors saved for backward inside it may be modified in place afterwards; backward
    (inside the same context) uses the values they had when saved. They are saved as copies."""

    _active = threading.local()

    def __enter__(self) -> "allow_mutation_on_saved_tensors":
        from .graph import saved_tensors_hooks
        if getattr(self._active, "on", False):
            raise RuntimeError("allow_mutation_on_saved_tensors contexts cannot be nested")
        self._active.on = True
        self._open = True
        self._hooks = saved_tensors_hooks(self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._hooks.__exit__(*exc)
        self._open = False
        self._active.on = False

    def _pack(self, tensor: Any) -> Any:
        from ..ops import _registry as R
        import numpy as np
        return R._make(np.array(tensor._data, copy=True), False, None, 0)

    def _unpack(self, copy: Any) -> Any:
        if not self._open:
            raise AssertionError(_OUTSIDE)
        return copy
