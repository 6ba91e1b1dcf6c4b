"""The recurrences behind nn.RNN, nn.LSTM and nn.GRU: one layer, one direction, a whole sequence.

Note [Recurrence layout]
The input-to-hidden product does not depend on the state, so each layer/direction computes it for
every time step with one matmul before the time loop (`_project`); the loop then only adds the
hidden-to-hidden product and the gate nonlinearities. The per-step functions are written with
tapegrad ops; the gate nonlinearities of LSTM and GRU are one fused entry each (ops/nn_rnn.py), whose
formulas are tapegrad ops under create_graph, so double backward goes through them too.

Packed sequences (sorted by decreasing length) are run with the batch shrinking over time: rows
whose sequence has ended drop out of the state, and their last state is kept for h_n. Going
backwards in time the batch grows instead, new rows starting from h0.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from ..._tensor import Tensor
from ...ops._registry import dispatch
from ...ops.nn_rnn import GRU_CELL, LSTM_CELL
from .. import functional as F

__all__ = ["run_stack", "rnn_tanh_step", "rnn_relu_step", "lstm_step", "gru_step", "lstm_step_fused",
           "gru_step_fused"]


def _ops() -> Any:
    import tapegrad
    return tapegrad


def rnn_tanh_step(xp: Tensor, state: tuple, w_hh_t: Tensor, b_hh: Any, w_hr_t: Any) -> tuple:
    """h' = tanh(x W_ih^T + b_ih + b_hh + h W_hh^T); xp already holds both biases."""
    h = _ops().addmm(xp, state[0], w_hh_t).tanh()
    return h, (h,)


def rnn_relu_step(xp: Tensor, state: tuple, w_hh_t: Tensor, b_hh: Any, w_hr_t: Any) -> tuple:
    """h' = relu(x W_ih^T + b_ih + b_hh + h W_hh^T)."""
    h = _ops().addmm(xp, state[0], w_hh_t).relu()
    return h, (h,)


def lstm_step(xp: Tensor, state: tuple, w_hh_t: Tensor, b_hh: Any, w_hr_t: Any) -> tuple:
    """Gates in torch's order i, f, g, o; c' = f c + i g, h' = o tanh(c') (then h' W_hr^T with proj).

    Written op by op, as nn.LSTMCell records it in torch (its grad_fn names show)."""
    h, c = state
    i, f, g, o = _ops().addmm(xp, h, w_hh_t).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr_t is not None:
        h = h.matmul(w_hr_t)
    return h, (h, c)


def lstm_step_fused(xp: Tensor, state: tuple, w_hh_t: Tensor, b_hh: Any, w_hr_t: Any) -> tuple:
    """lstm_step with the gate nonlinearities as one fused entry (nn.LSTM's time loop)."""
    h, c = state
    h, c, _, _ = dispatch(LSTM_CELL, (_ops().addmm(xp, h, w_hh_t), c))
    if w_hr_t is not None:
        h = h.matmul(w_hr_t)
    return h, (h, c)


def gru_step(xp: tuple, state: tuple, w_hh_t: Tensor, b_hh: Any, w_hr_t: Any) -> tuple:
    """Gates r, z, n as torch: n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    x_rz, x_n = xp
    h = state[0]
    hp = _ops().addmm(b_hh, h, w_hh_t) if b_hh is not None else h.matmul(w_hh_t)
    hidden = h.shape[1]
    h_rz, h_n = hp.split([2 * hidden, hp.shape[1] - 2 * hidden], 1)
    r, z = (x_rz + h_rz).sigmoid().chunk(2, 1)
    n = (x_n + r * h_n).tanh()
    h = n + z * (h - n)
    return h, (h,)


def gru_step_fused(xp: tuple, state: tuple, w_hh_t: Tensor, b_hh: Any, w_hr_t: Any) -> tuple:
    """gru_step with the gate nonlinearities as one fused entry (nn.GRU's time loop)."""
    x_rz, x_n = xp
    h = state[0]
    hp = _ops().addmm(b_hh, h, w_hh_t) if b_hh is not None else h.matmul(w_hh_t)
    h, _, _ = dispatch(GRU_CELL, (x_rz, x_n, hp, h))
    return h, (h,)


def _project(mode: str, x: Tensor, w_ih: Tensor, b_ih: Any, b_hh: Any, batch_sizes: Any) -> list:
    """The input-to-hidden part of every time step (Note [Recurrence layout])."""
    if mode == "GRU" or b_ih is None:
        xp = F.linear(x, w_ih, b_ih)
    else:
        xp = F.linear(x, w_ih, b_ih + b_hh)
    if mode == "GRU":
        g = xp.shape[-1]
        x_rz, x_n = xp.split([2 * g // 3, g // 3], -1)
        return list(zip(_time_steps(x_rz, batch_sizes), _time_steps(x_n, batch_sizes)))
    return _time_steps(xp, batch_sizes)


def _time_steps(x: Tensor, batch_sizes: Any) -> list:
    if batch_sizes is None:
        return list(x.unbind(0))
    return list(x.split(batch_sizes, 0))


def _scan(step: Callable, steps: list, state0: tuple, weights: tuple, batch_sizes: Any,
          reverse: bool) -> tuple:
    """Run `step` over the time steps; returns (outputs in time order, final state)."""
    tg = _ops()
    n = len(steps)
    outs: list = [None] * n
    if batch_sizes is None:
        state = state0
        for t in (range(n - 1, -1, -1) if reverse else range(n)):
            outs[t], state = step(steps[t], state, *weights)
        return outs, state
    full = state0[0].shape[0]
    if not reverse:
        state, cur, finished = state0, full, []
        for t in range(n):
            bs = batch_sizes[t]
            if bs < cur:
                finished.append(tuple(s[bs:] for s in state))
                state = tuple(s[:bs] for s in state)
                cur = bs
            outs[t], state = step(steps[t], state, *weights)
        if finished:
            state = tuple(tg.cat([state[k]] + [f[k] for f in reversed(finished)], 0) for k in range(len(state)))
        return outs, state
    cur = batch_sizes[n - 1] if n else full
    state = tuple(s[:cur] for s in state0) if cur < full else state0
    for t in range(n - 1, -1, -1):
        bs = batch_sizes[t]
        if bs > cur:
            state = tuple(tg.cat([s, s0[cur:bs]], 0) for s, s0 in zip(state, state0))
            cur = bs
        outs[t], state = step(steps[t], state, *weights)
    return outs, state


_STEPS = {"RNN_TANH": rnn_tanh_step, "RNN_RELU": rnn_relu_step, "LSTM": lstm_step_fused, "GRU": gru_step_fused}


def run_stack(mode: str, x: Tensor, hx: Tensor, cx: Any, layers: Sequence[Sequence[tuple]], dropout: float,
              training: bool, batch_sizes: Any) -> tuple:
    """Run all layers and directions.

    x is time-major (T, B, I), or the packed data (N, I) when batch_sizes is a list. `layers[l][d]`
    is (w_ih, w_hh, b_ih, b_hh, w_hr) with None for absent tensors. Returns (output, h_n, c_n);
    c_n is None unless mode is LSTM.
    """
    tg = _ops()
    step = _STEPS[mode]
    h_finals, c_finals = [], []
    num_layers = len(layers)
    k = 0
    for layer, directions in enumerate(layers):
        dir_outs = []
        for d, (w_ih, w_hh, b_ih, b_hh, w_hr) in enumerate(directions):
            state0 = (hx[k], cx[k]) if cx is not None else (hx[k],)
            k += 1
            steps = _project(mode, x, w_ih, b_ih, b_hh, batch_sizes)
            weights = (w_hh.t(), b_hh if mode == "GRU" else None, w_hr.t() if w_hr is not None else None)
            outs, final = _scan(step, steps, state0, weights, batch_sizes, reverse=(d == 1))
            if outs:
                dir_outs.append(tg.stack(outs, 0) if batch_sizes is None else tg.cat(outs, 0))
            else:
                dir_outs.append(_empty_output(x, final[0]))
            h_finals.append(final[0])
            if cx is not None:
                c_finals.append(final[1])
        x = dir_outs[0] if len(dir_outs) == 1 else tg.cat(dir_outs, -1)
        if dropout > 0 and training and layer < num_layers - 1:
            x = F.dropout(x, dropout, True)
    h_n = tg.stack(h_finals, 0)
    c_n = tg.stack(c_finals, 0) if cx is not None else None
    return x, h_n, c_n


def _empty_output(x: Tensor, h: Tensor) -> Tensor:
    """The output of a zero-length sequence: (0, B, H) (or (0, H) packed)."""
    return _ops().zeros((*x.shape[:-1], h.shape[-1]), dtype=h.dtype)
