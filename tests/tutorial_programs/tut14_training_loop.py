"""A small training loop: nn, optim.SGD/Adam, lr_scheduler, DataLoader, train()/eval()."""
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader, random_split

torch.manual_seed(0)

N = 64
X = torch.randn(N, 4)
true_w = torch.tensor([[1.5], [-2.0], [0.5], [3.0]])
Y = X @ true_w + 0.1 * torch.randn(N, 1)
ds = TensorDataset(X, Y)
print(len(ds), ds[0][0].shape, ds[0][1].shape)
train_ds, val_ds = random_split(ds, [48, 16], generator=torch.Generator().manual_seed(42))
print(len(train_ds), len(val_ds))
train_loader = DataLoader(train_ds, batch_size=16, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=8)
print(len(train_loader), len(val_loader))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


model = Model()
print(model)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

for epoch in range(5):
    model.train()
    total = 0.0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * xb.size(0)
    scheduler.step()
    model.eval()
    with torch.no_grad():
        val = sum(loss_fn(model(xb), yb).item() * xb.size(0) for xb, yb in val_loader) / len(val_ds)
    print(epoch, model.training, round(total / len(train_ds), 4), round(val, 4), scheduler.get_last_lr())

# Adam + cosine schedule + weight decay, on a classifier
clf = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
labels = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
opt = torch.optim.Adam(clf.parameters(), lr=1e-2, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
ce = nn.CrossEntropyLoss()
loader = DataLoader(TensorDataset(X, labels), batch_size=32, shuffle=False)
for epoch in range(10):
    for xb, yb in loader:
        opt.zero_grad(set_to_none=True)
        l = ce(clf(xb), yb)
        l.backward()
        opt.step()
    sched.step()
    if epoch % 3 == 0:
        print(epoch, round(l.item(), 4), round(sched.get_last_lr()[0], 6))
with torch.no_grad():
    acc = (clf(X).argmax(1) == labels).float().mean()
print("acc", acc)
print(opt.state_dict()["param_groups"][0]["lr"], sorted(opt.state_dict()["state"][0].keys()))
print(opt)

# gradient clipping and ReduceLROnPlateau
opt2 = torch.optim.SGD(clf.parameters(), lr=0.1)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt2, mode="min", factor=0.5, patience=0)
for v in [1.0, 1.0, 1.0, 0.5]:
    plateau.step(v)
    print(opt2.param_groups[0]["lr"])
opt2.zero_grad()
ce(clf(X), labels).backward()
norm = nn.utils.clip_grad_norm_(clf.parameters(), max_norm=0.1)
print(norm.shape, sum(p.grad.norm() ** 2 for p in clf.parameters()).sqrt() <= 0.1 + 1e-6)

# save / load a state dict round trip
sd = clf.state_dict()
print(list(sd.keys()))
clf2 = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
print(clf2.load_state_dict(sd))
print(torch.equal(clf2(X), clf(X)))
