"""nn.MultiheadAttention against torch: parameters, default init, outputs, weights, masks, gradients."""
import numpy as np
import pytest

import tapegrad
from _seq_harness import close, compare_grads, outcome, pair, same_init, to_tg

torch = pytest.importorskip("torch")

KPM = [[False, False, False, False, True], [False] * 5]


def _run(kw, L=4, S=5, N=2, unbatched=False, self_attn=False, kpm=None, mask=None, dtype="float64", **fkw):
    tm, gm = pair("MultiheadAttention", dtype=dtype, **kw)
    E = kw["embed_dim"]
    tdt = getattr(torch, dtype)
    bf = kw.get("batch_first", False)

    def shape(n, d):
        return (n, d) if unbatched else ((N, n, d) if bf else (n, N, d))

    q = torch.randn(*shape(L, E), dtype=tdt, requires_grad=True)
    k = q if self_attn else torch.randn(*shape(S, kw.get("kdim") or E), dtype=tdt, requires_grad=True)
    v = q if self_attn else torch.randn(*shape(S, kw.get("vdim") or E), dtype=tdt, requires_grad=True)
    gq = to_tg(q, True)
    gk = gq if self_attn else to_tg(k, True)
    gv = gq if self_attn else to_tg(v, True)
    t_kw, g_kw = dict(fkw), dict(fkw)
    for name, m in (("key_padding_mask", kpm), ("attn_mask", mask)):
        if m is not None:
            t_kw[name], g_kw[name] = m, to_tg(m)
    (to, tw), (go, gw) = tm(q, k, v, **t_kw), gm(gq, gk, gv, **g_kw)
    close(to, go, dtype, "attn_output")
    assert (tw is None) == (gw is None)
    outs_t, outs_g = [to], [go]
    if tw is not None:
        close(tw, gw, dtype, "attn_weights")
        outs_t.append(tw)
        outs_g.append(gw)
    leaves_t = [q] if self_attn else [q, k, v]
    leaves_g = [gq] if self_attn else [gq, gk, gv]
    compare_grads(outs_t, outs_g, leaves_t + list(tm.parameters()), leaves_g + list(gm.parameters()), dtype)


CASES = [
    (dict(embed_dim=8, num_heads=2), {}),
    (dict(embed_dim=8, num_heads=2, batch_first=True), dict(self_attn=True)),
    (dict(embed_dim=8, num_heads=2), dict(self_attn=True, need_weights=False)),
    (dict(embed_dim=8, num_heads=4, kdim=3, vdim=5), {}),
    (dict(embed_dim=8, num_heads=4, kdim=3, vdim=5, batch_first=True), dict(need_weights=False)),
    (dict(embed_dim=8, num_heads=2, bias=False), dict(average_attn_weights=False)),
    (dict(embed_dim=8, num_heads=2), dict(unbatched=True)),
    (dict(embed_dim=8, num_heads=2), dict(unbatched=True, average_attn_weights=False)),
]


@pytest.mark.parametrize("kw,fkw", CASES)
def test_matches_torch(kw, fkw):
    _run(kw, **fkw)


def test_float32_loose():
    _run(dict(embed_dim=8, num_heads=2), dtype="float32")


def test_masks():
    kpm = torch.tensor(KPM)
    _run(dict(embed_dim=8, num_heads=2), kpm=kpm)
    _run(dict(embed_dim=8, num_heads=2), kpm=kpm, need_weights=False)
    _run(dict(embed_dim=8, num_heads=2), mask=torch.randn(4, 5, dtype=torch.float64))
    _run(dict(embed_dim=8, num_heads=2), mask=torch.randn(4, 4, 5, dtype=torch.float64), need_weights=False)
    bool_mask = torch.tensor(np.random.default_rng(0).random((4, 5)) > 0.7)
    _run(dict(embed_dim=8, num_heads=2), mask=bool_mask, kpm=kpm, need_weights=False)
    _run(dict(embed_dim=8, num_heads=2), unbatched=True, kpm=torch.tensor(KPM[0]), need_weights=False)


def test_causal_mask_and_hint():
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5).double()
    _run(dict(embed_dim=8, num_heads=2), L=5, self_attn=True, mask=causal, is_causal=True, need_weights=False)
    _run(dict(embed_dim=8, num_heads=2), L=5, self_attn=True, mask=causal, is_causal=True)


def test_bias_kv_and_zero_attn():
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        _run(dict(embed_dim=8, num_heads=2, add_bias_kv=True, add_zero_attn=True),
             kpm=torch.tensor(KPM), mask=torch.randn(4, 5, dtype=torch.float64))


@pytest.mark.parametrize("kw", [dict(embed_dim=8, num_heads=2), dict(embed_dim=6, num_heads=3, kdim=2, vdim=4),
                                dict(embed_dim=8, num_heads=2, bias=False, add_bias_kv=True)])
def test_default_init_and_parameter_names(kw):
    _, gm = same_init("MultiheadAttention", **kw)
    if kw.get("kdim"):
        assert gm.in_proj_weight is None and gm.q_proj_weight.shape == (6, 6)


@pytest.mark.parametrize("scenario", [
    lambda t: t.nn.MultiheadAttention(8, 3),
    lambda t: t.nn.MultiheadAttention(0, 2),
    lambda t: t.nn.MultiheadAttention(8, 2)(t.randn(4, 2, 8), t.randn(5, 2, 8), t.randn(5, 2, 8),
                                            attn_mask=t.zeros(4, 4)),
    lambda t: t.nn.MultiheadAttention(8, 2)(t.randn(4, 2, 8), t.randn(5, 2, 8), t.randn(5, 2, 8),
                                            key_padding_mask=t.zeros(2, 4, dtype=t.bool)),
    lambda t: t.nn.MultiheadAttention(8, 2)(t.randn(4, 2, 8), t.randn(5, 8), t.randn(5, 8)),
    lambda t: t.nn.MultiheadAttention(8, 2)(t.randn(4, 2, 8), t.randn(4, 2, 8), t.randn(4, 2, 8), is_causal=True),
    lambda t: t.nn.MultiheadAttention(8, 2)(t.randn(4, 2, 8), t.randn(4, 2, 8), t.randn(4, 2, 8),
                                            attn_mask=t.zeros(4, 4, dtype=t.int64)),
    lambda t: t.nn.MultiheadAttention(8, 2)(t.randn(4, 2, 6), t.randn(4, 2, 6), t.randn(4, 2, 6)),
])
def test_errors_match_torch(scenario):
    got, want = outcome(tapegrad, scenario), outcome(torch, scenario)
    assert isinstance(want, tuple) and got == want


def test_dropout_only_in_training():
    _, gm = pair("MultiheadAttention", 8, 2, dropout=0.5)
    x = tapegrad.randn(4, 2, 8, dtype=tapegrad.float64)
    a, b = gm(x, x, x)[0], gm(x, x, x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    gm.eval()
    np.testing.assert_array_equal(gm(x, x, x)[0].detach().numpy(), gm(x, x, x)[0].detach().numpy())
