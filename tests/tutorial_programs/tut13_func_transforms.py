"""torch.func.linearize, jvp of grad, vmap with in_dims/out_dims/chunk_size/randomness."""
import torch
import torch.nn.functional as F
from torch.func import linearize, jvp, grad, vmap, vjp, jacrev

torch.manual_seed(0)

x = torch.randn(3)
def f(x):
    return x.sin() * x.cos().exp()
out, jvp_fn = linearize(f, x)
print(out.shape, torch.allclose(out, f(x)))
t = torch.randn(3)
print(torch.allclose(jvp_fn(t), jvp(f, (x,), (t,))[1], atol=1e-6))
print(jvp_fn(torch.ones(3)))
try:
    jvp_fn(torch.ones(4))
except Exception as e:
    print(type(e).__name__)

# forward-over-reverse hessian-vector product
def g(x):
    return (x ** 3).sum() + x.prod()
xs = torch.tensor([1.0, 2.0, 3.0])
v = torch.tensor([1.0, 0.0, -1.0])
primal, hvp_val = jvp(grad(g), (xs,), (v,))
print(primal, hvp_val)
_, vjp_fn = vjp(grad(g), xs)
print(vjp_fn(v))

# jvp with has_aux
def h(x):
    y = x.tanh()
    return y.sum(), {"y": y}
print(jvp(h, (xs,), (v,), has_aux=True))

# vmap in_dims/out_dims
def dot(a, b):
    return (a * b).sum()
A = torch.randn(4, 3)
B = torch.randn(3, 4)
print(vmap(dot, in_dims=(0, 1))(A, B).shape)
print(vmap(torch.outer, in_dims=(0, None), out_dims=1)(A, torch.ones(2)).shape)
print(vmap(lambda a: (a, a.sum()), out_dims=(1, 0))(A)[0].shape)
r = vmap(lambda d: d["x"] * d["y"], in_dims=({"x": 0, "y": None},))({"x": A, "y": torch.ones(3)})
print(r.shape)
print(vmap(vmap(dot))(torch.randn(2, 5, 3), torch.randn(2, 5, 3)).shape)
print(torch.allclose(vmap(F.linear, in_dims=(0, None))(torch.randn(6, 2, 3), torch.randn(4, 3)).sum(),
                     vmap(F.linear, in_dims=(0, None), chunk_size=2)(torch.randn(6, 2, 3), torch.randn(4, 3)).sum()) in (True, False))
X = torch.randn(7, 3)
W = torch.randn(3, 3)
a1 = vmap(lambda x: x @ W, chunk_size=3)(X)
a2 = vmap(lambda x: x @ W)(X)
print(torch.allclose(a1, a2), a1.shape)
print(torch.func.vmap(torch.sum, in_dims=1)(B))
print(torch.vmap(torch.dot)(A, A))

# errors
try:
    vmap(dot)(A, torch.randn(5, 3))
except ValueError as e:
    print(type(e).__name__, str(e)[:90])
try:
    vmap(lambda a: a.item())(A)
except RuntimeError as e:
    print(type(e).__name__, str(e).splitlines()[0][:90])
try:
    vmap(dot, in_dims=(0,))(A, A)
except ValueError as e:
    print(type(e).__name__, str(e)[:90])

# randomness
def drop(x):
    return F.dropout(x, 0.5, training=True)
ones = torch.ones(4, 6)
try:
    vmap(drop)(ones)
except RuntimeError as e:
    print(type(e).__name__, str(e)[:80])
d = vmap(drop, randomness="different")(ones)
print(d.shape, set(d.unique().tolist()) <= {0.0, 2.0}, bool((d[0] != d[1]).any() | (d[1] != d[2]).any()))
s = vmap(drop, randomness="same")(ones)
print(torch.equal(s[0], s[1]), torch.equal(s[1], s[3]))
e = vmap(lambda x: x + torch.rand(()), randomness="error", in_dims=0)
try:
    e(ones)
except RuntimeError as err:
    print(type(err).__name__, str(err)[:80])
print(vmap(lambda x: x + torch.rand(6), randomness="same")(ones).shape)

# per-example jacobian with chunks
def net(x):
    return torch.tanh(x @ W).sum()
print(vmap(jacrev(net), chunk_size=2)(X).shape)
print(vmap(grad(net))(X)[0])
