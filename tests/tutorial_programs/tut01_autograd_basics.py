"""Autograd basics: requires_grad, backward with a vector, accumulation, retain_graph, no_grad, hooks."""
import torch

torch.manual_seed(0)

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
print(type(y.grad_fn).__name__, y.grad_fn.name())
z = y * y * 3
out = z.mean()
print(z, out)
out.backward()
print(x.grad)
print(x.is_leaf, y.is_leaf, y.requires_grad)

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)

# backward with a vector (vector-Jacobian product)
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x * 2
k = 0
while y.data.norm() < 100:
    y = y * 2
    k += 1
print(k, y)
v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)
print(x.grad)

try:
    x2 = torch.randn(3, requires_grad=True)
    (x2 * 2).backward()
except RuntimeError as e:
    print(type(e).__name__, e)

# gradient accumulation and zero_
w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
for i in range(3):
    loss = (w ** 2).sum()
    loss.backward()
    print(i, w.grad)
w.grad.zero_()
print(w.grad)
w.grad = None
print(w.grad)

# retain_graph
x = torch.tensor(2.0, requires_grad=True)
y = x ** 3
y.backward(retain_graph=True)
print(x.grad)
y.backward()
print(x.grad)
try:
    y.backward()
except RuntimeError as e:
    print(type(e).__name__, str(e).splitlines()[0])

# no_grad and detach
x = torch.randn(3, requires_grad=True)
print(x.requires_grad, (x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
d = x.detach()
print(d.requires_grad, d.is_leaf, x.eq(d).all())
print(torch.is_grad_enabled())
with torch.set_grad_enabled(False):
    print(torch.is_grad_enabled(), (x * 2).grad_fn)

@torch.no_grad()
def doubler(t):
    return t * 2
print(doubler(x).requires_grad)
with torch.inference_mode():
    q = x * 3
print(q.requires_grad, q.is_inference())

# tensor hooks
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
h = x.register_hook(lambda g: g * 10)
y = (x * x).sum()
y.backward()
print(x.grad)
h.remove()
x.grad = None
(x * x).sum().backward()
print(x.grad)

seen = []
m = torch.tensor([1.0, 2.0], requires_grad=True)
mid = m * 3
mid.register_hook(lambda g: seen.append(g.clone()))
mid.retain_grad()
(mid ** 2).sum().backward()
print(seen, mid.grad, m.grad)
print(mid.retains_grad, m.retains_grad)

# non-leaf grad warning path: accessing .grad of a non-leaf without retain_grad
import warnings
with warnings.catch_warnings(record=True) as rec:
    warnings.simplefilter("always")
    nl = m * 2
    nl.sum().backward()
    print(nl.grad)
    print(len(rec), rec[0].category.__name__ if rec else None)
    print(str(rec[0].message)[:80] if rec else None)

# next_functions walk
x = torch.randn(2, requires_grad=True)
y = (x.exp() + x.sin()).sum()
print(y.grad_fn.name())
for fn, idx in y.grad_fn.next_functions:
    print(fn.name() if fn is not None else None, idx)
    for fn2, idx2 in fn.next_functions:
        print("  ", fn2.name() if fn2 is not None else None, idx2)
