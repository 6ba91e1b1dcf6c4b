"""Comparing optimizers on one problem; optimizer state_dict; param groups; lr schedulers."""
import torch
import torch.nn as nn

torch.manual_seed(0)
X = torch.linspace(-2, 2, 20).unsqueeze(1)
Y = 3 * X ** 2 - X + 0.5


def make_model():
    m = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1) / 2)
    return m


optims = {
    "SGD": lambda p: torch.optim.SGD(p, lr=0.01),
    "Adam": lambda p: torch.optim.Adam(p, lr=0.05),
    "AdamW": lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1),
    "RMSprop": lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9),
    "Adagrad": lambda p: torch.optim.Adagrad(p, lr=0.1),
    "Adam-amsgrad": lambda p: torch.optim.Adam(p, lr=0.05, amsgrad=True),
    "RMSprop-centered": lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
}
for name, make in optims.items():
    model = make_model()
    opt = make(model.parameters())
    losses = []
    for step in range(30):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 4))
    print(name, losses[0], losses[9], losses[-1])
    sd = opt.state_dict()
    print(" ", list(sd.keys()), list(sd["state"].keys()), sorted(sd["state"].get(0, {}).keys()))
    print(" ", {k: (tuple(v.shape) if torch.is_tensor(v) else v) for k, v in sorted(sd["state"].get(0, {}).items())})
    print(" ", sorted(sd["param_groups"][0].keys()))

model = make_model()
opt = torch.optim.Adam(model.parameters(), lr=0.01)
print(opt)
print(opt.state_dict())

m = make_model()
opt = torch.optim.SGD([{"params": m[0].parameters(), "lr": 0.1},
                       {"params": m[2].parameters()}], lr=0.01, momentum=0.9)
print([g["lr"] for g in opt.param_groups], [g["momentum"] for g in opt.param_groups])
extra = nn.Parameter(torch.ones(2))
opt.add_param_group({"params": [extra], "lr": 0.5, "momentum": 0.0})
print(len(opt.param_groups), [g["lr"] for g in opt.param_groups], [len(g["params"]) for g in opt.param_groups])
(m(X).sum() + extra.sum()).backward()
opt.step()
print(extra)
try:
    opt.add_param_group({"params": [extra]})
except ValueError as e:
    print(type(e).__name__, e)


def fresh(lr=0.1):
    return torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)


o = fresh()
s = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01)
print("cosine", [round(x, 6) for x in s.get_last_lr()], end=" ")
for _ in range(7):
    o.step()
    s.step()
    print(round(s.get_last_lr()[0], 6), end=" ")
print()
o = fresh()
s = torch.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=8)
print("onecycle", round(s.get_last_lr()[0], 6), end=" ")
for _ in range(7):
    o.step()
    s.step()
    print(round(s.get_last_lr()[0], 6), round(o.param_groups[0]["momentum"], 4), end=" ")
print()
o = fresh()
s = torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=1)
for val in [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7, 0.8]:
    s.step(val)
    print(o.param_groups[0]["lr"], end=" ")
print(s.get_last_lr())
o = fresh()
s = torch.optim.lr_scheduler.LambdaLR(o, lr_lambda=lambda epoch: 0.9 ** epoch)
out = []
for _ in range(4):
    o.step()
    s.step()
    out.append(round(s.get_last_lr()[0], 6))
print("lambda", out, s.last_epoch)
o = fresh()
s1 = torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)
s2 = torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.1)
out = []
for _ in range(5):
    o.step()
    s1.step()
    s2.step()
    out.append(round(o.param_groups[0]["lr"], 8))
print("two", out)
o = fresh()
chain = torch.optim.lr_scheduler.ChainedScheduler([torch.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=2),
                                                   torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)])
out = []
for _ in range(4):
    o.step()
    chain.step()
    out.append([round(v, 6) for v in chain.get_last_lr()])
print("chained", out)
o = fresh()
seq = torch.optim.lr_scheduler.SequentialLR(o, schedulers=[torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=3),
                                                           torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4)],
                                            milestones=[3])
out = []
for _ in range(6):
    o.step()
    seq.step()
    out.append(round(seq.get_last_lr()[0], 6))
print("sequential", out)
print(sorted(s.state_dict().keys()))
o = fresh()
ms = torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 4], gamma=0.5)
out = []
for _ in range(5):
    o.step()
    ms.step()
    out.append(ms.get_last_lr()[0])
print("multistep", out, ms.state_dict()["milestones"])
