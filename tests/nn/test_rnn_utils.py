"""nn.utils.rnn (pad/pack sequences) and the recurrent layers on packed input, against torch."""
import numpy as np
import pytest

import tapegrad
from tapegrad.nn.utils import rnn as grnn
from _seq_harness import close, compare_grads, flat, outcome, pair, to_tg

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn

LENGTHS = [(5, 3, 3, 1), (2, 5, 3, 5), (4,)]


def _seqs(lengths, feat=3):
    torch.manual_seed(1)
    ts = [torch.randn(n, feat, dtype=torch.float64, requires_grad=True) for n in lengths]
    return ts, [to_tg(t, True) for t in ts]


def _same_packed(tp, gp):
    close(tp.data, gp.data)
    assert gp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert gp.batch_sizes.dtype == tapegrad.int64
    for a, b in ((tp.sorted_indices, gp.sorted_indices), (tp.unsorted_indices, gp.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    ts, gs = _seqs((2, 5, 3))
    a = trnn.pad_sequence(ts, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    b = grnn.pad_sequence(gs, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    close(a, b)
    compare_grads([a], [b], ts, gs)


@pytest.mark.parametrize("lengths", LENGTHS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_round_trip(lengths, enforce_sorted):
    if enforce_sorted and list(lengths) != sorted(lengths, reverse=True):
        return
    ts, gs = _seqs(lengths)
    tp, gp = trnn.pack_sequence(ts, enforce_sorted=enforce_sorted), grnn.pack_sequence(gs, enforce_sorted=enforce_sorted)
    _same_packed(tp, gp)
    for batch_first in (False, True):
        (ta, tl), (ga, gl) = (trnn.pad_packed_sequence(tp, batch_first=batch_first, padding_value=2.0, total_length=7),
                              grnn.pad_packed_sequence(gp, batch_first=batch_first, padding_value=2.0, total_length=7))
        close(ta, ga)
        assert gl.tolist() == tl.tolist() and gl.dtype == tapegrad.int64
    compare_grads([tp.data], [gp.data], ts, gs)
    for a, b in zip(trnn.unpack_sequence(tp), grnn.unpack_sequence(gp)):
        close(a, b)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_with_tensor_lengths(batch_first):
    x = torch.randn(3, 4, 2, dtype=torch.float64, requires_grad=True)
    gx = to_tg(x, True)
    lengths = [2, 4, 1] if batch_first else [3, 1, 2, 3]
    tp = trnn.pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
    gp = grnn.pack_padded_sequence(gx, tapegrad.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
    _same_packed(tp, gp)
    compare_grads([tp.data], [gp.data], [x], [gx])


def test_packed_sequence_is_a_named_tuple():
    _, gs = _seqs((3, 2))
    p = grnn.pack_sequence(gs)
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert isinstance(p, tuple) and sorted_indices is None and unsorted_indices is None
    assert p.to(tapegrad.float32).data.dtype == tapegrad.float32
    assert p.double() is p


@pytest.mark.parametrize("scenario", [
    lambda t: t.nn.utils.rnn.pack_padded_sequence(t.zeros(3, 2, 1), [2, 3]),
    lambda t: t.nn.utils.rnn.pack_padded_sequence(t.zeros(3, 2, 1), [3, 0]),
    lambda t: t.nn.utils.rnn.pack_padded_sequence(t.zeros(3, 2, 1), [3, 2, 1]),
    lambda t: t.nn.utils.rnn.pad_packed_sequence(t.nn.utils.rnn.pack_sequence([t.zeros(3, 1)]), total_length=2),
    lambda t: t.nn.utils.rnn.pad_sequence([t.zeros(2, 2), t.zeros(3, 3)]),
])
def test_errors_match_torch(scenario):
    got, want = outcome(tapegrad, scenario), outcome(torch, scenario)
    assert isinstance(want, tuple) and got == want


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", [dict(), dict(num_layers=2, bidirectional=True)], ids=["1layer", "2layer-bi"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_recurrent_layers_on_packed_input(name, kw, with_h0):
    tm, gm = pair(name, 3, 4, **kw)
    ts, gs = _seqs((2, 5, 3, 5))
    tp, gp = trnn.pack_sequence(ts, enforce_sorted=False), grnn.pack_sequence(gs, enforce_sorted=False)
    t_args, g_args, t_leaves, g_leaves = [tp], [gp], list(ts), list(gs)
    if with_h0:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        hs = [torch.randn(layers, 4, 4, dtype=torch.float64, requires_grad=True)
              for _ in range(2 if name == "LSTM" else 1)]
        ghs = [to_tg(h, True) for h in hs]
        t_args.append(tuple(hs) if name == "LSTM" else hs[0])
        g_args.append(tuple(ghs) if name == "LSTM" else ghs[0])
        t_leaves += hs
        g_leaves += ghs
    t_out, g_out = tm(*t_args), gm(*g_args)
    _same_packed(t_out[0], g_out[0])
    t_flat, g_flat = flat(t_out), flat(g_out)
    for a, b in zip(t_flat, g_flat):
        close(a, b)
    ta, _ = trnn.pad_packed_sequence(t_out[0], batch_first=True)
    ga, _ = grnn.pad_packed_sequence(g_out[0], batch_first=True)
    close(ta, ga)
    compare_grads([ta] + t_flat[1:], [ga] + g_flat[1:], t_leaves + list(tm.parameters()),
                  g_leaves + list(gm.parameters()))
