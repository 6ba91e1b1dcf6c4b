"""torch.autograd: backward(), grad(), grad modes, anomaly detection, and the legacy Variable."""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from . import graph
from ..ops import _registry
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import run_backward
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled, set_multithreading_enabled)

__all__ = ["backward", "grad", "Variable", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "graph", "Function", "function", "functional", "set_multithreading_enabled"]

_CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient "
    "which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you "
    "have to use this function, make sure to reset the .grad fields of your parameters to None after use to break "
    "the cycle and avoid the leak. (Triggered internally at /pytorch/torch/csrc/autograd/engine.cpp:1307.)")


def _tensor_cls() -> type:
    return _registry.Tensor


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, _tensor_cls()):
        return (x,)
    from .graph import GradientEdge
    if isinstance(x, GradientEdge):
        return (x,)
    return tuple(x)


def _root_edge(t: Any, index: int) -> tuple:
    if not t._requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    return (t._get_accumulator(), 0)


def _make_grads(outputs: tuple, grads: tuple, create_graph: bool) -> list:
    """The gradients to start from: given ones (checked), or ones for scalar outputs."""
    from .._tensor import make
    Tensor = _tensor_cls()
    out = []
    for i, (t, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if not t._requires_grad:
                out.append(None)
                continue
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._data.dtype.kind not in "f":
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {t.dtype}")
            out.append(make(np.ones(t._data.shape, t._data.dtype), False, None, 0))
            continue
        if not isinstance(g, Tensor):
            if isinstance(g, (int, float, bool)):
                g = make(np.full(t._data.shape, g, t._data.dtype), False, None, 0)
            else:
                raise TypeError(f"gradients can be either Tensors or None, but got {type(g).__name__}")
        if g._data.shape != t._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a "
                               f"shape of {t.shape}.")
        if g._data.dtype.kind != t._data.dtype.kind and not (g._data.dtype.kind in "fc" and t._data.dtype.kind in "fc"):
            raise RuntimeError(f"For complex Tensors, both grad_output and output are required to have the same "
                               f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and output[{i}] "
                               f"has a dtype of {t.dtype}.")
        out.append(g)
    return out


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
             grad_variables: Any = None, inputs: Any = None) -> None:
    """Accumulate into the `.grad` of graph leaves (or of `inputs`) the gradient of `tensors`."""
    outputs = _as_tuple(tensors)
    if grad_variables is not None:
        grad_tensors = grad_variables
    grads = _as_tuple(grad_tensors) if grad_tensors is not None else (None,) * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(grads)} tensors and {len(outputs)} gradients")
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph and inputs is None:
        warnings.warn(_CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    root_grads = _make_grads(outputs, grads, create_graph)
    roots = [_root_edge(t, i) for i, t in enumerate(outputs)]
    if inputs is None:
        run_backward(roots, root_grads, keep_graph=retain_graph, create_graph=create_graph)
        return
    edges = [_input_edge(t, i, for_backward=True) for i, t in enumerate(inputs)]
    captured = run_backward(roots, root_grads, keep_graph=retain_graph, create_graph=create_graph,
                            capture=edges, accumulate=False)
    from .accumulate import accumulate_into_leaf
    from .grad_mode import _state
    prev = _state.enabled
    _state.enabled = create_graph
    try:
        for t, g in zip(inputs, captured):
            if g is not None:
                accumulate_into_leaf(t, g, run_hooks=False)  # the engine ran the hooks before capturing
    finally:
        _state.enabled = prev


def _input_edge(t: Any, index: int, for_backward: bool = False) -> tuple:
    from .graph import GradientEdge
    if isinstance(t, GradientEdge):
        return (t.node, t.output_nr)
    if not isinstance(t, _tensor_cls()):
        raise TypeError(f"expected Tensor as element {index} in argument 1, but got {type(t).__name__}")
    if not t._requires_grad:
        raise RuntimeError("One of the differentiated Tensors does not require grad")
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    return (t._get_accumulator(), 0)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """The gradients of `outputs` with respect to `inputs` (nothing is accumulated into `.grad`)."""
    from .._tensor import make
    outs = _as_tuple(outputs)
    ins = _as_tuple(inputs)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outs)
    if len(grads) != len(outs):
        raise RuntimeError(f"grad requires one gradient per output: got {len(grads)} gradients for "
                           f"{len(outs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        return _grad_batched(outs, ins, grads, retain_graph, create_graph, allow_unused, materialize_grads)
    root_grads = _make_grads(outs, grads, create_graph)
    roots = [_root_edge(t, i) for i, t in enumerate(outs)]
    edges = [_input_edge(t, i) for i, t in enumerate(ins)]
    captured = run_backward(roots, root_grads, keep_graph=retain_graph, create_graph=create_graph,
                            capture=edges, accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(ins, captured)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            if materialize_grads:
                g = make(np.zeros(t._data.shape, t._data.dtype), False, None, 0)
        result.append(g)
    return tuple(result)


def _grad_batched(outs: tuple, ins: tuple, grads: tuple, retain_graph: bool, create_graph: bool,
                  allow_unused: bool, materialize_grads: bool) -> tuple:
    """grad with `is_grads_batched=True`: one backward vmapped over the first dim of the grad_outputs."""
    from ..func._vmap import vmap
    Tensor = _tensor_cls()
    for i, (t, g) in enumerate(zip(outs, grads)):
        if isinstance(g, Tensor) and (g.dim() == 0 or tuple(g.shape[1:]) != tuple(t.shape)):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                "dimension. The sizes of the remaining dimensions are expected to match the shape of corresponding "
                f"output, but a mismatch was detected: grad_output[{i}] has a shape of {g.shape[2:]} and output[{i}] "
                f"has a shape of {t.shape}. If you only want some tensors in `grad_output` to be considered batched, "
                "consider using vmap.")
    unused: set = set()

    def one(*gs: Any) -> tuple:
        from .._tensor import make
        got = grad(outs, ins, gs, retain_graph=retain_graph, create_graph=create_graph, allow_unused=allow_unused)
        out = []
        for i, (g, x) in enumerate(zip(got, ins)):
            if g is None:  # unused: None (or unbatched zeros) again after vmap
                unused.add(i)
                g = make(np.zeros(x._data.shape, x._data.dtype), False, None, 0)
            out.append(g)
        return tuple(out)
    result = vmap(one, in_dims=tuple(0 if isinstance(g, Tensor) else None for g in grads))(*grads)
    from .._tensor import make
    return tuple(r if i not in unused else make(np.zeros(x._data.shape, x._data.dtype), False, None, 0)
                 if materialize_grads else None for i, (r, x) in enumerate(zip(result, ins)))


class _VariableMeta(type):
    def __instancecheck__(cls, other: Any) -> bool:
        return isinstance(other, _tensor_cls())


class Variable(metaclass=_VariableMeta):
    """The pre-0.4 wrapper: `Variable(t, requires_grad=...)` now returns a plain Tensor."""

    def __new__(cls, data: Any = None, requires_grad: bool = False, volatile: bool = False) -> Any:
        from .._tensor import make
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        Tensor = _tensor_cls()
        if data is None:
            data = make(np.zeros((0,), np.float32), False, None, 0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = make(data._data, False, None, 0, data._version_counter)
        if requires_grad:
            out.requires_grad_(True)
        return out


from .gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: E402  (module and function, as torch)
from . import function  # noqa: E402
from .function import Function  # noqa: E402
from . import functional  # noqa: E402
from . import forward_ad  # noqa: E402  (torch.autograd.forward_ad)
