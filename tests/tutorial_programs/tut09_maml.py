"""MAML-style meta-learning on sine regression: inner loop with higher-order gradients."""
import math
import torch
import torch.nn.functional as F
from torch.func import grad, functional_call, vmap

torch.manual_seed(0)


def net(params, x):
    x = F.linear(x, params[0], params[1])
    x = F.relu(x)
    x = F.linear(x, params[2], params[3])
    x = F.relu(x)
    x = F.linear(x, params[4], params[5])
    return x


params = [
    torch.Tensor(16, 1).uniform_(-1.0, 1.0).requires_grad_(),
    torch.Tensor(16).zero_().requires_grad_(),
    torch.Tensor(16, 16).uniform_(-1.0 / math.sqrt(16), 1.0 / math.sqrt(16)).requires_grad_(),
    torch.Tensor(16).zero_().requires_grad_(),
    torch.Tensor(1, 16).uniform_(-1.0 / math.sqrt(16), 1.0 / math.sqrt(16)).requires_grad_(),
    torch.Tensor(1).zero_().requires_grad_(),
]
opt = torch.optim.Adam(params, lr=1e-3)


def sample_tasks(num_tasks, n):
    As = torch.rand(num_tasks, 1, 1) * 4.9 + 0.1
    phases = torch.rand(num_tasks, 1, 1) * math.pi
    x1 = torch.rand(num_tasks, n, 1) * 10 - 5
    x2 = torch.rand(num_tasks, n, 1) * 10 - 5
    return x1, As * torch.sin(x1 + phases), x2, As * torch.sin(x2 + phases)


def inner_loop(x, y, x2, y2, params, n_inner_iter=1, alpha=0.1):
    new_params = params
    for _ in range(n_inner_iter):
        f = net(new_params, x)
        loss = F.mse_loss(f, y)
        grads = torch.autograd.grad(loss, new_params, create_graph=True)
        new_params = [w - alpha * g for w, g in zip(new_params, grads)]
    v_f = net(new_params, x2)
    return F.mse_loss(v_f, y2)


for it in range(4):
    x1, y1, x2, y2 = sample_tasks(3, 8)
    opt.zero_grad()
    losses = [inner_loop(x1[i], y1[i], x2[i], y2[i], params) for i in range(3)]
    meta = sum(losses) / 3
    meta.backward()
    opt.step()
    print(it, round(meta.item(), 4), params[0].grad.norm().item() > 0)
print(losses[0].grad_fn.name())

# the same with torch.func: grad of a function that itself takes grads
def loss_fn(params, x, y):
    return F.mse_loss(net(params, x), y)


def maml_loss(params, x, y, x2, y2):
    g = grad(loss_fn)(params, x, y)
    adapted = [p - 0.1 * gi for p, gi in zip(params, g)]
    return loss_fn(adapted, x2, y2)


x1, y1, x2, y2 = sample_tasks(3, 8)
detached = [p.detach() for p in params]
meta_grads = vmap(grad(maml_loss), in_dims=(None, 0, 0, 0, 0))(detached, x1, y1, x2, y2)
print([tuple(g.shape) for g in meta_grads])
ref = [torch.autograd.grad(inner_loop(x1[i], y1[i], x2[i], y2[i], params), params) for i in range(3)]
for k in range(6):
    print(k, torch.allclose(meta_grads[k], torch.stack([r[k] for r in ref]), atol=1e-5))

# first-order vs second-order difference on a scalar toy
w = torch.tensor(1.5, requires_grad=True)
inner = (w * 2.0 - 1.0) ** 2
gw, = torch.autograd.grad(inner, w, create_graph=True)
w_adapt = w - 0.1 * gw
outer = (w_adapt * 3.0) ** 2
second, = torch.autograd.grad(outer, w, retain_graph=True)
w_fo = w - 0.1 * gw.detach()
first, = torch.autograd.grad((w_fo * 3.0) ** 2, w)
print(second, first)
