"""RNN/LSTM/GRU with batch_first, packed sequences and padding."""
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence, pack_sequence

torch.manual_seed(0)


def set_weights(mod):
    with torch.no_grad():
        for i, (name, p) in enumerate(mod.named_parameters()):
            p.copy_(torch.linspace(-0.3, 0.3, p.numel()).reshape(p.shape) * (1 + 0.1 * i))


rnn = nn.RNN(input_size=3, hidden_size=4, batch_first=True)
lstm = nn.LSTM(3, 4, num_layers=2, batch_first=True)
gru = nn.GRU(3, 4, bidirectional=True)
for m in (rnn, lstm, gru):
    set_weights(m)
    print(m)
    print([(n, tuple(p.shape)) for n, p in m.named_parameters()])

x = torch.linspace(-1, 1, 2 * 5 * 3).reshape(2, 5, 3)
out, h = rnn(x)
print(out.shape, h.shape, out.grad_fn is not None)
print(out[0, -1], h[0, 0])
print(torch.allclose(out[:, -1], h[0]))
out, (h, c) = lstm(x)
print(out.shape, h.shape, c.shape)
print(out[1, 2], c[1, 1])
h0 = torch.zeros(2, 2, 4)
c0 = torch.full((2, 2, 4), 0.5)
out2, _ = lstm(x, (h0, c0))
print(out2[0, 0])
xs = x.transpose(0, 1)
out, h = gru(xs)
print(out.shape, h.shape)
print(out[-1, 0, :4], h[0, 0])
print(out[0, 0, 4:], h[1, 0])

seqs = [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0]), torch.tensor([6.0])]
padded = pad_sequence(seqs, batch_first=True)
print(padded)
print(pad_sequence(seqs, padding_value=-1.0))
lengths = torch.tensor([3, 2, 1])
packed = pack_padded_sequence(padded.unsqueeze(-1), lengths, batch_first=True)
print(type(packed).__name__, packed.data.shape, packed.batch_sizes)
print(packed.data.squeeze(-1))
unpacked, lens = pad_packed_sequence(packed, batch_first=True)
print(unpacked.squeeze(-1), lens)
unsorted = pack_padded_sequence(pad_sequence([seqs[1], seqs[0], seqs[2]], batch_first=True).unsqueeze(-1),
                                torch.tensor([2, 3, 1]), batch_first=True, enforce_sorted=False)
print(unsorted.batch_sizes, unsorted.sorted_indices, unsorted.unsorted_indices)
print(pad_packed_sequence(unsorted, batch_first=True)[0].squeeze(-1))
ps = pack_sequence([torch.ones(2, 3), torch.ones(4, 3), torch.ones(1, 3)], enforce_sorted=False)
print(ps.data.shape, ps.batch_sizes)

r1 = nn.RNN(1, 2, batch_first=True)
set_weights(r1)
pout, ph = r1(packed)
print(type(pout).__name__, ph)
o, l = pad_packed_sequence(pout, batch_first=True, total_length=4)
print(o.shape, l, o[1])
full, fh = r1(padded.unsqueeze(-1))
print(full[1, 1], fh[0, 1])

lstm_cell = nn.LSTMCell(3, 2)
gru_cell = nn.GRUCell(3, 2)
rnn_cell = nn.RNNCell(3, 2, nonlinearity="relu")
for cell in (lstm_cell, gru_cell, rnn_cell):
    set_weights(cell)
hx, cx = torch.zeros(2, 2), torch.zeros(2, 2)
for t in range(x.size(1)):
    hx, cx = lstm_cell(x[:, t], (hx, cx))
print(hx, cx)
print(gru_cell(x[:, 0]), rnn_cell(x[:, 0], torch.ones(2, 2)))

lstm.zero_grad()
out, _ = lstm(x)
out.sum().backward()
print(lstm.weight_ih_l0.grad.shape, lstm.weight_hh_l1.grad[0])
xg = x.clone().requires_grad_()
gru(xg.transpose(0, 1))[1].sum().backward()
print(xg.grad[0, 0])
try:
    rnn(torch.zeros(2, 5, 4))
except RuntimeError as e:
    print(type(e).__name__, e)
lstm_p = nn.LSTM(3, 4, batch_first=True, proj_size=2)
print(lstm_p(x)[0].shape, [tuple(p.shape) for p in lstm_p.parameters()])
print(nn.LSTM(3, 4, batch_first=True, dropout=0.0, num_layers=2).eval()(x)[1][0].shape)
