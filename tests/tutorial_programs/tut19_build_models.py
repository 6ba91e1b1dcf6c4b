"""Building models: nn.Module subclasses, Sequential, ModuleList/ModuleDict, repr, named_* iterators,
parameter counts, state_dict keys."""
from collections import OrderedDict

import torch
import torch.nn as nn

torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.act = nn.ReLU()
        self.heads = nn.ModuleDict({"cls": nn.Linear(sizes[-1], 3), "reg": nn.Linear(sizes[-1], 1)})
        self.register_buffer("scale", torch.tensor(2.0))

    def forward(self, x):
        for layer in self.layers:
            x = self.act(layer(x))
        return self.heads["cls"](x) * self.scale, self.heads["reg"](x)


model = MLP([4, 8, 6])
print(model)
for name, p in model.named_parameters():
    print(name, tuple(p.shape), p.requires_grad, type(p).__name__)
for name, m in model.named_modules():
    print(repr(name), type(m).__name__)
print([type(c).__name__ for c in model.children()])
print([n for n, _ in model.named_children()])
print([n for n, _ in model.named_buffers()])
print(sum(p.numel() for p in model.parameters()))
print(list(model.state_dict().keys()))
print(len(list(model.modules())), len(model.layers), "cls" in model.heads, list(model.heads.keys()))

x = torch.randn(5, 4)
cls, reg = model(x)
print(cls.shape, reg.shape, cls.grad_fn.name(), reg.grad_fn.name())

seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
print(seq)
print(seq[0], seq[-1], len(seq))
print(seq[1:])
named = nn.Sequential(OrderedDict([("fc1", nn.Linear(2, 3)), ("act", nn.Sigmoid()), ("fc2", nn.Linear(3, 1))]))
print(named)
print(named.fc1.weight.shape, list(named.state_dict().keys()))
named.add_module("out", nn.Identity())
named.append(nn.Softplus(beta=2.0))
print(named)
print(named(torch.ones(2, 2)).shape)

with torch.no_grad():
    seq[0].weight.fill_(0.1)
    seq[0].bias.zero_()
    seq[2].weight.copy_(torch.arange(8.0).reshape(2, 4) / 10)
    seq[2].bias.fill_(-0.5)
out = seq(torch.tensor([[1.0, 2.0, 3.0]]))
print(out)
print(seq.state_dict()["2.weight"])

ml = nn.ModuleList()
ml.append(nn.Linear(2, 2))
ml.extend([nn.ReLU(), nn.Dropout(0.5)])
ml.insert(1, nn.BatchNorm1d(2))
print(ml)
md = nn.ModuleDict()
md["a"] = nn.Conv1d(1, 2, 3)
md.update({"b": nn.LayerNorm(4)})
print(md)
print(list(md.items())[0][0], [k for k in md])
pl = nn.ParameterList([nn.Parameter(torch.ones(2)), nn.Parameter(torch.zeros(3))])
pd = nn.ParameterDict({"w": nn.Parameter(torch.ones(2, 2))})
print(len(pl), pl[1], pd["w"].shape)


class Wrapper(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = seq
        self.p = nn.Parameter(torch.tensor([1.0, -1.0]))
        self.extra = pl

    def extra_repr(self):
        return "custom=True"


w = Wrapper()
print(w)
print([n for n, _ in w.named_parameters()])
print(sum(p.numel() for p in w.parameters() if p.requires_grad))
w.inner[0].weight.requires_grad_(False)
print(sum(p.numel() for p in w.parameters() if p.requires_grad))
print(w.get_submodule("inner.2"))
print(w.get_parameter("inner.2.bias"))
try:
    w.get_submodule("inner.9")
except AttributeError as e:
    print(type(e).__name__, e)
try:
    model.heads["missing"]
except KeyError as e:
    print(type(e).__name__, e)
try:
    nn.Sequential(nn.Linear(2, 2))[3]
except IndexError as e:
    print(type(e).__name__, e)
w.zero_grad()
print(w.training, w.eval().training, w.inner[0].training, w.train().inner[1].training)
print(w.double().p.dtype, w.float().inner[0].weight.dtype)
