"""torch.utils.hooks: the handle that register_*_hook methods of modules return, and the
machinery behind Module.register_full_backward_hook / register_full_backward_pre_hook."""
from __future__ import annotations

import warnings
import weakref
from typing import Any, Callable

__all__ = ["RemovableHandle", "BackwardHook"]


class RemovableHandle:
    """A handle whose `remove()` deletes one hook from the dict(s) it was registered in.

    The dicts are held weakly, so a handle does not keep a module's hook tables alive.
    Usable as a context manager (the hook is removed on exit).
    """

    next_id: int = 0

    def __init__(self, hooks_dict: Any, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref: tuple = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        """Unregister the hook (a no-op when already removed)."""
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            table = ref()
            if table is not None and self.id in table:
                del table[self.id]

    def __getstate__(self) -> tuple:
        if not self.extra_dict_ref:
            return (self.hooks_dict_ref(), self.id)
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state: tuple) -> None:
        self.hooks_dict_ref = weakref.ref(state[0]) if state[0] is not None else (lambda: None)
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in state[2]) if len(state) >= 3 else ()

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _identity_node_class() -> type:
    from ..autograd.graph import Node

    class BackwardHookFunctionBackward(Node):
        """Identity on gradients: a place in the graph where a module's input/output gradients are seen."""

        def __init__(self, next_edges: tuple) -> None:
            super().__init__(next_edges)
            self.num_outputs = len(next_edges)

        def apply(self, grads: tuple) -> list:
            return list(grads)

    return BackwardHookFunctionBackward


_NODE_CLASS: Any = None


def _pass_through(tensors: list) -> tuple[list, Any]:
    """Route `tensors` through one identity node; returns the new tensors and the node."""
    global _NODE_CLASS
    from .._tensor import make
    from ..ops._registry import _edge
    if _NODE_CLASS is None:
        _NODE_CLASS = _identity_node_class()
    node = _NODE_CLASS(tuple(_edge(t) for t in tensors))
    out = []
    for i, t in enumerate(tensors):
        if t._requires_grad:
            new = make(t._data, True, node, i, t._version_counter)
            new._base = t._base
            out.append(new)
        else:
            out.append(t)
    return out, node


class BackwardHook:
    """Calls a module's full backward (pre-)hooks with the gradients w.r.t. its outputs and inputs.

    The tensor inputs and outputs of one forward call are routed through identity nodes
    (`BackwardHookFunctionBackward`, as torch names them): a pre-hook on the output node sees
    grad_output (and runs the backward pre-hooks, which may replace it); a post-hook on the input
    node sees grad_input and runs the full backward hooks, which may replace it. When no input
    requires grad the full hooks run from the output node with grad_input all None.
    """

    def __init__(self, module: Any, user_hooks: list, user_pre_hooks: list) -> None:
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.module = module
        self.grad_outputs: Any = None
        self.n_outputs = -1
        self.output_tensors_index: Any = None
        self.n_inputs = -1
        self.input_tensors_index: Any = None

    @staticmethod
    def _pack_with_none(indices: list, values: Any, size: int) -> tuple:
        res = [None] * size
        for idx, val in zip(indices, values):
            res[idx] = val
        return tuple(res)

    @staticmethod
    def _unpack_none(indices: list, values: Any) -> tuple:
        return tuple(values[idx] for idx in indices)

    def _apply_on_tensors(self, fn: Callable, args: Any) -> tuple:
        from .._tensor import Tensor
        from ..autograd.grad_mode import is_grad_enabled
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in index]
        if not (any(t._requires_grad for t in tensors) and is_grad_enabled()):
            return args, None
        new_tensors, node = _pass_through(tensors)
        fn(node)
        values = list(args)
        for idx, val in zip(index, new_tensors):
            values[idx] = val
        return (tuple(values) if type(args) is tuple else type(args)(*values)), index

    def setup_input_hook(self, args: Any) -> Any:
        def install(node: Any) -> None:
            def hook(grad_input: tuple, _grad_output: tuple) -> Any:
                if self.grad_outputs is None:
                    return None  # the gradient reached the inputs without passing through the outputs
                res = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
                for user_hook in self.user_hooks:
                    out = user_hook(self.module, res, self.grad_outputs)
                    if out is None:
                        continue
                    if len(out) != len(res):
                        raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                                           f"but expected {len(res)}")
                    res = out
                self.grad_outputs = None
                return self._unpack_none(self.input_tensors_index, res)
            node.register_hook(hook)

        self.n_inputs = len(args)
        result, self.input_tensors_index = self._apply_on_tensors(install, args)
        return result

    def setup_output_hook(self, args: Any) -> Any:
        def install(node: Any) -> None:
            def hook(grad_output: tuple) -> Any:
                self.grad_outputs = self._pack_with_none(self.output_tensors_index, grad_output, self.n_outputs)
                expected = len(self.grad_outputs)
                for pre_hook in self.user_pre_hooks:
                    new = pre_hook(self.module, self.grad_outputs)
                    if new is None:
                        continue
                    if len(new) != expected:
                        raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got "
                                           f"{len(new)}, but expected {expected}")
                    self.grad_outputs = new
                local = self.grad_outputs
                if self.input_tensors_index is None:
                    warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                                  "outputs since no inputs require gradients. See https://docs.pytorch.org/docs/main/"
                                  "generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for "
                                  "more details.", stacklevel=2)
                    grad_inputs = self._pack_with_none([], [], self.n_inputs)
                    for user_hook in self.user_hooks:
                        res = user_hook(self.module, grad_inputs, self.grad_outputs)
                        if res is not None and not (isinstance(res, tuple) and all(el is None for el in res)):
                            raise RuntimeError("Backward hook for Modules where no input requires gradient should "
                                               "always return None or None for all gradients.")
                    self.grad_outputs = None
                if local is not None:
                    return tuple(local[i] for i in self.output_tensors_index)
                return None
            node.register_prehook(hook)

        is_tuple = isinstance(args, tuple)
        if not is_tuple:
            args = (args,)
        result, self.output_tensors_index = self._apply_on_tensors(install, args)
        self.n_outputs = len(args)
        if not is_tuple:
            result = result[0]
        return result
