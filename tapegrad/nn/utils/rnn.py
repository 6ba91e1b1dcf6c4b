"""torch.nn.utils.rnn: padding and packing variable-length sequences for the recurrent layers.

A PackedSequence stores the time steps of a batch sorted by decreasing length one after
another: `data[sum(batch_sizes[:t]) + i]` is step t of the i-th longest sequence, and
`batch_sizes[t]` counts the sequences longer than t. Packing and unpacking are single gathers
(`index_select`) over the padded tensor, so gradients flow through them.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Iterable, Sequence

import numpy as np

from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _tg() -> Any:
    import tapegrad
    return tapegrad


def _long(values: Any) -> Tensor:
    return _tg().tensor(np.asarray(values, dtype=np.int64), dtype=_tg().int64)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    perm = np.asarray(permutation.tolist(), dtype=np.int64)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size, dtype=np.int64)
    return _long(inverse)


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Packed time steps of a batch of variable-length sequences (see the module docstring).

    Build one with pack_padded_sequence or pack_sequence; RNN, LSTM and GRU accept it as input and
    return one as output.
    """

    __slots__ = ()

    def __new__(cls, data: Any, batch_sizes: Any = None, sorted_indices: Any = None,
                unsorted_indices: Any = None) -> "PackedSequence":
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never "
                                 "be created manually. They should be instantiated by functions like "
                                 "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                                 "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        if not (isinstance(data, (list, tuple)) and len(data) == 2):
            raise TypeError("PackedSequence expects (data, batch_sizes) when batch_sizes is not given")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def _with_data(self, data: Tensor) -> "PackedSequence":
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """Move or cast the data (the index tensors stay int64)."""
        return self._with_data(self.data.to(*args, **kwargs))

    def cpu(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        return self._with_data(self.data.cpu(*args, **kwargs))

    def cuda(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        return self._with_data(self.data.cuda(*args, **kwargs))

    def double(self) -> "PackedSequence":
        return self.to(dtype=_tg().float64)

    def float(self) -> "PackedSequence":
        return self.to(dtype=_tg().float32)

    def half(self) -> "PackedSequence":
        return self.to(dtype=_tg().float16)

    def long(self) -> "PackedSequence":
        return self.to(dtype=_tg().int64)

    def int(self) -> "PackedSequence":
        return self.to(dtype=_tg().int32)

    def short(self) -> "PackedSequence":
        return self.to(dtype=_tg().int16)

    def char(self) -> "PackedSequence":
        return self.to(dtype=_tg().int8)

    def byte(self) -> "PackedSequence":
        return self.to(dtype=_tg().uint8)

    @property
    def is_cuda(self) -> bool:
        """Whether the data is on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Whether the data is in pinned memory (never, on the CPU backend)."""
        return False

    def pin_memory(self) -> "PackedSequence":
        return self


def _lengths_array(lengths: Any) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D "
                               f"{lengths.device} tensor")
        return np.asarray(lengths.tolist(), dtype=np.int64)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences of the given lengths."""
    lens = _lengths_array(lengths)
    if enforce_sorted:
        sorted_indices = None
        order = np.arange(lens.size, dtype=np.int64)
    else:
        order = np.argsort(-lens, kind="stable").astype(np.int64)
        sorted_indices = _long(order)
        lens = lens[order]
    batch_dim = 0 if batch_first else 1
    batch = input.size(batch_dim)
    if lens.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
                           f"(batch_size={batch})")
    if lens.size and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if enforce_sorted and np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                           "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability.")
    steps = input.size(1 - batch_dim)
    max_len = int(lens[0]) if lens.size else 0
    if max_len > steps:
        raise RuntimeError(f"Expected all lengths to be at most the sequence length {steps}, but got {max_len}")
    batch_sizes = np.array([(lens > t).sum() for t in range(max_len)], dtype=np.int64)
    rows = []
    for t in range(max_len):
        b = order[:batch_sizes[t]]
        rows.append(b * steps + t if batch_first else t * batch + b)
    index = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    flat = input.reshape(batch * steps, *input.shape[2:])
    data = flat.index_select(0, _long(index))
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple:
    """Undo pack_padded_sequence: returns (padded tensor, lengths as an int64 tensor), original order."""
    data, batch_sizes_t, sorted_indices, unsorted_indices = sequence
    batch_sizes = np.asarray(batch_sizes_t.tolist(), dtype=np.int64)
    max_len = batch_sizes.size
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {max_len}")
        steps = total_length
    else:
        steps = max_len
    batch = int(batch_sizes[0]) if max_len else 0
    lens_sorted = np.array([(batch_sizes > i).sum() for i in range(batch)], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(np.int64) if max_len else batch_sizes
    pad_row = data.shape[0]
    # position (t, i) in sorted order -> data row, or the appended padding row
    table = np.full((steps, batch), pad_row, dtype=np.int64)
    for t in range(max_len):
        table[t, :batch_sizes[t]] = offsets[t] + np.arange(batch_sizes[t])
    if unsorted_indices is not None:
        unsorted = np.asarray(unsorted_indices.tolist(), dtype=np.int64)
        table = table[:, unsorted]
        lengths = lens_sorted[unsorted]
    else:
        lengths = lens_sorted
    if batch_first:
        table = table.T
    tg = _tg()
    filler = tg.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    source = tg.cat([data, filler], 0)
    padded = source.index_select(0, _long(table.reshape(-1))).view(*table.shape, *data.shape[1:])
    return padded, _long(lengths)


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shape (L_i, *) into (T, B, *) (or (B, T, *)), padding to the longest."""
    tg = _tg()
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    max_len = max(s.size(0) for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    padded = []
    for seq in sequences:
        rest = tuple(seq.shape[1:])
        if rest != trailing:
            for d, (a, b) in enumerate(zip(trailing, rest)):
                if a != b:
                    raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                                       f"non-singleton dimension {d + 1}")
            raise RuntimeError(f"pad_sequence: sequences must have the same trailing shape, got {trailing} and {rest}")
        missing = max_len - seq.size(0)
        if missing:
            fill = tg.full((missing, *trailing), padding_value, dtype=seq.dtype)
            seq = tg.cat([seq, fill] if padding_side == "right" else [fill, seq], 0)
        padded.append(seq)
    return tg.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list:
    """Split a padded batch back into its sequences, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences.unbind(0), _lengths_array(lengths))]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of shape (L_i, *) (sorted by decreasing length unless enforce_sorted=False)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
