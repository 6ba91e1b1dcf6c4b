"""Module forward/backward hooks, post-accumulate-grad hooks, saved_tensors_hooks."""
import torch
import torch.nn as nn

torch.manual_seed(0)

model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
activations = {}


def save_activation(name):
    def hook(module, inp, out):
        activations[name] = out.detach()
        print("fwd", name, type(module).__name__, type(inp).__name__, len(inp), tuple(out.shape))
    return hook


handles = [m.register_forward_hook(save_activation(n)) for n, m in model.named_children()]


def pre_hook(module, args):
    print("pre", type(module).__name__, tuple(args[0].shape))
    return (args[0] * 2,)


ph = model[0].register_forward_pre_hook(pre_hook)
x = torch.randn(5, 3)
out = model(x)
print(sorted(activations.keys()))
print(torch.allclose(activations["2"], out))
ph.remove()
print(torch.allclose(model(x), out))


def bwd_hook(module, grad_input, grad_output):
    print("bwd", type(module).__name__, [None if g is None else tuple(g.shape) for g in grad_input],
          [tuple(g.shape) for g in grad_output])


def bwd_pre_hook(module, grad_output):
    print("bwd_pre", type(module).__name__, len(grad_output))


for h in handles:
    h.remove()
bh = [m.register_full_backward_hook(bwd_hook) for m in model]
bp = model[2].register_full_backward_pre_hook(bwd_pre_hook)
inp = torch.randn(2, 3, requires_grad=True)
model(inp).sum().backward()
model.zero_grad()
model(torch.randn(2, 3)).sum().backward()


# modifying grad_input in a backward hook
def clip_hook(module, grad_input, grad_output):
    return tuple(None if g is None else g.clamp(-0.01, 0.01) for g in grad_input)


for h in bh:
    h.remove()
bp.remove()
lin = nn.Linear(3, 3)
hh = lin.register_full_backward_hook(clip_hook)
inp = torch.randn(2, 3, requires_grad=True)
(lin(inp) * 100).sum().backward()
print(inp.grad.abs().max() <= 0.01)
hh.remove()

# forward hook with kwargs
def fwd_kw(module, args, kwargs, out):
    print("kw hook", sorted(kwargs.keys()))
    return out + 1
lin2 = nn.Linear(2, 2)
lin2.register_forward_hook(fwd_kw, with_kwargs=True)
print(lin2(torch.zeros(1, 2)) - lin2.bias)

# post accumulate grad hook: optimizer-in-backward
p = nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
opt = torch.optim.SGD([p], lr=0.1)


def step_hook(param):
    opt.step()
    opt.zero_grad()
    print("stepped", param.grad)


p.register_post_accumulate_grad_hook(step_hook)
(p ** 2).sum().backward()
print(p)
try:
    (p * 2).register_post_accumulate_grad_hook(step_hook)
except RuntimeError as e:
    print(type(e).__name__, e)

# saved tensor hooks
def pack_hook(x):
    print("packing", tuple(x.shape))
    return x * 1

def unpack_hook(x):
    print("unpacking", tuple(x.shape))
    return x

a = torch.ones(5, requires_grad=True)
b = torch.ones(5, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = a * b
y.sum().backward()
print(a.grad)

store = {}
def pack_to_dict(t):
    key = len(store)
    store[key] = t.detach().clone()
    return key
def unpack_from_dict(key):
    return store[key]
x = torch.randn(3, requires_grad=True)
with torch.autograd.graph.saved_tensors_hooks(pack_to_dict, unpack_from_dict):
    y = x.exp().sin()
print(len(store))
print(y.grad_fn._saved_self.shape, x.exp().grad_fn._saved_result.shape)
y.sum().backward()
print(torch.allclose(x.grad, x.exp().cos() * x.exp()))
try:
    y.grad_fn._saved_self
except RuntimeError as e:
    print(type(e).__name__, str(e)[:60])

with torch.autograd.graph.save_on_cpu():
    z = (x * x).sum()
z.backward()
print(x.grad)

with torch.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
            pass
    except RuntimeError as e:
        print(type(e).__name__, e)
