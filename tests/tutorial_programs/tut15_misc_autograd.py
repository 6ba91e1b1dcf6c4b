"""Other common autograd idioms: autograd.grad options, in-place errors, leaf checks, dtypes."""
import torch

torch.manual_seed(0)

# grad w.r.t. several inputs, allow_unused, materialize_grads
a = torch.tensor(2.0, requires_grad=True)
b = torch.tensor(3.0, requires_grad=True)
c = torch.tensor(4.0, requires_grad=True)
y = a * b
print(torch.autograd.grad(y, (a, b), retain_graph=True))
try:
    torch.autograd.grad(y, (a, c), retain_graph=True)
except RuntimeError as e:
    print(type(e).__name__, e)
print(torch.autograd.grad(y, (a, c), allow_unused=True, retain_graph=True))
print(torch.autograd.grad(y, (a, c), materialize_grads=True, retain_graph=True))
print(torch.autograd.grad([y, y * 2], [a]))

# in-place on a leaf / on a saved tensor
w = torch.randn(3, requires_grad=True)
try:
    w.add_(1)
except RuntimeError as e:
    print(type(e).__name__, e)
with torch.no_grad():
    w.add_(1)
print(w.requires_grad, w.is_leaf)
x = torch.randn(3, requires_grad=True)
s = x.sigmoid()
s.mul_(2)
try:
    s.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, str(e).splitlines()[0])
print(s._version)

x = torch.randn(3, requires_grad=True)
y = x * 1
z = y.exp()
y.add_(1)
try:
    z.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, str(e)[:140])

# view + in-place rebase
x = torch.randn(4, requires_grad=True)
y = x.clone()
v = y[:2]
v.mul_(3)
print(y.grad_fn.name(), v.grad_fn.name())
y.sum().backward()
print(x.grad)

# integer tensors can't require grad
try:
    torch.tensor([1, 2], requires_grad=True)
except RuntimeError as e:
    print(type(e).__name__, e)
print(torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True).double().dtype)

# complex autograd: tut18_complex_autograd.py

# grad through indexing, where, masked ops
x = torch.arange(6.0, requires_grad=True)
y = torch.where(x > 2, x ** 2, -x)
y[1:4].sum().backward()
print(x.grad)
x.grad = None
x[x > 3].sum().backward()
print(x.grad)
m = torch.randn(3, 3, requires_grad=True)
out = m.masked_fill(m < 0, 0.0).sum()
out.backward()
print(m.grad.eq((m >= 0).float()).all())

# requires_grad propagation with mixed leaves
p = torch.randn(2, requires_grad=True)
q = torch.randn(2)
r = p + q
print(r.requires_grad, q.requires_grad, r.grad_fn.next_functions)

# backward on non-scalar with gradient argument; inputs=
x = torch.randn(3, requires_grad=True)
y = torch.randn(3, requires_grad=True)
z = x * y
z.backward(torch.ones(3), inputs=[x], retain_graph=True)
print(y.grad, torch.equal(x.grad, y))
torch.autograd.backward([z.sum()], inputs=[y])
print(torch.equal(y.grad, x))

# Tensor.retain_grad repr, grad_fn metadata
t = torch.randn(2, 2, requires_grad=True)
u = t @ t
print(u.grad_fn, u.grad_fn.metadata)
print(repr(t.detach().requires_grad_()))
print(torch.ones(2, requires_grad=True).sum())
print(torch.ones(2, 3, requires_grad=True).mean(dim=0))
print(torch.zeros(1, requires_grad=True).float())
print(torch.ones(2, dtype=torch.float64, requires_grad=True) * 2)
print(torch.ones(2, requires_grad=True).to(torch.float64))
print(torch.ones((2,), requires_grad=True).unsqueeze(0).expand(3, 2).contiguous().grad_fn)
