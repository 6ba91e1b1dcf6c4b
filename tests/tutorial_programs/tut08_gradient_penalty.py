"""WGAN-GP style gradient penalty: autograd.grad with create_graph=True, then backward."""
import torch
import torch.nn as nn

torch.manual_seed(0)

critic = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
generator = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 4))
opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.9))


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    d_interpolates = critic(interpolates)
    grads = torch.autograd.grad(outputs=d_interpolates, inputs=interpolates,
                                grad_outputs=torch.ones_like(d_interpolates),
                                create_graph=True, retain_graph=True, only_inputs=True)[0]
    print("  grads", grads.shape, grads.requires_grad, grads.grad_fn is not None)
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


real_data = torch.randn(8, 4) + 2.0
for step in range(3):
    z = torch.randn(8, 2)
    fake = generator(z).detach()
    opt_c.zero_grad()
    d_real = critic(real_data).mean()
    d_fake = critic(fake).mean()
    gp = gradient_penalty(critic, real_data, fake)
    loss_c = d_fake - d_real + 10.0 * gp
    loss_c.backward()
    print(step, "critic loss", loss_c.item(), "gp", gp.item())
    print("  grad norm", critic[0].weight.grad.norm().item())
    opt_c.step()

    opt_g.zero_grad()
    loss_g = -critic(generator(torch.randn(8, 2))).mean()
    loss_g.backward()
    opt_g.step()
    print(step, "gen loss", loss_g.item())

# R1 penalty on real data only, double-backward through a conv critic
conv_critic = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Softplus(), nn.Flatten(), nn.Linear(2 * 4 * 4, 1))
real = torch.randn(2, 1, 4, 4, requires_grad=True)
out = conv_critic(real)
g, = torch.autograd.grad(out.sum(), real, create_graph=True)
r1 = g.pow(2).reshape(g.shape[0], -1).sum(1).mean()
print(r1.grad_fn.name())
r1.backward()
print(conv_critic[0].weight.grad.shape, real.grad.shape)
print(conv_critic[0].weight.grad.abs().sum() > 0)

# a double-backward-unfriendly activation
try:
    x = torch.randn(3, requires_grad=True)
    y = torch.nn.functional.relu(x).sum()
    g, = torch.autograd.grad(y, x, create_graph=True)
    print(g.requires_grad)
    g.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, e)
