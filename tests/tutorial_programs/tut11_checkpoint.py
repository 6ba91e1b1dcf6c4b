"""torch.utils.checkpoint on a small network, compared to no checkpointing."""
import torch
import torch.nn as nn
import torch.utils.checkpoint as cp

torch.manual_seed(0)


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.lin1 = nn.Linear(d, d)
        self.lin2 = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return x + self.lin2(torch.tanh(self.lin1(self.norm(x))))


class Net(nn.Module):
    def __init__(self, d=8, n=3, use_ckpt=False):
        super().__init__()
        self.blocks = nn.ModuleList([Block(d) for _ in range(n)])
        self.head = nn.Linear(d, 1)
        self.use_ckpt = use_ckpt

    def forward(self, x):
        for blk in self.blocks:
            if self.use_ckpt:
                x = cp.checkpoint(blk, x, use_reentrant=False)
            else:
                x = blk(x)
        return self.head(x)


net = Net()
net_ck = Net(use_ckpt=True)
net_ck.load_state_dict(net.state_dict())
x = torch.randn(5, 8)
y = torch.randn(5, 1)

out1 = net(x)
out2 = net_ck(x)
print(torch.equal(out1, out2), out2.grad_fn.name())
nn.functional.mse_loss(out1, y).backward()
nn.functional.mse_loss(out2, y).backward()
for (n1, p1), (n2, p2) in zip(net.named_parameters(), net_ck.named_parameters()):
    print(n1, torch.allclose(p1.grad, p2.grad, atol=1e-6))

# input requiring grad, and checkpoint_sequential
seq = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
inp = torch.randn(3, 4, requires_grad=True)
o = cp.checkpoint_sequential(seq, 2, inp, use_reentrant=False)
o.sum().backward()
g1 = inp.grad.clone()
inp.grad = None
seq(inp).sum().backward()
print(torch.allclose(g1, inp.grad))
print(g1)

# a function with dropout: preserve_rng_state reproduces the same mask
def f(t):
    return nn.functional.dropout(t, 0.5, training=True) * 2
a = torch.ones(6, requires_grad=True)
r = cp.checkpoint(f, a, use_reentrant=False)
r.sum().backward()
print(torch.equal(a.grad, (r != 0).float() * 4))

# reentrant variant and the warning when use_reentrant is not given
b = torch.randn(3, requires_grad=True)
r = cp.checkpoint(lambda t: t.sin() * t, b, use_reentrant=True)
print(r.grad_fn.name())
r.sum().backward()
print(torch.allclose(b.grad, b.cos() * b + b.sin()))
try:
    cp.checkpoint(lambda t: t * 2, b)
except Exception as e:
    print(type(e).__name__, str(e)[:70])

# double backward through a non-reentrant checkpoint
c = torch.tensor([0.3, -1.2], requires_grad=True)
o = cp.checkpoint(lambda t: (t ** 3).sum(), c, use_reentrant=False)
g, = torch.autograd.grad(o, c, create_graph=True)
gg, = torch.autograd.grad(g.sum(), c)
print(g, gg)
