"""Embedding (padding_idx, max_norm), EmbeddingBag, TransformerEncoderLayer in eval mode,
MultiheadAttention with masks."""
import torch
import torch.nn as nn

torch.manual_seed(0)

emb = nn.Embedding(6, 3, padding_idx=0)
print(emb, emb.weight[0])
with torch.no_grad():
    emb.weight.copy_(torch.arange(18.0).reshape(6, 3) / 10)
idx = torch.tensor([[1, 2, 0], [5, 0, 0]])
out = emb(idx)
print(out.shape, out[1])
out.sum().backward()
print(emb.weight.grad)
pre = nn.Embedding.from_pretrained(torch.tensor([[1.0, 0.0], [3.0, 4.0], [0.5, 0.5]]))
print(pre.weight.requires_grad, pre(torch.tensor([2, 1])))
mn = nn.Embedding.from_pretrained(torch.tensor([[1.0, 0.0], [3.0, 4.0], [0.5, 0.5]]), max_norm=1.0, freeze=False)
print(mn(torch.tensor([1, 1, 2])), mn.weight)
print(nn.Embedding(4, 2, scale_grad_by_freq=True, sparse=False))
try:
    emb(torch.tensor([6]))
except IndexError as e:
    print(type(e).__name__, e)

bag = nn.EmbeddingBag(6, 3, mode="mean")
with torch.no_grad():
    bag.weight.copy_(torch.arange(18.0).reshape(6, 3))
flat = torch.tensor([1, 2, 4, 5, 3])
offsets = torch.tensor([0, 2])
print(bag(flat, offsets))
print(nn.EmbeddingBag.from_pretrained(bag.weight, mode="sum")(torch.tensor([[0, 1], [2, 3]])))
print(nn.EmbeddingBag.from_pretrained(bag.weight, mode="max")(flat, offsets))
ws = torch.tensor([1.0, 0.5, 2.0, 1.0, 1.0])
print(nn.EmbeddingBag.from_pretrained(bag.weight, mode="sum")(flat, offsets, per_sample_weights=ws))


def fill(mod, scale=0.2):
    with torch.no_grad():
        for i, p in enumerate(mod.parameters()):
            n = p.numel()
            p.copy_((torch.arange(n, dtype=torch.float32).reshape(p.shape) % 7 - 3) * scale / (i + 1))


mha = nn.MultiheadAttention(embed_dim=4, num_heads=2, batch_first=True)
fill(mha)
print(mha)
print([(n, tuple(p.shape)) for n, p in mha.named_parameters()])
q = torch.linspace(-1, 1, 2 * 3 * 4).reshape(2, 3, 4)
kv = torch.linspace(1, -1, 2 * 5 * 4).reshape(2, 5, 4)
attn_out, w = mha(q, kv, kv)
print(attn_out.shape, w.shape)
print(attn_out[0], w[1])
_, w_heads = mha(q, kv, kv, average_attn_weights=False)
print(w_heads.shape, w_heads[0, 1, 0])
kpm = torch.tensor([[False, False, False, True, True], [False] * 5])
o2, w2 = mha(q, kv, kv, key_padding_mask=kpm)
print(w2[0, 0], o2[0, 0])
causal = torch.triu(torch.ones(3, 3, dtype=torch.bool), diagonal=1)
o3, w3 = mha(q, q, q, attn_mask=causal)
print(w3[0], o3[1, 2])
float_mask = torch.zeros(3, 3).masked_fill(causal, float("-inf"))
print(float_mask)
o4, _ = mha(q, q, q, attn_mask=float_mask)
print(torch.allclose(o3, o4, atol=1e-6))
print(nn.Transformer.generate_square_subsequent_mask(3))
o5, w5 = mha(q, q, q, need_weights=False)
print(o5.shape, w5)

layer = nn.TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=8, dropout=0.1, batch_first=True)
fill(layer, 0.1)
layer.eval()
src = torch.linspace(-2, 2, 2 * 3 * 4).reshape(2, 3, 4)
with torch.no_grad():
    enc = layer(src)
print(enc.shape)
print(enc[0])
print(layer(src, src_mask=causal)[1, 0])
print(layer(src, src_key_padding_mask=torch.tensor([[False, False, True], [False, False, False]]))[0, 0])
enc_stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, batch_first=True, norm_first=True),
                                  num_layers=2, enable_nested_tensor=False)
fill(enc_stack, 0.05)
enc_stack.eval()
print(enc_stack(src)[1, 2])
print(len(enc_stack.layers), sum(p.numel() for p in enc_stack.parameters()))
dec = nn.TransformerDecoderLayer(4, 2, 8, batch_first=True)
fill(dec, 0.1)
dec.eval()
print(dec(src[:, :2], src).shape, dec(src[:, :2], src)[0, 1])
layer.train()
print(layer(src).shape)
