"""Transformer encoder/decoder layers and stacks against torch: init order, outputs, masks, gradients."""
import copy
import warnings

import numpy as np
import pytest

import tapegrad
from _seq_harness import close, compare_grads, outcome, same_init, to_tg

torch = pytest.importorskip("torch")


def _encoder_pair(layer_kw, num_layers=2, norm=False, **enc_kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        tl = torch.nn.TransformerEncoderLayer(**layer_kw)
        te = torch.nn.TransformerEncoder(tl, num_layers, norm=torch.nn.LayerNorm(layer_kw["d_model"]) if norm else None,
                                         **enc_kw)
        tapegrad.manual_seed(0)
        gl = tapegrad.nn.TransformerEncoderLayer(**layer_kw)
        ge = tapegrad.nn.TransformerEncoder(gl, num_layers,
                                            norm=tapegrad.nn.LayerNorm(layer_kw["d_model"]) if norm else None, **enc_kw)
    ts, gs = te.state_dict(), ge.state_dict()
    assert list(ts) == list(gs)
    for k in ts:
        np.testing.assert_array_equal(gs[k].numpy(), ts[k].numpy(), err_msg=k)
    assert repr(ge) == repr(te)
    te.double()
    ge.double()
    ge.load_state_dict({k: to_tg(v) for k, v in te.state_dict().items()})
    te.eval()
    ge.eval()
    return te, ge


def _masks(mask, kpm):
    t_kw, g_kw = {}, {}
    for name, m in (("mask", mask), ("src_key_padding_mask", kpm)):
        if m is not None:
            t_kw[name], g_kw[name] = m, to_tg(m)
    return t_kw, g_kw


BASE = dict(d_model=8, nhead=2, dim_feedforward=16)
KPM = torch.tensor([[False, False, False, True, True], [False] * 5])
CAUSAL = torch.nn.Transformer.generate_square_subsequent_mask(5).double()


@pytest.mark.parametrize("layer_kw,shape,norm,mask,kpm", [
    (BASE, (5, 2, 8), False, None, None),
    (dict(BASE, activation="gelu", norm_first=True, batch_first=True), (2, 5, 8), True, None, None),
    (dict(BASE, bias=False, layer_norm_eps=1e-3), (5, 8), False, None, None),
    (BASE, (5, 2, 8), False, CAUSAL, None),
    (dict(BASE, batch_first=True), (2, 5, 8), True, None, KPM),
    (dict(BASE, batch_first=True, activation=torch.nn.functional.gelu), (2, 5, 8), False, CAUSAL, KPM),
], ids=["default", "gelu-normfirst-bf", "nobias-unbatched", "causal", "padding", "causal-padding"])
@pytest.mark.filterwarnings("ignore:Support for mismatched src_key_padding_mask")
def test_encoder_matches_torch(layer_kw, shape, norm, mask, kpm):
    if callable(layer_kw.get("activation")):
        layer_kw = dict(layer_kw, activation="gelu")
    te, ge = _encoder_pair(layer_kw, norm=norm)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    gx = to_tg(x, True)
    t_kw, g_kw = _masks(mask, kpm)
    to, go = te(x, **t_kw), ge(gx, **g_kw)
    close(to, go)
    compare_grads([to], [go], [x] + list(te.parameters()), [gx] + list(ge.parameters()))


@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_encoder_inference_with_padding_zeroes_padded_positions_as_torch(norm):
    te, ge = _encoder_pair(dict(BASE, batch_first=True), norm=norm)
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    t_kw, g_kw = _masks(None, KPM)
    with torch.no_grad():
        to = te(x, **t_kw)
    with tapegrad.no_grad():
        go = ge(to_tg(x), **g_kw)
    close(to, go)


def test_encoder_layer_alone_and_float32():
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    tapegrad.manual_seed(0)
    gl = tapegrad.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
    x = torch.randn(5, 2, 8, requires_grad=True)
    gx = to_tg(x, True)
    to, go = tl(x), gl(gx)
    close(to, go, "float32")
    compare_grads([to], [go], [x] + list(tl.parameters()), [gx] + list(gl.parameters()), "float32")


def test_layers_are_deep_copies():
    layer = tapegrad.nn.TransformerEncoderLayer(8, 2, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        enc = tapegrad.nn.TransformerEncoder(layer, 3)
    assert enc.layers[0] is not layer and enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    np.testing.assert_array_equal(enc.layers[2].linear1.weight.detach().numpy(), layer.linear1.weight.detach().numpy())
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))


@pytest.mark.parametrize("layer_kw,expect", [
    (dict(BASE), "encoder_layer.self_attn.batch_first was not True(use batch_first for better inference performance)"),
    (dict(BASE, batch_first=True, norm_first=True), "encoder_layer.norm_first was True"),
    (dict(d_model=9, nhead=3, dim_feedforward=4, batch_first=True), "encoder_layer.self_attn.num_heads is odd"),
    (dict(BASE, batch_first=True), None),
])
def test_nested_tensor_warning(layer_kw, expect):
    layer = tapegrad.nn.TransformerEncoderLayer(**layer_kw)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        enc = tapegrad.nn.TransformerEncoder(layer, 1)
    if expect is None:
        assert not rec and enc.use_nested_tensor
    else:
        assert str(rec[0].message) == f"enable_nested_tensor is True, but self.use_nested_tensor is False because {expect}"
        assert rec[0].filename == __file__ and not enc.use_nested_tensor


def test_default_init_of_layers():
    same_init("TransformerEncoderLayer", 8, 2, 16)
    same_init("TransformerEncoderLayer", 8, 4, 16, activation="gelu", bias=False, norm_first=True)
    same_init("TransformerDecoderLayer", 8, 2, 16)


def test_decoder_and_full_transformer():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt, gt = same_init("Transformer", 8, 2, 2, 1, 16, dropout=0.0)
    tt.double()
    gt.double()
    gt.load_state_dict({k: to_tg(v) for k, v in tt.state_dict().items()})
    src = torch.randn(5, 2, 8, dtype=torch.float64, requires_grad=True)
    tgt = torch.randn(4, 2, 8, dtype=torch.float64, requires_grad=True)
    gsrc, gtgt = to_tg(src, True), to_tg(tgt, True)
    m = tt.generate_square_subsequent_mask(4).double()
    mk = torch.tensor([[False, False, False, False, True], [False] * 5])
    to = tt(src, tgt, tgt_mask=m, memory_key_padding_mask=mk)
    go = gt(gsrc, gtgt, tgt_mask=tapegrad.nn.Transformer.generate_square_subsequent_mask(4, dtype=tapegrad.float64),
            memory_key_padding_mask=to_tg(mk))
    close(to, go)
    compare_grads([to], [go], [src, tgt] + list(tt.parameters()), [gsrc, gtgt] + list(gt.parameters()))


@pytest.mark.parametrize("scenario", [
    lambda t: t.nn.TransformerEncoderLayer(8, 2, 16, activation="tanh"),
    lambda t: t.nn.Transformer(8, 2, 1, 1, 16)(t.randn(5, 2, 8), t.randn(4, 3, 8)),
    lambda t: t.nn.Transformer(8, 2, 1, 1, 16)(t.randn(5, 2, 8), t.randn(4, 2, 6)),
    lambda t: t.nn.Transformer.generate_square_subsequent_mask(3).tolist(),
])
def test_errors_and_helpers_match_torch(scenario):
    assert outcome(tapegrad, scenario) == outcome(torch, scenario)
