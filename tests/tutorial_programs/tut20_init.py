"""Weight initialisation with nn.init, printing the weights and their statistics."""
import math

import torch
import torch.nn as nn

torch.manual_seed(0)

lin = nn.Linear(4, 3)
print(lin.weight)
print(lin.bias)
bound = 1 / math.sqrt(4)
print(bool((lin.weight.abs() <= bound).all()), bool((lin.bias.abs() <= bound).all()))

w = torch.empty(3, 5)
print(nn.init.constant_(w, 0.3))
print(nn.init.zeros_(w).sum(), nn.init.ones_(w).sum())
print(nn.init.eye_(torch.empty(3, 4)))
print(nn.init.dirac_(torch.empty(2, 2, 3)))
print(nn.init.uniform_(torch.empty(2, 3), a=-0.1, b=0.1))
print(nn.init.normal_(torch.empty(2, 3), mean=1.0, std=0.01))
print(nn.init.xavier_uniform_(torch.empty(3, 5)))
print(nn.init.xavier_normal_(torch.empty(3, 5), gain=2.0))
print(nn.init.kaiming_uniform_(torch.empty(4, 6), a=math.sqrt(5)))
print(nn.init.kaiming_normal_(torch.empty(4, 6), mode="fan_out", nonlinearity="relu"))
print(nn.init.trunc_normal_(torch.empty(2, 4), std=0.5, a=-1.0, b=1.0))
q = nn.init.orthogonal_(torch.empty(3, 5))
print(q)
print(torch.allclose(q @ q.T, torch.eye(3), atol=1e-5))
print(nn.init.sparse_(torch.empty(4, 3), sparsity=0.5))
for nl in ["linear", "conv2d", "sigmoid", "tanh", "relu", "selu"]:
    print(nl, nn.init.calculate_gain(nl))
print(nn.init.calculate_gain("leaky_relu", 0.2))

big = torch.empty(500, 400)
nn.init.xavier_uniform_(big)
print(round(big.std().item(), 2), round(math.sqrt(2.0 / 900), 3))
nn.init.kaiming_normal_(big, nonlinearity="relu")
print(round(big.std().item(), 2), round(math.sqrt(2.0 / 400), 3))

conv = nn.Conv2d(3, 8, 3)
print(conv.weight.shape, conv.bias.shape)
nn.init.kaiming_normal_(conv.weight, mode="fan_in")
nn.init.constant_(conv.bias, 0.01)
print(conv.bias)


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)
        print("init", m)


net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
net.apply(init_weights)
print(net[0].weight, net[2].bias)
print(net[0].weight.requires_grad, net[0].weight.grad_fn, net[0].weight.is_leaf)

try:
    nn.init.xavier_uniform_(torch.empty(3))
except ValueError as e:
    print(type(e).__name__, e)
try:
    nn.init.calculate_gain("swish")
except ValueError as e:
    print(type(e).__name__, e)
try:
    nn.init.kaiming_uniform_(torch.empty(2, 2), mode="fan_avg")
except ValueError as e:
    print(type(e).__name__, e)

with torch.no_grad():
    lin.weight.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]).expand(3, 4))
    lin.weight.mul_(0.5)
print(lin.weight)
lin.weight.data = torch.full((3, 4), 0.25)
print(lin(torch.ones(1, 4)) - lin.bias)
