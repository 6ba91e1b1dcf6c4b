"""Tensors saved for backward: the version they were saved at, torch's in-place error, and the
rebuilding of a saved output without a reference cycle.

Note [Saved tensors]
A saved input is kept as the Tensor with the version it had when saved; a saved result is kept
as its array with its version counter, and rebuilt as a Tensor whose grad_fn is the node itself
when unpacked, so that no node holds a reference back to its own output (no cycles).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.grad_mode import _state
from ..autograd.graph import Node, hooks_state as _hooks, pack_saved_tensor
from . import _registry as R


def version_error(tensor: Any, saved_version: int, current: int, producer: Node | None) -> RuntimeError:
    from ..autograd.anomaly_mode import is_anomaly_enabled
    desc = f"[{tensor.type()} [{', '.join(str(s) for s in tensor.shape)}]]"
    if producer is not None and producer._op is not None:
        desc += f", which is output {tensor._output_nr} of {producer._op.forward_name()},"
    if is_anomaly_enabled():
        hint = ("Hint: the backtrace further above shows the operation that failed to compute its gradient. "
                "The variable in question was changed in there or anywhere later. Good luck!")
    else:
        hint = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
                "with torch.autograd.set_detect_anomaly(True, check_nan=False).")
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{desc} is at version {current}; expected version {saved_version} instead. {hint}")


class SavedTensor:
    """A tensor saved for backward with its version; see Note [Saved tensors]."""

    __slots__ = ("tensor", "data", "version", "counter", "is_output", "producer", "output_nr", "fw")

    def __init__(self, tensor: Any, data: np.ndarray, counter: list, is_output: bool, producer: Node | None,
                 output_nr: int) -> None:
        self.tensor = tensor
        self.data = data
        self.counter = counter
        self.version = counter[0]
        self.is_output = is_output
        self.producer = producer
        self.output_nr = output_nr
        self.fw = None  # a saved output's forward-mode tangents (forward-over-reverse)

    def unpack(self, node: Node) -> Any:
        if self.counter[0] != self.version:
            t = self.tensor if self.tensor is not None else R._make(self.data, False, None, self.output_nr)
            # torch names an input by the node that produces it now (an in-place op may have rebound it)
            producer = node if self.is_output else (t._grad_fn if self.tensor is not None else self.producer)
            raise version_error(t, self.version, self.counter[0], producer)
        if self.is_output:
            if _state.enabled and self.output_nr < node.num_outputs:
                t = R._make(self.data, True, node, self.output_nr, self.counter)
            else:
                t = R._make(self.data, False, None, 0, self.counter)
            if self.fw is not None:
                t._fw_grads = self.fw
            return t
        return self.tensor


_INFERENCE_SAVE_ERROR = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode in "
    "computation tracked by autograd. To work around this, you can make a clone to get a normal tensor and use it "
    "in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`.")


def _save_input(value: Any) -> Any:
    if isinstance(value, R.Tensor):
        if value._inference:
            raise RuntimeError(_INFERENCE_SAVE_ERROR)
        if _hooks.stack:
            return pack_saved_tensor(value, False, value._output_nr)
        return SavedTensor(value, value._data, value._version_counter, False, value._grad_fn, value._output_nr)
    return value
