"""A classification training loop on a synthetic dataset: CrossEntropyLoss, SGD with momentum and
weight decay, StepLR, losses per epoch and accuracy."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

n_per, n_cls = 40, 3
centers = torch.tensor([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.5]])
X = torch.cat([centers[c] + 0.6 * torch.randn(n_per, 2) for c in range(n_cls)])
y = torch.arange(n_cls).repeat_interleave(n_per)
print(X.shape, y.shape, y.dtype, torch.bincount(y))
loader = DataLoader(TensorDataset(X, y), batch_size=20, shuffle=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 16)
        self.fc2 = nn.Linear(16, n_cls)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


model = Net()
criterion = nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
print(opt)

for epoch in range(8):
    model.train()
    running, correct, seen = 0.0, 0, 0
    for xb, yb in loader:
        opt.zero_grad()
        logits = model(xb)
        loss = criterion(logits, yb)
        loss.backward()
        opt.step()
        running += loss.item() * len(yb)
        correct += (logits.argmax(dim=1) == yb).sum().item()
        seen += len(yb)
    sched.step()
    print(f"epoch {epoch}: loss {running / seen:.4f} acc {correct / seen:.3f} lr {sched.get_last_lr()[0]:.4f}")

model.eval()
with torch.no_grad():
    logits = model(X)
    probs = F.softmax(logits, dim=1)
    pred = probs.argmax(1)
    acc = (pred == y).float().mean()
print(f"final accuracy {acc.item():.3f}")
print(probs.sum(1)[:4], probs.shape, pred[:10])
conf = torch.zeros(n_cls, n_cls, dtype=torch.long)
for t, p in zip(y, pred):
    conf[t, p] += 1
print(conf)
print(criterion(logits, y), F.cross_entropy(logits, y, reduction="sum") / len(y))
print(opt.state_dict()["param_groups"][0]["lr"], len(opt.state_dict()["state"]))
print(opt.state[model.fc1.weight]["momentum_buffer"].shape)

# the same loop with a fixed dataset, deterministic numbers
torch.manual_seed(0)
Xd = torch.linspace(-1, 1, 24).reshape(12, 2)
yd = (Xd.sum(1) > 0).long()
m = nn.Linear(2, 2)
with torch.no_grad():
    m.weight.copy_(torch.tensor([[0.1, -0.2], [0.3, 0.05]]))
    m.bias.zero_()
o = torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9, weight_decay=0.01, nesterov=True)
s = torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.1)
for epoch in range(5):
    o.zero_grad()
    loss = F.cross_entropy(m(Xd), yd)
    loss.backward()
    o.step()
    s.step()
    print(epoch, round(loss.item(), 6), s.get_last_lr(), m.weight.data.flatten().tolist())
print(m.weight.grad, m.bias.grad)
