"""Frozen layers and fine-tuning, a GAN-style step with detach, gradient clipping,
parameters_to_vector."""
import torch
import torch.nn as nn
from torch.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

torch.manual_seed(0)


def det(mod, scale=0.3):
    with torch.no_grad():
        for i, p in enumerate(mod.parameters()):
            p.copy_(torch.linspace(-scale, scale, p.numel()).reshape(p.shape) * (-1) ** i)
    return mod


backbone = det(nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 6), nn.ReLU()))
head = det(nn.Linear(6, 2), 0.5)
model = nn.Sequential(backbone, head)
for p in backbone.parameters():
    p.requires_grad_(False)
print([n for n, p in model.named_parameters() if p.requires_grad])
print(sum(p.numel() for p in model.parameters() if p.requires_grad), sum(p.numel() for p in model.parameters()))
opt = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
print(len(opt.param_groups[0]["params"]))
x = torch.linspace(-1, 1, 20).reshape(5, 4)
y = torch.tensor([0, 1, 1, 0, 1])
before = backbone[0].weight.clone()
for step in range(3):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    print(step, round(loss.item(), 6), backbone[0].weight.grad, head.weight.grad.abs().sum().item() > 0)
print(torch.equal(before, backbone[0].weight), head.bias)
feats = backbone(x)
print(feats.requires_grad, feats.grad_fn, head(feats).grad_fn.name())

for p in backbone[2].parameters():
    p.requires_grad = True
opt = torch.optim.Adam([{"params": backbone[2].parameters(), "lr": 1e-3},
                        {"params": head.parameters(), "lr": 1e-2}])
opt.zero_grad()
nn.functional.cross_entropy(model(x), y).backward()
opt.step()
print(backbone[2].bias, [g["lr"] for g in opt.param_groups])
model.requires_grad_(False)
print(any(p.requires_grad for p in model.parameters()))
model.requires_grad_()
with torch.no_grad():
    out = model(x)
print(out.requires_grad, model(x).requires_grad)

G = det(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)))
D = det(nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1)), 0.4)
opt_g = torch.optim.Adam(G.parameters(), lr=0.01, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=0.01, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
real = torch.linspace(0, 1, 12).reshape(4, 3)
noise = torch.linspace(-1, 1, 8).reshape(4, 2)
for it in range(3):
    fake = G(noise)
    opt_d.zero_grad()
    d_loss = bce(D(real), torch.ones(4, 1)) + bce(D(fake.detach()), torch.zeros(4, 1))
    d_loss.backward()
    print("G grads after D step:", [p.grad for p in G.parameters()][0])
    opt_d.step()
    opt_g.zero_grad()
    g_loss = bce(D(fake), torch.ones(4, 1))
    g_loss.backward()
    opt_g.step()
    print(it, round(d_loss.item(), 6), round(g_loss.item(), 6), fake.detach().requires_grad, fake.requires_grad)

net = det(nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1)))
inp = torch.tensor([[10.0, -20.0, 30.0]])
net(inp).sum().backward()
print([p.grad for p in net.parameters()])
total = clip_grad_norm_(net.parameters(), max_norm=1.0)
print(total, torch.stack([p.grad.norm() for p in net.parameters()]).norm())
net.zero_grad()
net(inp).sum().backward()
print(clip_grad_norm_(net.parameters(), max_norm=5.0, norm_type=float("inf")), net[0].weight.grad)
net.zero_grad()
net(inp).sum().backward()
print(clip_grad_norm_(net.parameters(), 1.0, norm_type=1))
net.zero_grad()
net(inp).sum().backward()
clip_grad_value_(net.parameters(), clip_value=0.5)
print([p.grad for p in net.parameters()])
print(clip_grad_norm_([], 1.0))
print(clip_grad_norm_(nn.Linear(2, 2).parameters(), 1.0))
vec = parameters_to_vector(net.parameters())
print(vec.shape, vec[:5], vec.grad_fn.name() if vec.grad_fn else None)
vector_to_parameters(torch.arange(vec.numel(), dtype=torch.float32), net.parameters())
print(net[0].weight, net[1].bias)
n2 = nn.Linear(2, 2)
n2.weight.grad = torch.tensor([[float("nan"), 1.0], [0.0, 0.0]])
n2.bias.grad = torch.zeros(2)
print(clip_grad_norm_(n2.parameters(), 1.0))
try:
    clip_grad_norm_(n2.parameters(), 1.0, error_if_nonfinite=True)
except RuntimeError as e:
    print(type(e).__name__, e)
