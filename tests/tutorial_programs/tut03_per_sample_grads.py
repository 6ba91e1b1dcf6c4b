"""Per-sample gradients with torch.func: functional_call + vmap(grad), compared with a loop."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, vmap, grad

torch.manual_seed(0)


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.fc1 = nn.Linear(8 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def loss_fn(predictions, targets):
    return F.nll_loss(predictions, targets)


model = SimpleCNN().double()
batch = 6
data = torch.randn(batch, 1, 8, 8, dtype=torch.double)
targets = torch.randint(10, (batch,))
print(data.shape, targets.shape, targets.dtype)


def compute_grad(sample, target):
    sample = sample.unsqueeze(0)
    target = target.unsqueeze(0)
    prediction = model(sample)
    loss = loss_fn(prediction, target)
    return torch.autograd.grad(loss, list(model.parameters()))


per_sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch)]
per_sample_grads = list(zip(*per_sample_grads))
per_sample_grads = [torch.stack(shards) for shards in per_sample_grads]
print([tuple(g.shape) for g in per_sample_grads])

params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}
print(list(params.keys()))


def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    return loss_fn(predictions, targets)


ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)
for (name, g1), g2 in zip(ft_per_sample_grads.items(), per_sample_grads):
    print(name, tuple(g1.shape), torch.allclose(g1, g2, atol=1e-10, rtol=1e-8))
print(ft_per_sample_grads["fc2.bias"][0])

# an MLP, with per-sample loss values returned alongside (has_aux)
mlp = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 1))
xs = torch.randn(4, 5)
ys = torch.randn(4, 1)
p = dict(mlp.named_parameters())


def mlp_loss(p, x, y):
    pred = functional_call(mlp, p, (x,))
    loss = ((pred - y) ** 2).mean()
    return loss, pred


g, preds = vmap(grad(mlp_loss, has_aux=True), in_dims=(None, 0, 0))(p, xs, ys)
print({k: tuple(v.shape) for k, v in g.items()})
print(preds.shape)
print(g["2.bias"].detach())  # its grad_fn name can differ (AliasBackward0): see test_grad_batched.py's xfail
mean_grad = {k: v.mean(0) for k, v in g.items()}
full = torch.autograd.grad(((mlp(xs) - ys) ** 2).mean(), list(mlp.parameters()))
print(all(torch.allclose(a, b, atol=1e-6) for a, b in zip(mean_grad.values(), full)))

# grad with argnums
def f(a, b):
    return (a * b.sin()).sum()
ga, gb = grad(f, argnums=(0, 1))(torch.tensor([1.0, 2.0]), torch.tensor([0.5, -0.5]))
print(ga, gb)
try:
    grad(lambda t: t * 2)(torch.ones(3))
except RuntimeError as e:
    print(type(e).__name__, e)
