"""nn.RNN / LSTM / GRU and their cells against torch: default weights, outputs, states and gradients."""
import warnings

import numpy as np
import pytest

import tapegrad
from _seq_harness import close, compare_grads, flat, outcome, pair, same_init, to_tg

torch = pytest.importorskip("torch")

CONFIGS = [dict(), dict(num_layers=2), dict(bidirectional=True), dict(bias=False),
           dict(num_layers=2, bidirectional=True, batch_first=True)]


def _states(name, kw, batch, dtype, unbatched=False):
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    hidden = kw.get("proj_size") or 4
    lead = (layers,) if unbatched else (layers, batch)
    h = torch.randn(*lead, hidden, dtype=dtype, requires_grad=True)
    if name != "LSTM":
        return h, to_tg(h, True), [h]
    c = torch.randn(*lead, 4, dtype=dtype, requires_grad=True)
    return (h, c), (to_tg(h, True), to_tg(c, True)), [h, c]


def _run(name, kw, with_h0, unbatched=False, dtype="float64"):
    tm, gm = pair(name, 3, 4, dtype=dtype, **kw)
    tdt = getattr(torch, dtype)
    shape = (5, 3) if unbatched else ((2, 5, 3) if kw.get("batch_first") else (5, 2, 3))
    x = torch.randn(*shape, dtype=tdt, requires_grad=True)
    t_args, g_args, leaves = [x], [to_tg(x, True)], [x]
    g_leaves = [g_args[0]]
    if with_h0:
        th, gh, hl = _states(name, kw, 2, tdt, unbatched)
        t_args.append(th)
        g_args.append(gh)
        leaves += hl
        g_leaves += list(gh) if isinstance(gh, tuple) else [gh]
    t_out, g_out = tm(*t_args), gm(*g_args)
    assert isinstance(g_out[1], tuple) == isinstance(t_out[1], tuple)
    t_flat, g_flat = flat(t_out), flat(g_out)
    for a, b in zip(t_flat, g_flat):
        close(a, b, dtype, f"{name} output")
    compare_grads(t_flat, g_flat, leaves + list(tm.parameters()), g_leaves + list(gm.parameters()), dtype)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "default")
@pytest.mark.parametrize("with_h0", [False, True])
def test_outputs_and_gradients_match_torch(name, kw, with_h0):
    _run(name, kw, with_h0)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(name):
    _run(name, dict(num_layers=2, bidirectional=True), with_h0=True, unbatched=True)
    _run(name, dict(), with_h0=False, unbatched=True)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_float32_loose(name):
    _run(name, dict(num_layers=2, bidirectional=True), with_h0=True, dtype="float32")


def test_lstm_projection_and_relu_rnn():
    _run("LSTM", dict(proj_size=2, num_layers=2, bidirectional=True), with_h0=True)
    _run("LSTM", dict(proj_size=3, batch_first=True), with_h0=False)
    _run("RNN", dict(nonlinearity="relu", num_layers=2), with_h0=True)


@pytest.mark.parametrize("name,kw", [
    ("LSTM", dict(input_size=3, hidden_size=4)),
    ("LSTM", dict(input_size=3, hidden_size=4, num_layers=2, batch_first=True)),
    ("LSTM", dict(input_size=3, hidden_size=5, proj_size=2, bidirectional=True, bias=False)),
    ("GRU", dict(input_size=2, hidden_size=6, num_layers=3, dropout=0.25)),
    ("RNN", dict(input_size=2, hidden_size=3, nonlinearity="relu", bidirectional=True)),
    ("RNNCell", dict(input_size=3, hidden_size=4, nonlinearity="relu")),
    ("LSTMCell", dict(input_size=3, hidden_size=4)),
    ("GRUCell", dict(input_size=3, hidden_size=4, bias=False)),
])
def test_default_init_state_dict_and_repr_match_torch(name, kw):
    same_init(name, **kw)


def test_exact_lstm_weights_for_seed():
    torch.manual_seed(0)
    expected = torch.nn.LSTM(3, 4).weight_ih_l0.detach().numpy()
    tapegrad.manual_seed(0)
    np.testing.assert_array_equal(tapegrad.nn.LSTM(3, 4).weight_ih_l0.detach().numpy(), expected)


def test_output_structure_and_shapes():
    x = tapegrad.randn(7, 3, 5)
    out, (h, c) = tapegrad.nn.LSTM(5, 4, num_layers=2, bidirectional=True, proj_size=2)(x)
    assert out.shape == (7, 3, 4) and h.shape == (4, 3, 2) and c.shape == (4, 3, 4)
    assert h.grad_fn.name() == "StackBackward0"
    out, h = tapegrad.nn.GRU(5, 4, batch_first=True)(x)
    assert out.shape == (7, 3, 4) and h.shape == (1, 7, 4)
    assert out.grad_fn.name() == "TransposeBackward0"


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_train_and_eval(name):
    tm, gm = pair(name, 3, 4, num_layers=3, dropout=0.5)
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    gm.train()
    a, b = flat(gm(to_tg(x)))[0], flat(gm(to_tg(x)))[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy()), "dropout must be active in training mode"
    tm.eval()
    gm.eval()
    close(flat(tm(x))[0], flat(gm(to_tg(x)))[0])


def test_dropout_warning_for_one_layer():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        tapegrad.nn.LSTM(3, 4, dropout=0.5)
    assert "non-zero dropout expects num_layers greater than 1" in str(rec[0].message)
    assert rec[0].filename == __file__


@pytest.mark.parametrize("scenario", [
    lambda t: t.nn.LSTM(3, 4)(t.randn(5, 2, 6)),
    lambda t: t.nn.GRU(3, 4)(t.randn(5, 2, 3, 1)),
    lambda t: t.nn.RNN(3, 4)(t.randn(5, 2, 3, 1)),
    lambda t: t.nn.GRU(3, 4)(t.randn(5, 2, 3), t.randn(1, 3, 4)),
    lambda t: t.nn.GRU(3, 4)(t.randn(5, 2, 3), t.randn(3, 4)),
    lambda t: t.nn.RNN(3, 4)(t.randn(5, 3), t.randn(1, 2, 4)),
    lambda t: t.nn.LSTM(3, 4)(t.randn(5, 2, 3), (t.randn(1, 3, 4), t.randn(1, 2, 4))),
    lambda t: t.nn.LSTM(3, 4)(t.randn(5, 2, 3), (t.randn(1, 2, 4), t.randn(1, 3, 4))),
    lambda t: t.nn.LSTM(3, 4)(t.randn(5, 2, 3), (t.randn(2, 4), t.randn(2, 4))),
    lambda t: t.nn.LSTM(3, 4)(t.randn(5, 2, 3, dtype=t.float64)),
    lambda t: t.nn.LSTM(3, 4, proj_size=4),
    lambda t: t.nn.GRU(3, 4, proj_size=2),
    lambda t: t.nn.RNN(3, 4, nonlinearity="sigmoid"),
    lambda t: t.nn.LSTM(3, 4, dropout=1.5),
    lambda t: t.nn.LSTM(3, 0),
    lambda t: t.nn.LSTM(3.0, 4),
    lambda t: t.nn.LSTMCell(3, 4)(t.randn(2, 5)),
    lambda t: t.nn.LSTMCell(3, 4)(t.randn(2, 3), (t.randn(3, 4), t.randn(3, 4))),
    lambda t: t.nn.GRUCell(3, 4)(t.randn(2, 3), t.randn(2, 5)),
    lambda t: t.nn.RNNCell(3, 4)(t.randn(2, 2, 3)),
    lambda t: t.nn.LSTMCell(3, 4)(t.randn(3), (t.randn(1, 1, 4), t.randn(4))),
])
def test_errors_match_torch(scenario):
    got, want = outcome(tapegrad, scenario), outcome(torch, scenario)
    assert isinstance(want, tuple) and got == want


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h0", [True, False])
def test_cells_match_torch(name, batched, with_h0):
    tm, gm = pair(name, 3, 4, **({"nonlinearity": "relu"} if name == "RNNCell" and batched else {}))
    x = torch.randn(*((2, 3) if batched else (3,)), dtype=torch.float64, requires_grad=True)
    gx = to_tg(x, True)
    t_args, g_args, t_leaves, g_leaves = [x], [gx], [x], [gx]
    if with_h0:
        hs = [torch.randn(*((2, 4) if batched else (4,)), dtype=torch.float64, requires_grad=True)
              for _ in range(2 if name == "LSTMCell" else 1)]
        ghs = [to_tg(h, True) for h in hs]
        t_args.append(tuple(hs) if name == "LSTMCell" else hs[0])
        g_args.append(tuple(ghs) if name == "LSTMCell" else ghs[0])
        t_leaves += hs
        g_leaves += ghs
    t_out, g_out = flat(tm(*t_args)), flat(gm(*g_args))
    for a, b in zip(t_out, g_out):
        close(a, b)
        assert b.grad_fn.name() == a.grad_fn.name()
    compare_grads(t_out, g_out, t_leaves + list(tm.parameters()), g_leaves + list(gm.parameters()))


def test_gradgradcheck_through_lstm():
    tapegrad.manual_seed(0)
    m = tapegrad.nn.LSTM(2, 3).double()
    x = tapegrad.randn(3, 2, 2, dtype=tapegrad.float64, requires_grad=True)
    assert tapegrad.autograd.gradgradcheck(lambda inp: m(inp)[0], (x,))


def test_gradgradcheck_through_gru():
    m = tapegrad.nn.GRU(2, 3).double()
    x = tapegrad.randn(4, 1, 2, dtype=tapegrad.float64, requires_grad=True)
    assert tapegrad.autograd.gradgradcheck(lambda inp: m(inp)[0], (x,))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_fused_steps_match_the_op_by_op_steps(kind):
    """The fused gate entries give the op-by-op recurrence's values and gradients (float64)."""
    from tapegrad.nn.modules import _recurrent as rec
    fused, plain = rec._STEPS[kind], {"LSTM": rec.lstm_step, "GRU": rec.gru_step}[kind]
    results = []
    for step in (fused, plain):
        tapegrad.manual_seed(3)
        m = getattr(tapegrad.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
        x = tapegrad.randn(5, 2, 3, dtype=tapegrad.float64, requires_grad=True)
        rec._STEPS[kind] = step
        try:
            out, _ = m(x)
        finally:
            rec._STEPS[kind] = fused
        out.pow(2).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in m.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
