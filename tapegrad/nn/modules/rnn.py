"""Recurrent layers: RNN, LSTM, GRU and their single-step cells.

Parameters, their names (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`), shapes, gate order
and default initialisation are torch's. LSTM and GRU on an unpacked sequence (without proj_size)
run each layer and direction as one fused entry (ops/nn_rnn.py, Note [Fused layers]); packed
sequences, projections and RNN use the per-step loop of `_recurrent.py`.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from ... import _dtype as D
from ..._creation import empty, zeros
from ..._tensor import Tensor
from ..._vmap_state import VM as _VM
from ...autograd._forward_state import FW as _FW
from ...ops._registry import FUNCTIONS, dispatch
from ...ops.nn_rnn import GRU_LAYER, LSTM_LAYER
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from ._recurrent import gru_step, lstm_step, run_stack
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_FUSED = {"LSTM": LSTM_LAYER, "GRU": GRU_LAYER}


def _type_name(value: Any) -> str:
    return type(value).__name__


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, and the checks."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", UserWarning, stacklevel=3)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {_type_name(bias)}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {_type_name(batch_first)}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {_type_name(input_size)}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {_type_name(hidden_size)}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names: list = []
        self._all_weights: list = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * num_directions
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                tensors = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    tensors += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    tensors.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for stem, shape in tensors:
                    setattr(self, stem + suffix, Parameter(empty(shape, device=device, dtype=dtype)))
                    names.append(stem + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in order."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op kept for compatibility (there is no fused weight buffer to compact)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    # ------------------------------------------------------------------ checks (torch's messages)
    def check_input(self, input: Tensor, batch_sizes: Any) -> None:
        """The input's dtype, rank and feature size."""
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                             f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Any) -> tuple:
        """(num_layers * num_directions, batch, proj_size or hidden_size)."""
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx: Tensor, expected_hidden_size: tuple,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        """Raise torch's RuntimeError when hx does not have the expected shape."""
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes: Any) -> None:
        """Check the input, then the initial hidden state."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Tensor, permutation: Any) -> Tensor:
        """Reorder the batch of a hidden state (packed sequences sorted by length)."""
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ the shared forward
    def _layers(self) -> list:
        """Per layer, per direction: (w_ih, w_hh, b_ih, b_hh, w_hr), None where absent."""
        num_directions = 2 if self.bidirectional else 1
        out = []
        for layer in range(self.num_layers):
            dirs = []
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                dirs.append(tuple(getattr(self, stem + suffix, None) for stem in
                                  ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")))
            out.append(dirs)
        return out

    def _prepare(self, input: Any, hx: Any, lstm: bool) -> tuple:
        """Unpack a PackedSequence or add the batch dimension of an unbatched input; zero initial states."""
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        name = {"LSTM": "LSTM", "GRU": "GRU"}.get(self.mode, "RNN")
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            max_batch = int(batch_sizes[0])
            is_batched = True
            batch_sizes = [int(b) for b in batch_sizes.tolist()]
        else:
            data, batch_sizes, sorted_indices, unsorted_indices = input, None, None, None
            if input.dim() not in (2, 3):
                suffix = " tensor instead" if name == "RNN" else " instead"
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{suffix}")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                data = input.unsqueeze(batch_dim)
            max_batch = data.size(0) if self.batch_first else data.size(1)
        shape_h = (self.num_layers * num_directions, max_batch, real_hidden)
        if lstm:
            if hx is None:
                h0 = zeros(shape_h, dtype=data.dtype)
                c0 = zeros((shape_h[0], max_batch, self.hidden_size), dtype=data.dtype)
            else:
                h0, c0 = hx
                if batch_sizes is None:
                    if is_batched and (h0.dim() != 3 or c0.dim() != 3):
                        raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                           f"({h0.dim()}-D, {c0.dim()}-D) tensors")
                    if not is_batched:
                        if h0.dim() != 2 or c0.dim() != 2:
                            raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                               f"({h0.dim()}-D, {c0.dim()}-D) tensors")
                        h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            self.check_input(data, batch_sizes)
            self.check_hidden_size(h0, self.get_expected_hidden_size(data, batch_sizes),
                                   "Expected hidden[0] size {}, got {}")
            self.check_hidden_size(c0, (shape_h[0], max_batch, self.hidden_size), "Expected hidden[1] size {}, got {}")
            if hx is not None:
                h0, c0 = self.permute_hidden(h0, sorted_indices), self.permute_hidden(c0, sorted_indices)
            states = (h0, c0)
        else:
            if hx is None:
                h0 = zeros(shape_h, dtype=data.dtype)
            else:
                h0 = hx
                if batch_sizes is None:
                    if not is_batched:
                        if hx.dim() != 2:
                            raise RuntimeError("For unbatched 2-D input, hx should also be 2-D but got "
                                               f"{hx.dim()}-D tensor")
                        h0 = hx.unsqueeze(1)
                    elif hx.dim() != 3:
                        raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
                h0 = self.permute_hidden(h0, sorted_indices)
            self.check_forward_args(data, h0, batch_sizes)
            states = (h0, None)
        return data, batch_sizes, sorted_indices, unsorted_indices, is_batched, states

    def _run(self, input: Any, hx: Any) -> tuple:
        lstm = self.mode == "LSTM"
        data, batch_sizes, sorted_indices, unsorted_indices, is_batched, (h0, c0) = self._prepare(input, hx, lstm)
        if batch_sizes is None and self.batch_first:
            data = data.transpose(0, 1)
        if batch_sizes is None and data.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        if batch_sizes is None and self.mode in _FUSED and self.proj_size == 0 and self._fusable():
            output, h_n, c_n = self._run_fused(data, h0, c0)
        else:
            output, h_n, c_n = run_stack(self.mode, data, h0, c0, self._layers(), self.dropout, self.training,
                                         batch_sizes)
        if batch_sizes is not None:
            packed = PackedSequence(output, input.batch_sizes, sorted_indices, unsorted_indices)
            hidden = (self.permute_hidden(h_n, unsorted_indices), self.permute_hidden(c_n, unsorted_indices)) \
                if lstm else self.permute_hidden(h_n, unsorted_indices)
            return packed, hidden
        if self.batch_first:
            # torch transposes the output of RNN and GRU in place (TransposeBackward1)
            output = output.transpose(0, 1) if lstm else output.transpose_(0, 1)
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        return output, ((h_n, c_n) if lstm else h_n)

    def _fusable(self) -> bool:
        """Whether the fused entries suit the active transforms: not under forward AD (the per-step ops
        have direct tangent formulas), and under vmap only with weights not batched (their rule folds
        the vmap batch into the sequence batch; per-sample weights batch the per-step matmuls)."""
        if _FW.active:
            return False
        if not _VM.active:
            return True
        from ...func._vmap import BatchedTensor, visible_levels
        return not any(p.__class__ is BatchedTensor and visible_levels(p)
                       for p in self._flat_weights if p is not None)

    def _run_fused(self, x: Tensor, h0: Tensor, c0: Any) -> tuple:
        """run_stack with one fused entry per layer and direction; x is time-major (T, B, I)."""
        op = _FUSED[self.mode]
        lstm = c0 is not None
        h_finals, c_finals = [], []
        k = 0
        for layer, directions in enumerate(self._layers()):
            outs = []
            for d, (w_ih, w_hh, b_ih, b_hh, _) in enumerate(directions):
                tensors = [x, w_ih, w_hh] + ([b_ih, b_hh] if b_ih is not None else []) + [h0[k]]
                if lstm:
                    tensors.append(c0[k])
                k += 1
                res = dispatch(op, (tensors, d == 1))
                outs.append(res[0])
                h_finals.append(res[1])
                if lstm:
                    c_finals.append(res[2])
            x = outs[0] if len(outs) == 1 else FUNCTIONS["cat"](outs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if len(outs) == 1 and x.requires_grad and x.shape[0] and not (lstm and x.dtype == D.float32):
            # torch's output is a stack of the steps here (StackBackward0); float32 LSTM is one
            # MkldnnRnnLayerBackward0 node in torch, as here
            x = FUNCTIONS["stack"](list(x.unbind(0)), 0)
        h_n = FUNCTIONS["stack"](h_finals, 0)
        return x, h_n, (FUNCTIONS["stack"](c_finals, 0) if lstm else None)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), over layers and time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple:
        """Returns (output, h_n); output is a PackedSequence when input is one."""
        return self._run(input, hx)


class LSTM(RNNBase):
    """Long short-term memory over layers and time, with optional output projection (proj_size)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Any) -> tuple:
        """(num_layers * num_directions, batch, hidden_size)."""
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        return (self.num_layers * (2 if self.bidirectional else 1), mini_batch, self.hidden_size)

    def forward(self, input: Any, hx: tuple | None = None) -> tuple:
        """Returns (output, (h_n, c_n)); output is a PackedSequence when input is one."""
        return self._run(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit over layers and time (torch's gate order r, z, n)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input: Any, hx: Tensor | None = None) -> tuple:
        """Returns (output, h_n); output is a PackedSequence when input is one."""
        return self._run(input, hx)


# ---------------------------------------------------------------------------------------- cells

class RNNCellBase(Module):
    """What the cells share: weight_ih, weight_hh and (with bias) bias_ih, bias_hh."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += f", bias={self.bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        """Redraw every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in order."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _check(self, input: Tensor, hx: Tensor, name: str) -> None:
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match {name} batch size {hx.size(0)}")
        if hx.size(1) != self.hidden_size:
            raise RuntimeError(f"{name} has inconsistent hidden_size: got {hx.size(1)}, expected {self.hidden_size}")

    def _batched(self, cell: str, input: Tensor, states: tuple, labels: tuple) -> tuple:
        """Check ranks (torch's messages) and add the batch dimension to unbatched arguments."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{cell}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for label, value in zip(labels, states):
            if value is not None and value.dim() not in (1, 2):
                raise ValueError(f"{cell}: Expected {label} to be 1D or 2D, got {value.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
            states = tuple(None if s is None else s.unsqueeze(0) for s in states)
        states = tuple(zeros((input.size(0), self.hidden_size), dtype=input.dtype) if s is None else s
                       for s in states)
        return input, states, is_batched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), is_batched = self._batched("RNNCell", input, (hx,), ("hidden",))
        self._check(input, hx, "hidden0")
        pre = F.linear(input, self.weight_ih, self.bias_ih) + F.linear(hx, self.weight_hh, self.bias_hh)
        if self.nonlinearity == "tanh":
            ret = pre.tanh()
        elif self.nonlinearity == "relu":
            ret = pre.relu()
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        states = (None, None) if hx is None else tuple(hx)
        input, (h, c), is_batched = self._batched("LSTMCell", input, states, ("hx[0]", "hx[1]"))
        self._check(input, h, "hidden0")
        self._check(input, c, "hidden1")
        xp = F.linear(input, self.weight_ih, self.bias_ih)
        if self.bias_hh is not None:
            xp = xp + self.bias_hh
        h, (_, c) = lstm_step(xp, (h, c), self.weight_hh.t(), None, None)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (hx,), is_batched = self._batched("GRUCell", input, (hx,), ("hidden",))
        self._check(input, hx, "hidden0")
        xp = F.linear(input, self.weight_ih, self.bias_ih)
        h = self.hidden_size
        x_rz, x_n = xp.split([2 * h, h], 1)
        ret, _ = gru_step((x_rz, x_n), (hx,), self.weight_hh.t(), self.bias_hh, None)
        return ret if is_batched else ret.squeeze(0)
