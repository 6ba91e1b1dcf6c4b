"""Fused recurrences: one LSTM or GRU time step (the cells), or a whole layer and direction.

The cells are the gate nonlinearities of one time step after the hidden-to-hidden matmul; the
per-step path of nn.LSTM / nn.GRU (nn/modules/_recurrent.py: packed sequences, projections) and
nn.LSTMCell / nn.GRUCell run them. The layer entries run the whole time loop (Note [Fused layers]).
Under a plain backward (grad recording off) each formula computes its gradient in NumPy; under
create_graph it writes the same gradient with tapegrad ops, so double backward differentiates it
like any other formula.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.grad_mode import _state
from . import _registry as R
from ._registry import defop
from ._samples import Sample, arr
from .pointwise import _sigmoid


def _const(a: np.ndarray) -> Any:
    return R._make(a, False, None, 0)


# --- LSTM: gates (B, 4H) in torch's order i, f, g, o; c' = f c + i g, h' = o tanh(c')

def _sigmoid_fast(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) in place on one temporary (exp's overflow gives the right 0)."""
    with np.errstate(over="ignore"):
        out = np.exp(-x)
    out += 1
    return np.reciprocal(out, out=out)


def _lstm_cell(gates, c):
    """(h', c', activated gates [sigmoid i, sigmoid f, tanh g, sigmoid o], tanh c'); the last two are
    kept for the backward only."""
    hidden = c.shape[1]
    act = _sigmoid_fast(gates)
    act[:, 2 * hidden:3 * hidden] = np.tanh(gates[:, 2 * hidden:3 * hidden])
    si, sf, tg, so = np.split(act, 4, axis=1)
    c_new = sf * c + si * tg
    tc = np.tanh(c_new)
    return so * tc, c_new, act, tc


def _lstm_dc(gh: np.ndarray, gc: np.ndarray, act: np.ndarray, tc: np.ndarray) -> np.ndarray:
    """dL/dc' through h' and directly."""
    so = act[:, 3 * tc.shape[1]:]
    return gc + gh * so * (1 - tc * tc)


def _lstm_parts_t(gates: Any, c: Any, gh: Any, gc: Any) -> tuple:
    """Gate values and dL/dc' written with tapegrad ops (create_graph)."""
    i, f, g, o = gates.chunk(4, 1)
    si, sf, so, tg = i.sigmoid(), f.sigmoid(), o.sigmoid(), g.tanh()
    tc = (sf * c + si * tg).tanh()
    return si, sf, so, tg, tc, gc + gh * so * (1 - tc * tc)


def _lstm_gates_grad(grads, gates, c, result):
    gh, gc = grads
    if not _state.enabled:
        act, tc = result[2]._data, result[3]._data
        a = _lstm_dc(gh._data, gc._data, act, tc)
        si, sf, tg, so = np.split(act, 4, axis=1)
        out = np.empty_like(act)
        for k, v in enumerate((a * tg * si * (1 - si), a * c._data * sf * (1 - sf), a * si * (1 - tg * tg),
                               gh._data * tc * so * (1 - so))):
            out[:, k * tc.shape[1]:(k + 1) * tc.shape[1]] = v
        return _const(out)
    si, sf, so, tg, tc, a = _lstm_parts_t(gates, c, gh, gc)
    return R.FUNCTIONS["cat"]([a * tg * si * (1 - si), a * c * sf * (1 - sf), a * si * (1 - tg * tg),
                               gh * tc * so * (1 - so)], 1)


def _lstm_c_grad(grads, gates, c, result):
    gh, gc = grads
    if not _state.enabled:
        act, tc = result[2]._data, result[3]._data
        hidden = tc.shape[1]
        return _const(_lstm_dc(gh._data, gc._data, act, tc) * act[:, hidden:2 * hidden])
    _, sf, _, _, _, a = _lstm_parts_t(gates, c, gh, gc)
    return a * sf


LSTM_CELL = defop("_lstm_cell", _lstm_cell, node="LstmCellBackward0", method=False, function=False,
                  promote="common", outputs=4, differentiable_outputs=2,
                  grads={"gates": _lstm_gates_grad, "c": _lstm_c_grad},
                  samples=lambda: iter([Sample(arr(3, 8), arr(3, 2)), Sample(arr(1, 12), arr(1, 3)),
                                        Sample(arr(0, 8), arr(0, 2))]))


# --- GRU: r, z = sigmoid(x_rz + h_rz); n = tanh(x_n + r h_n); h' = n + z (h - n)

def _gru_cell(x_rz, x_n, hp, h):
    """(h', [r, z] gates, n); the last two are kept for the backward only."""
    hidden = h.shape[1]
    rz = _sigmoid_fast(x_rz + hp[:, :2 * hidden])
    n = np.tanh(x_n + rz[:, :hidden] * hp[:, 2 * hidden:])
    return n + rz[:, hidden:] * (h - n), rz, n


def _gru_parts(result: tuple, hp: np.ndarray, h: np.ndarray, g: np.ndarray) -> tuple:
    """(d pre-activation of [r, z], d pre-activation of n, r, z) as arrays, from the saved gates."""
    hidden = h.shape[1]
    rz, n = result[1]._data, result[2]._data
    r, z = rz[:, :hidden], rz[:, hidden:]
    dn = g * (1 - z) * (1 - n * n)
    d_rz = np.empty_like(rz)
    d_rz[:, :hidden] = dn * hp[:, 2 * hidden:] * r * (1 - r)
    d_rz[:, hidden:] = g * (h - n) * z * (1 - z)
    return d_rz, dn, r, z


def _gru_parts_t(x_rz: Any, x_n: Any, hp: Any, h: Any, g: Any) -> tuple:
    """_gru_parts written with tapegrad ops (create_graph)."""
    hidden = h.shape[1]
    h_rz, h_n = hp.split([2 * hidden, hp.shape[1] - 2 * hidden], 1)
    r, z = (x_rz + h_rz).sigmoid().chunk(2, 1)
    n = (x_n + r * h_n).tanh()
    dn = g * (1 - z) * (1 - n * n)
    d_rz = R.FUNCTIONS["cat"]([dn * h_n * r * (1 - r), g * (h - n) * z * (1 - z)], 1)
    return d_rz, dn, r, z


def _gru_grad(which: str) -> Any:
    def formula(grad, x_rz, x_n, hp, h, result):
        if not _state.enabled:
            if which == "h":
                hidden = h.shape[1]
                return _const(grad._data * result[1]._data[:, hidden:])
            d_rz, dn, r, z = _gru_parts(result, hp._data, h._data, grad._data)
            if which == "x_rz":
                return _const(d_rz)
            if which == "x_n":
                return _const(dn)
            return _const(np.concatenate([d_rz, dn * r], 1))
        d_rz, dn, r, z = _gru_parts_t(x_rz, x_n, hp, h, grad)
        if which == "x_rz":
            return d_rz
        if which == "x_n":
            return dn
        if which == "hp":
            return R.FUNCTIONS["cat"]([d_rz, dn * r], 1)
        return grad * z
    return formula


GRU_CELL = defop("_gru_cell", _gru_cell, node="GruCellBackward0", method=False, function=False, promote="common",
                 outputs=3, differentiable_outputs=1,
                 grads={name: _gru_grad(name) for name in ("x_rz", "x_n", "hp", "h")},
                 samples=lambda: iter([Sample(arr(3, 4), arr(3, 2), arr(3, 6), arr(3, 2)),
                                       Sample(arr(1, 6), arr(1, 3), arr(1, 9), arr(1, 3)),
                                       Sample(arr(0, 4), arr(0, 2), arr(0, 6), arr(0, 2))]))


# ---------------------------------------------------------------------------------------
# Note [Fused layers]
# `_lstm_layer` / `_gru_layer` run one layer and direction of nn.LSTM / nn.GRU over a whole
# (T, B, I) sequence: the input projection of every step is one (T*B, I) matmul, the loop does only
# h @ W_hh^T and the gates, in place on preallocated arrays. They take their tensors as one list,
# (input, w_ih, w_hh[, b_ih, b_hh], hx[, cx]) (torch's order for MkldnnRnnLayerBackward0), so that
# the backward, a whole BPTT loop, runs once and returns every gradient (a list-input formula); the
# gates, cell states and tanh(c) are extra outputs kept for it. Its matmuls over all steps (dx, dW_ih,
# dW_hh) are again one each. Under create_graph the formula recomputes the recurrence and writes
# the same BPTT with tapegrad ops, so higher orders differentiate it like any composite; forward
# mode uses the generic rule derived from it.

def _layer_parts(tensors: list, states: int) -> tuple:
    """(input, w_ih, w_hh, b_ih, b_hh, hx[, cx]) with None biases when the list has none."""
    n = len(tensors)
    if n == 3 + states:
        x, w_ih, w_hh = tensors[:3]
        return (x, w_ih, w_hh, None, None) + tuple(tensors[3:])
    if n == 5 + states:
        return tuple(tensors)
    raise RuntimeError(f"expected {3 + states} or {5 + states} tensors (input, weights[, biases], states), "
                       f"got {n}")


def _order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _previous(seq: np.ndarray, first: np.ndarray, reverse: bool) -> np.ndarray:
    """The state before each step: `first` then seq shifted by one step in time order."""
    out = np.empty_like(seq)
    if seq.shape[0]:
        if reverse:
            out[:-1] = seq[1:]
            out[-1] = first
        else:
            out[1:] = seq[:-1]
            out[0] = first
    return out


def _project(x: np.ndarray, w: np.ndarray, bias: Any) -> np.ndarray:
    """x @ w^T (+ bias) for every step at once: (T, B, I) -> (T, B, G)."""
    steps, batch, _ = x.shape
    out = np.matmul(x.reshape(steps * batch, x.shape[2]), w.T).reshape(steps, batch, w.shape[0])
    if bias is not None:
        out += bias
    return out


def _t_ops() -> Any:
    import tapegrad
    return tapegrad


# --- LSTM layer

def _lstm_layer(tensors, reverse=False):
    """(output, h_n, c_n, activated gates, cell states, tanh of the cell states) of one direction."""
    x, w_ih, w_hh, b_ih, b_hh, hx, cx = _layer_parts(tensors, 2)
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    act = _project(x, w_ih, None if b_ih is None else b_ih + b_hh)  # becomes the activations in place
    out = np.empty((steps, batch, hidden), act.dtype)
    cells = np.empty_like(out)
    tcs = np.empty_like(out)
    w_hh_t = w_hh.T
    hh = np.empty((batch, 4 * hidden), act.dtype)
    tg = np.empty((batch, hidden), act.dtype)
    h, c = hx, cx
    with np.errstate(over="ignore"):
        for t in _order(steps, reverse):
            g = act[t]
            np.matmul(h, w_hh_t, out=hh)
            g += hh
            np.tanh(g[:, 2 * hidden:3 * hidden], out=tg)
            np.negative(g, out=g)
            np.exp(g, out=g)
            g += 1
            np.reciprocal(g, out=g)
            g[:, 2 * hidden:3 * hidden] = tg
            c_new = cells[t]
            np.multiply(g[:, hidden:2 * hidden], c, out=c_new)
            np.multiply(g[:, :hidden], tg, out=tg)
            c_new += tg
            np.tanh(c_new, out=tcs[t])
            np.multiply(g[:, 3 * hidden:], tcs[t], out=out[t])
            h, c = out[t], c_new
    return out, np.array(h, act.dtype), np.array(c, act.dtype), act, cells, tcs


def _lstm_layer_bptt(gy, ghn, gcn, x, w_ih, w_hh, hx, cx, out, act, cells, tcs, reverse):
    """d(pre-activation gates) of every step (T, B, 4H), dhx, dcx: the BPTT loop in NumPy."""
    steps, batch, hidden = out.shape
    si, sf, tg, so = (act[..., k * hidden:(k + 1) * hidden] for k in range(4))
    # what multiplies dc (i, f, g columns) or dh (o column) into the gates' gradient, for all steps
    mult = np.empty_like(act)
    np.multiply(tg, si * (1 - si), out=mult[..., :hidden])
    np.multiply(_previous(cells, cx, reverse), sf * (1 - sf), out=mult[..., hidden:2 * hidden])
    np.multiply(si, 1 - tg * tg, out=mult[..., 2 * hidden:3 * hidden])
    np.multiply(tcs, so * (1 - so), out=mult[..., 3 * hidden:])
    dc_from_h = so * (1 - tcs * tcs)
    d_gates = np.empty_like(act)
    m4 = mult.reshape(steps, batch, 4, hidden)
    d4 = d_gates.reshape(steps, batch, 4, hidden)
    dh = np.array(ghn, act.dtype)
    dc = np.array(gcn, act.dtype)
    tmp = np.empty_like(dh)
    for t in _order(steps, not reverse):
        dh += gy[t]
        np.multiply(dh, dc_from_h[t], out=tmp)
        dc += tmp
        np.multiply(m4[t, :, :3], dc[:, None, :], out=d4[t, :, :3])
        np.multiply(m4[t, :, 3], dh, out=d4[t, :, 3])
        np.matmul(d_gates[t], w_hh, out=dh)
        dc *= sf[t]
    return d_gates, dh, dc


def _layer_grads_np(d_x, d_h, x, w_ih, prev_h, bias: bool) -> list:
    """[dx, dW_ih, dW_hh(, db_ih, db_hh)] from the gradients of the two projections' outputs."""
    steps, batch, gates = d_x.shape
    dx2 = d_x.reshape(steps * batch, gates)
    dh2 = d_h.reshape(steps * batch, gates)
    grads = [np.matmul(dx2, w_ih).reshape(x.shape), np.matmul(dx2.T, x.reshape(steps * batch, x.shape[2])),
             np.matmul(dh2.T, prev_h.reshape(steps * batch, prev_h.shape[2]))]
    if bias:
        grads += [dx2.sum(0), dh2.sum(0)]
    return grads


def _lstm_layer_grad(grads, tensors, reverse, result):
    if _state.enabled:
        return _lstm_layer_grad_t(grads, tensors, reverse)
    gy, ghn, gcn = (g._data for g in grads)
    x, w_ih, w_hh, b_ih, b_hh, hx, cx = (None if t is None else t._data for t in _layer_parts(tensors, 2))
    out, _, _, act, cells, tcs = (r._data for r in result)
    d_gates, dh, dc = _lstm_layer_bptt(gy, ghn, gcn, x, w_ih, w_hh, hx, cx, out, act, cells, tcs, reverse)
    g = _layer_grads_np(d_gates, d_gates, x, w_ih, _previous(out, hx, reverse), b_ih is not None)
    return [_const(a) for a in g + [dh, dc]]


def _lstm_layer_grad_t(grads, tensors, reverse):
    """The same gradients with tapegrad ops (create_graph): recompute the steps, then BPTT."""
    tg = _t_ops()
    gy, ghn, gcn = grads
    x, w_ih, w_hh, b_ih, b_hh, hx, cx = _layer_parts(tensors, 2)
    steps = x.shape[0]
    xp = x.matmul(w_ih.t())
    if b_ih is not None:
        xp = xp + (b_ih + b_hh)
    saved = {}
    h, c = hx, cx
    for t in _order(steps, reverse):
        i, f, g, o = (xp[t] + h.mm(w_hh.t())).chunk(4, 1)
        si, sf, tgt, so = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        saved[t] = (h, c, si, sf, tgt, so)
        c = sf * c + si * tgt
        h = so * c.tanh()
        saved[t] += (c.tanh(),)
    dh, dc = ghn, gcn
    d_gates = [None] * steps
    for t in _order(steps, not reverse):
        _, c_prev, si, sf, tgt, so, tc = saved[t]
        dh = dh + gy[t]
        dc = dc + dh * so * (1 - tc * tc)
        d = tg.cat([dc * tgt * si * (1 - si), dc * c_prev * sf * (1 - sf), dc * si * (1 - tgt * tgt),
                    dh * tc * so * (1 - so)], 1)
        d_gates[t] = d
        dh = d.mm(w_hh)
        dc = dc * sf
    prev_h = [saved[t][0] for t in range(steps)]
    return _layer_grads_t(d_gates, d_gates, x, w_ih, w_hh, prev_h, b_ih is not None) + [dh, dc]


def _layer_grads_t(d_x: list, d_h: list, x: Any, w_ih: Any, w_hh: Any, prev_h: list, bias: bool) -> list:
    """_layer_grads_np with tapegrad ops, from per-step lists."""
    tg = _t_ops()
    steps, batch, _ = x.shape
    gates = w_ih.shape[0]
    if not steps:
        z = tg.zeros((0, batch, gates), dtype=x.dtype)
        dx_all = dh_all = z
        prev = tg.zeros((0, batch, w_hh.shape[1]), dtype=x.dtype)
    else:
        dx_all, dh_all, prev = tg.stack(d_x, 0), tg.stack(d_h, 0), tg.stack(prev_h, 0)
    dx2 = dx_all.reshape(steps * batch, gates)
    dh2 = dh_all.reshape(steps * batch, gates)
    grads = [dx_all.matmul(w_ih), dx2.t().mm(x.reshape(steps * batch, x.shape[2])),
             dh2.t().mm(prev.reshape(steps * batch, prev.shape[2]))]
    if bias:
        grads += [dx2.sum(0), dh2.sum(0)]
    return grads


def _lstm_layer_samples():
    # (input, w_ih, w_hh, b_ih, b_hh, hx, cx), hidden 2 (gates 8)
    yield Sample([arr(3, 2, 3), arr(8, 3), arr(8, 2), arr(8), arr(8), arr(2, 2), arr(2, 2)], False)
    yield Sample([arr(2, 1, 2), arr(8, 2), arr(8, 2), arr(1, 2), arr(1, 2)], True)
    yield Sample([arr(0, 2, 3), arr(8, 3), arr(8, 2), arr(8), arr(8), arr(2, 2), arr(2, 2)], False)


LSTM_LAYER = defop("_lstm_layer", _lstm_layer, node="MkldnnRnnLayerBackward0", method=False, function=False,
                   list_input=True, promote="common", outputs=6, differentiable_outputs=3,
                   inputs=("tensors",), grads={"tensors": _lstm_layer_grad}, samples=_lstm_layer_samples)


# --- GRU layer: r, z = sigmoid(x_rz + h W_hrz^T + b_hrz); n = tanh(x_n + r (h W_hn^T + b_hn)); h' = n + z (h - n)

def _gru_layer(tensors, reverse=False):
    """(output, h_n, activated gates [r, z, n], h W_hn^T + b_hn) of one direction."""
    x, w_ih, w_hh, b_ih, b_hh, hx = _layer_parts(tensors, 1)
    steps, batch, _ = x.shape
    hidden = w_hh.shape[1]
    act = _project(x, w_ih, b_ih)  # becomes the activations in place
    if b_hh is not None:
        act[..., :2 * hidden] += b_hh[:2 * hidden]
    out = np.empty((steps, batch, hidden), act.dtype)
    hn_all = np.empty_like(out)
    w_hh_t = w_hh.T
    hp = np.empty((batch, 3 * hidden), act.dtype)
    h = hx
    with np.errstate(over="ignore"):
        for t in _order(steps, reverse):
            g = act[t]
            np.matmul(h, w_hh_t, out=hp)
            rz = g[:, :2 * hidden]
            rz += hp[:, :2 * hidden]
            np.negative(rz, out=rz)
            np.exp(rz, out=rz)
            rz += 1
            np.reciprocal(rz, out=rz)
            hn = hn_all[t]
            if b_hh is not None:
                np.add(hp[:, 2 * hidden:], b_hh[2 * hidden:], out=hn)
            else:
                hn[...] = hp[:, 2 * hidden:]
            n = g[:, 2 * hidden:]
            n += rz[:, :hidden] * hn
            np.tanh(n, out=n)
            o = out[t]
            np.subtract(h, n, out=o)
            o *= rz[:, hidden:]
            o += n
            h = o
    return out, np.array(h, act.dtype), act, hn_all


def _gru_layer_bptt(gy, ghn, hx, w_hh, out, act, hn_all, reverse):
    """Gradients of the input projection's and the hidden projection's outputs (T, B, 3H), and dhx."""
    steps, batch, hidden = out.shape
    r, z, n = (act[..., k * hidden:(k + 1) * hidden] for k in range(3))
    dn_from_h = (1 - z) * (1 - n * n)
    dz_from_h = (_previous(out, hx, reverse) - n) * z * (1 - z)
    dr_from_n = hn_all * r * (1 - r)
    d_x = np.empty_like(act)
    d_h = np.empty_like(act)
    dh = np.array(ghn, act.dtype)
    for t in _order(steps, not reverse):
        dh += gy[t]
        dxt, dht = d_x[t], d_h[t]
        dn = dxt[:, 2 * hidden:]
        np.multiply(dh, dn_from_h[t], out=dn)
        np.multiply(dn, dr_from_n[t], out=dxt[:, :hidden])
        np.multiply(dh, dz_from_h[t], out=dxt[:, hidden:2 * hidden])
        dht[:, :2 * hidden] = dxt[:, :2 * hidden]
        np.multiply(dn, r[t], out=dht[:, 2 * hidden:])
        dh *= z[t]
        dh += np.matmul(dht, w_hh)
    return d_x, d_h, dh


def _gru_layer_grad(grads, tensors, reverse, result):
    if _state.enabled:
        return _gru_layer_grad_t(grads, tensors, reverse)
    gy, ghn = (g._data for g in grads)
    x, w_ih, w_hh, b_ih, b_hh, hx = (None if t is None else t._data for t in _layer_parts(tensors, 1))
    out, _, act, hn_all = (r._data for r in result)
    d_x, d_h, dh = _gru_layer_bptt(gy, ghn, hx, w_hh, out, act, hn_all, reverse)
    g = _layer_grads_np(d_x, d_h, x, w_ih, _previous(out, hx, reverse), b_ih is not None)
    return [_const(a) for a in g + [dh]]


def _gru_layer_grad_t(grads, tensors, reverse):
    """The same gradients with tapegrad ops (create_graph): recompute the steps, then BPTT."""
    tg = _t_ops()
    gy, ghn = grads
    x, w_ih, w_hh, b_ih, b_hh, hx = _layer_parts(tensors, 1)
    steps = x.shape[0]
    hidden = w_hh.shape[1]
    xp = x.matmul(w_ih.t())
    if b_ih is not None:
        xp = xp + b_ih
    saved = {}
    h = hx
    for t in _order(steps, reverse):
        hp = h.mm(w_hh.t())
        if b_hh is not None:
            hp = hp + b_hh
        x_rz, x_n = xp[t].split([2 * hidden, hidden], 1)
        h_rz, h_n = hp.split([2 * hidden, hidden], 1)
        r, z = (x_rz + h_rz).sigmoid().chunk(2, 1)
        n = (x_n + r * h_n).tanh()
        saved[t] = (h, r, z, n, h_n)
        h = n + z * (h - n)
    dh = ghn
    d_x, d_h = [None] * steps, [None] * steps
    for t in _order(steps, not reverse):
        h_prev, r, z, n, h_n = saved[t]
        dh = dh + gy[t]
        dn = dh * (1 - z) * (1 - n * n)
        d_rz = [dn * h_n * r * (1 - r), dh * (h_prev - n) * z * (1 - z)]
        d_x[t] = tg.cat(d_rz + [dn], 1)
        d_h[t] = tg.cat(d_rz + [dn * r], 1)
        dh = dh * z + d_h[t].mm(w_hh)
    prev_h = [saved[t][0] for t in range(steps)]
    return _layer_grads_t(d_x, d_h, x, w_ih, w_hh, prev_h, b_ih is not None) + [dh]


def _gru_layer_samples():
    # (input, w_ih, w_hh, b_ih, b_hh, hx), hidden 2 (gates 6)
    yield Sample([arr(3, 2, 3), arr(6, 3), arr(6, 2), arr(6), arr(6), arr(2, 2)], False)
    yield Sample([arr(2, 1, 2), arr(6, 2), arr(6, 2), arr(1, 2)], True)
    yield Sample([arr(0, 2, 3), arr(6, 3), arr(6, 2), arr(6), arr(6), arr(2, 2)], False)


GRU_LAYER = defop("_gru_layer", _gru_layer, node="GruLayerBackward0", method=False, function=False,
                  list_input=True, promote="common", outputs=4, differentiable_outputs=2,
                  inputs=("tensors",), grads={"tensors": _gru_layer_grad}, samples=_gru_layer_samples)
