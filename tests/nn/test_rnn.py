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


def _run(name, kw, with_h0, unbatched=False, dtype="float64", shape=None):
    tm, gm = pair(name, 3, 4, dtype=dtype, **kw)
    tdt = getattr(torch, dtype)
    shape = shape or ((5, 3) if unbatched else ((2, 5, 3) if kw.get("batch_first") else (5, 2, 3)))
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


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kw", [dict(), dict(batch_first=True), dict(bidirectional=True), dict(num_layers=2),
                                dict(proj_size=2)], ids=str)
def test_grad_fn_names_match_torch(name, dtype, kw):
    """float32 LSTM is one MkldnnRnnLayerBackward0 node per layer in torch; the rest stacks the steps;
    RNN and GRU transpose a batch_first output in place (TransposeBackward1)."""
    if kw.get("proj_size") and name != "LSTM":
        return
    tm, gm = pair(name, 3, 4, dtype=dtype, **kw)
    x = torch.randn(5, 2, 3, dtype=getattr(torch, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported with oneDNN"
        t_out = flat(tm(x))
    g_out = flat(gm(to_tg(x, True)))
    assert [o.grad_fn.name() for o in g_out] == [o.grad_fn.name() for o in t_out]
    if t_out[0].grad_fn.name() == "MkldnnRnnLayerBackward0":  # its inputs: x, the weights, h0[k], c0[k]
        def names(t):
            return [f.name() if f is not None else None for f, _ in t.grad_fn.next_functions]
        assert names(g_out[0]) == names(t_out[0])


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
    lambda t: t.nn.LSTM(3, 4)(t.randn(0, 2, 3)),
    lambda t: t.nn.GRU(3, 4, batch_first=True)(t.randn(2, 0, 3)),
    lambda t: t.nn.RNN(3, 4)(t.randn(0, 3)),
    lambda t: t.nn.LSTM(3, 4)(t.randn(0, 2, 4)),
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


# --- the fused layer entries (ops/nn_rnn.py, Note [Fused layers]) against the per-step path and torch

FUSED_CONFIGS = [dict(), dict(bidirectional=True), dict(num_layers=2), dict(batch_first=True), dict(bias=False),
                 dict(num_layers=2, bidirectional=True, batch_first=True)]


def _fused_and_per_step(monkeypatch, name, kw, with_h0, dtype=tapegrad.float64):
    """Outputs and every gradient (input, states, parameters) with the fused entries, then per step."""
    from tapegrad.nn.modules import rnn as rnn_module
    results = []
    for fused in (True, False):
        if not fused:
            monkeypatch.setattr(rnn_module, "_FUSED", {})
        tapegrad.manual_seed(5)
        m = getattr(tapegrad.nn, name)(3, 4, **kw).to(dtype)
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        x = tapegrad.randn(*((2, 6, 3) if kw.get("batch_first") else (6, 2, 3)), dtype=dtype, requires_grad=True)
        leaves = [x]
        args = [x]
        if with_h0:
            states = [tapegrad.randn(layers, 2, 4, dtype=dtype, requires_grad=True)
                      for _ in range(2 if name == "LSTM" else 1)]
            leaves += states
            args.append(tuple(states) if name == "LSTM" else states[0])
        outs = flat(m(*args))
        node = outs[0].grad_fn
        while node.name() in ("TransposeBackward0", "TransposeBackward1", "StackBackward0", "UnbindBackward0",
                              "CatBackward0"):
            node = node.next_functions[0][0]
        loss = sum((o * tapegrad.linspace(-1, 1, o.numel(), dtype=dtype).reshape(o.shape)).sum() for o in outs)
        grads = tapegrad.autograd.grad(loss, leaves + list(m.parameters()))
        results.append((node.name(), [o.detach().numpy() for o in outs] + [g.numpy() for g in grads]))
    (fused_node, fused), (step_node, per_step) = results
    assert fused_node in ("MkldnnRnnLayerBackward0", "GruLayerBackward0") and step_node != fused_node
    return fused, per_step


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
@pytest.mark.parametrize("kw", FUSED_CONFIGS, ids=str)
@pytest.mark.parametrize("with_h0", [False, True])
def test_fused_layers_match_the_per_step_path(monkeypatch, name, kw, with_h0):
    fused, per_step = _fused_and_per_step(monkeypatch, name, kw, with_h0)
    assert len(fused) == len(per_step)
    for a, b in zip(fused, per_step):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_fused_layers_float32_match_the_per_step_path(monkeypatch, name):
    fused, per_step = _fused_and_per_step(monkeypatch, name, dict(num_layers=2, bidirectional=True), True,
                                          tapegrad.float32)
    for a, b in zip(fused, per_step):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
@pytest.mark.parametrize("kw", [dict(num_layers=2, bidirectional=True, batch_first=True), dict(bias=False)], ids=str)
def test_fused_layers_match_torch_float32(name, kw):
    _run(name, kw, with_h0=True, dtype="float32")


def test_fused_layers_keep_dropout_between_layers():
    tm, gm = pair("LSTM", 3, 4, num_layers=2, dropout=0.5)
    tapegrad.manual_seed(0)
    a = flat(gm(to_tg(torch.randn(6, 2, 3, dtype=torch.float64))))[0]
    assert a.grad_fn.name() == "StackBackward0"
    gm.eval()
    tm.eval()
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    close(flat(tm(x))[0], flat(gm(to_tg(x)))[0])


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_packed_input_and_projection_take_the_per_step_path(name):
    """Packed sequences (and LSTM's proj_size) run step by step, and still match torch."""
    tm, gm = pair(name, 3, 4, bidirectional=True)
    x = torch.randn(5, 3, 3, dtype=torch.float64, requires_grad=True)
    gx = to_tg(x, True)
    lengths = [5, 4, 2]
    t_out = tm(torch.nn.utils.rnn.pack_padded_sequence(x, lengths))
    g_out = gm(tapegrad.nn.utils.rnn.pack_padded_sequence(gx, lengths))
    t_flat, g_flat = flat(t_out), flat(g_out)
    for a, b in zip(t_flat, g_flat):
        close(a, b)
    compare_grads(t_flat, g_flat, [x] + list(tm.parameters()), [gx] + list(gm.parameters()))


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_gradgradcheck_through_fused_layers_with_states(name):
    """Double backward through the fused entries (bidirectional, given h0/c0) by finite differences."""
    tapegrad.manual_seed(1)
    m = getattr(tapegrad.nn, name)(2, 2, bidirectional=True).double()
    x = tapegrad.randn(3, 2, 2, dtype=tapegrad.float64, requires_grad=True)
    h0 = tapegrad.randn(2, 2, 2, dtype=tapegrad.float64, requires_grad=True)
    c0 = tapegrad.randn(2, 2, 2, dtype=tapegrad.float64, requires_grad=True)
    w = m.weight_hh_l0

    def f(inp, h, c, w_hh):
        m.weight_hh_l0 = w_hh
        out = m(inp, (h, c)) if name == "LSTM" else m(inp, h)
        return tuple(flat(out))
    try:
        assert tapegrad.autograd.gradgradcheck(f, (x, h0, c0 if name == "LSTM" else h0.detach(), w))
    finally:
        m.weight_hh_l0 = w


def test_double_backward_through_lstm_matches_torch():
    """grad of (grad of the loss wrt the input) . v wrt the weights, against torch."""
    tm, gm = pair("LSTM", 3, 4, num_layers=2)
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    gx = to_tg(x, True)
    v = torch.randn(4, 2, 3, dtype=torch.float64)
    results = []
    for lib, m, inp in ((torch, tm, x), (tapegrad, gm, gx)):
        out, (h, c) = m(inp)
        loss = out.pow(2).sum() + h.sum() + c.pow(2).sum()
        (g,) = lib.autograd.grad(loss, inp, create_graph=True)
        vv = v if lib is torch else to_tg(v)
        grads = lib.autograd.grad((g * vv).sum(), [inp] + list(m.parameters()))
        results.append([t.detach().numpy() for t in grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-11)


def test_vmap_over_an_lstm_matches_a_loop():
    from tapegrad.func import vmap
    tapegrad.manual_seed(2)
    m = tapegrad.nn.LSTM(3, 4, bidirectional=True).double()
    xs = tapegrad.randn(3, 5, 2, 3, dtype=tapegrad.float64)
    got = vmap(lambda x: m(x)[0])(xs)
    want = tapegrad.stack([m(x)[0] for x in xs])
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_empty_batch_matches_torch(name):
    _run(name, dict(bidirectional=True), with_h0=False, shape=(5, 0, 3))
