"""Saving and loading: state_dicts, whole models, optimizers, dicts of tensors, into BytesIO and a file;
load_state_dict with strict=False."""
import io
import os
import tempfile

import torch
import torch.nn as nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self, hidden=4):
        super().__init__()
        self.fc1 = nn.Linear(3, hidden)
        self.bn = nn.BatchNorm1d(hidden)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


model = Net()
x = torch.randn(5, 3)
model(x)
sd = model.state_dict()
print(list(sd.keys()))
print(sd["bn.num_batches_tracked"], sd["bn.running_mean"].shape, type(sd).__name__)

buf = io.BytesIO()
torch.save(sd, buf)
buf.seek(0)
loaded = torch.load(buf)
print(type(loaded).__name__, list(loaded.keys()) == list(sd.keys()))
print(all(torch.equal(loaded[k], sd[k]) for k in sd))
m2 = Net()
print(m2.load_state_dict(loaded))
model.eval(); m2.eval()
print(torch.allclose(model(x), m2(x)))

opt = torch.optim.Adam(model.parameters(), lr=1e-3)
model.train()
model(x).pow(2).mean().backward()
opt.step()
ckpt = {"epoch": 3, "model": model.state_dict(), "optim": opt.state_dict(), "loss": 0.25,
        "note": "checkpoint", "tensors": [torch.arange(3), torch.ones(2, dtype=torch.float64)]}
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "ckpt.pt")
    torch.save(ckpt, path)
    print(os.path.exists(path))
    back = torch.load(path, weights_only=True)
    print(sorted(back.keys()), back["epoch"], back["loss"], back["note"], back["tensors"])
    print(back["optim"]["param_groups"][0]["lr"], sorted(back["optim"]["state"][0].keys()))
    print(back["optim"]["state"][0]["step"], back["optim"]["state"][0]["exp_avg"].shape)
    opt2 = torch.optim.Adam(m2.parameters(), lr=0.5)
    opt2.load_state_dict(back["optim"])
    print(opt2.param_groups[0]["lr"], torch.equal(opt2.state[m2.fc1.weight]["exp_avg"],
                                                   opt.state[model.fc1.weight]["exp_avg"]))
    m2.load_state_dict(back["model"])
    print(torch.equal(m2.fc1.weight, model.fc1.weight))

    t = torch.arange(6.0).reshape(2, 3)
    view = t[:, 1]
    p = os.path.join(d, "views.pt")
    torch.save({"base": t, "view": view}, p)
    vb = torch.load(p)
    print(vb["view"], vb["view"].shape, vb["view"].stride())

small = nn.Linear(3, 4)
missing_extra = {"weight": torch.ones(4, 3), "extra.bias": torch.zeros(1)}
res = small.load_state_dict(missing_extra, strict=False)
print(res)
print(res.missing_keys, res.unexpected_keys)
print(small.weight.sum())
try:
    small.load_state_dict(missing_extra)
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    small.load_state_dict({"weight": torch.ones(2, 3), "bias": torch.zeros(4)})
except RuntimeError as e:
    print(type(e).__name__, e)

bigger = Net(hidden=4)
partial = {k: v for k, v in model.state_dict().items() if k.startswith("fc1")}
print(bigger.load_state_dict(partial, strict=False))

for obj in [torch.tensor(3.5), torch.zeros(2, 0), torch.tensor([True, False]), torch.arange(4, dtype=torch.int16),
            (torch.ones(1), 5), {"nested": {"t": torch.eye(2)}}]:
    b = io.BytesIO()
    torch.save(obj, b)
    b.seek(0)
    print(torch.load(b))
b = io.BytesIO()
torch.save(nn.Parameter(torch.ones(2)), b)
b.seek(0)
p = torch.load(b)
print(type(p).__name__, p.requires_grad, p)
b = io.BytesIO()
torch.save(torch.ones(2, requires_grad=True), b)
b.seek(0)
print(torch.load(b).requires_grad)
