"""Jacobians, Hessians, hvp: torch.func and torch.autograd.functional."""
import torch
from torch.func import jacrev, jacfwd, hessian, vmap, vjp, jvp
import torch.autograd.functional as AF

torch.manual_seed(0)


def predict(weight, bias, x):
    return torch.nn.functional.linear(x, weight, bias).tanh()


D = 4
weight = torch.randn(D, D)
bias = torch.randn(D)
x = torch.randn(D)

ft_jacobian = jacrev(predict, argnums=2)(weight, bias, x)
print(ft_jacobian.shape)
print(ft_jacobian)
jf = jacfwd(predict, argnums=2)(weight, bias, x)
print(torch.allclose(ft_jacobian, jf, atol=1e-6))

# Jacobian by rows with vjp
_, vjp_fn = vjp(lambda x: predict(weight, bias, x), x)
unit_vectors = torch.eye(D)
rows = [vjp_fn(v)[0] for v in unit_vectors.unbind()]
print(torch.allclose(torch.stack(rows), ft_jacobian))
print(torch.allclose(vmap(vjp_fn)(unit_vectors)[0], ft_jacobian))

# with respect to several arguments
jw, jb = jacrev(predict, argnums=(0, 1))(weight, bias, x)
print(jw.shape, jb.shape)

# hessian
def f(x):
    return x.sin().sum() + (x ** 3).prod()
x3 = torch.tensor([0.5, 1.0, -0.3])
h1 = hessian(f)(x3)
h2 = jacfwd(jacrev(f))(x3)
h3 = jacrev(jacrev(f))(x3)
print(h1)
print(torch.allclose(h1, h2, atol=1e-6), torch.allclose(h1, h3, atol=1e-6))

# batched jacobians
batch_size = 3
xb = torch.randn(batch_size, D)
compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
bj = compute_batch_jacobian(weight, bias, xb)
print(bj.shape)
def predict_with_output_summed(weight, bias, x):
    return predict(weight, bias, x).sum(0)
bj2 = jacrev(predict_with_output_summed, argnums=2)(weight, bias, xb).movedim(1, 0)
print(bj2.shape, torch.allclose(bj, bj2, atol=1e-6))
bh = vmap(hessian(lambda v: (v ** 4).sum()))(xb[:, :2])
print(bh.shape)
print(bh)

# hvp via forward-over-reverse
def hvp(f, primals, tangents):
    return jvp(jacrev(f), primals, tangents)[1]
v = torch.tensor([1.0, 0.0, 2.0])
print(hvp(f, (x3,), (v,)))
print(h1 @ v)

# torch.autograd.functional
def exp_reducer(x):
    return x.exp().sum(dim=1)
inputs = torch.rand(2, 2)
print(AF.jacobian(exp_reducer, inputs))
j = AF.jacobian(exp_reducer, inputs, create_graph=True)
print(j.grad_fn is not None, j.requires_grad)
print(AF.jacobian(exp_reducer, inputs, vectorize=True).shape)
print(torch.allclose(AF.jacobian(exp_reducer, inputs, vectorize=True, strategy="forward-mode"),
                     AF.jacobian(exp_reducer, inputs)))
def exp_adder(x, y):
    return 2 * x.exp() + 3 * y
ji = AF.jacobian(exp_adder, (torch.rand(2), torch.rand(2)))
print(type(ji).__name__, [t.shape for t in ji])
print(ji[1])

def pow_reducer(x):
    return x.pow(3).sum()
inp = torch.rand(2, 2)
print(AF.hessian(pow_reducer, inp).shape)
print(torch.allclose(AF.hessian(pow_reducer, inp, vectorize=True), AF.hessian(pow_reducer, inp)))
print(torch.allclose(AF.hessian(pow_reducer, inp, vectorize=True, outer_jacobian_strategy="forward-mode"),
                     AF.hessian(pow_reducer, inp)))
def pow_adder_reducer(x, y):
    return (2 * x.pow(2) + 3 * y.pow(2)).sum()
hh = AF.hessian(pow_adder_reducer, (torch.rand(2), torch.rand(2)))
print(hh)

def exp_reducer2(x):
    return x.exp().sum(dim=1)
inputs = torch.tensor([[0.1, 0.2], [0.3, 0.4]])
v = torch.ones(2)
out, vjp_val = AF.vjp(exp_reducer2, inputs, v)
print(out, vjp_val)
out, jvp_val = AF.jvp(exp_reducer2, inputs, torch.ones(2, 2))
print(out, jvp_val)
def pow_reducer2(x):
    return x.pow(3).sum()
out, hvp_val = AF.hvp(pow_reducer2, inputs, torch.ones(2, 2))
print(out, hvp_val)
out, vhp_val = AF.vhp(pow_reducer2, inputs, torch.ones(2, 2))
print(out, vhp_val)
try:
    AF.jvp(exp_reducer2, inputs)
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    AF.hessian(exp_reducer2, inputs)
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    AF.jacobian(exp_reducer, inputs, strategy="forward-mode")
except NotImplementedError as e:
    print(type(e).__name__, e)
print(AF.jacobian(lambda t: torch.zeros(2), inputs))
try:
    AF.jacobian(lambda t: torch.zeros(2), inputs, strict=True)
except RuntimeError as e:
    print(type(e).__name__, e)
