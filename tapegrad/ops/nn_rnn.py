"""Fused recurrent cells: the gate nonlinearities of one LSTM or GRU time step in one NumPy pass.

nn.LSTM / nn.GRU run one of these per time step after the hidden-to-hidden matmul (see
nn/modules/_recurrent.py). Under a plain backward (grad recording off) each formula computes its
gradient in NumPy too; under create_graph it writes the same gradient with tapegrad ops, so double
backward differentiates it like any other formula.
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
