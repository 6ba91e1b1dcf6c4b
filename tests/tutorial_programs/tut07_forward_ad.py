"""Forward-mode AD with torch.autograd.forward_ad, including nn.Module layers."""
import torch
import torch.nn as nn
import torch.autograd.forward_ad as fwAD
from torch.func import functional_call, jvp

torch.manual_seed(0)

primal = torch.randn(10, 10)
tangent = torch.randn(10, 10)


def fn(x, y):
    return x ** 2 + y ** 2


with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    print(fwAD.unpack_dual(dual_input).tangent is tangent)
    dual_input_alt = fwAD.make_dual(primal, tangent.T)
    print(fwAD.unpack_dual(dual_input_alt).tangent is tangent)
    plain_tensor = torch.randn(10, 10)
    dual_output = fn(dual_input, plain_tensor)
    jvp_out = fwAD.unpack_dual(dual_output).tangent
    print(type(fwAD.unpack_dual(dual_output)).__name__)
    print(torch.allclose(jvp_out, 2 * primal * tangent))
    p, t = fwAD.unpack_dual(dual_output)
    print(p.shape, t.shape)
print(fwAD.unpack_dual(dual_output).tangent)

# through a module
model = nn.Linear(5, 5)
input = torch.randn(16, 5)
params = {name: p for name, p in model.named_parameters()}
tangents = {name: torch.rand_like(p) for name, p in params.items()}
with fwAD.dual_level():
    for name, p in params.items():
        delattr(model, name)
        setattr(model, name, fwAD.make_dual(p, tangents[name]))
    out = model(input)
    jvp_result = fwAD.unpack_dual(out).tangent
print(jvp_result.shape)
expected = input @ tangents["weight"].T + tangents["bias"]
print(torch.allclose(jvp_result, expected, atol=1e-6))

# functional_call version
model = nn.Linear(5, 5)
dual_params = {}
with fwAD.dual_level():
    for name, p in params.items():
        dual_params[name] = fwAD.make_dual(p, tangents[name])
    out = functional_call(model, dual_params, input)
    jvp_result2 = fwAD.unpack_dual(out).tangent
print(torch.allclose(jvp_result, jvp_result2))

# through nonlinear layers and compare with torch.func.jvp
mlp = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.Softplus())
x = torch.randn(2, 3)
v = torch.randn(2, 3)
with fwAD.dual_level():
    out = mlp(fwAD.make_dual(x, v))
    p_out, t_out = fwAD.unpack_dual(out)
_, t2 = jvp(mlp, (x,), (v,))
print(torch.allclose(t_out, t2, atol=1e-6))
print(t_out)

# custom Function with jvp
class Fn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, foo):
        result = torch.exp(foo)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, gI):
        gO = gI * ctx.result
        del ctx.result
        return gO

fn_ = Fn.apply
primal = torch.randn(5, dtype=torch.double)
tangent = torch.randn(5, dtype=torch.double)
with fwAD.dual_level():
    dual_output = fn_(fwAD.make_dual(primal, tangent))
    jvp_output = fwAD.unpack_dual(dual_output).tangent
print(torch.allclose(jvp_output, tangent * primal.exp()))
print(torch.autograd.gradcheck(Fn.apply, (primal.requires_grad_(),), check_forward_ad=True,
                               check_backward_ad=False, check_undefined_grad=False, check_batched_grad=False))

# nested levels and errors
with fwAD.dual_level():
    d = fwAD.make_dual(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
    y = d.sin() * d
    print(fwAD.unpack_dual(y).tangent)
    try:
        fwAD.make_dual(torch.ones(2), torch.ones(3))
    except RuntimeError as e:
        print(type(e).__name__, str(e)[:60])
try:
    fwAD.make_dual(torch.ones(2), torch.ones(2))
except RuntimeError as e:
    print(type(e).__name__, e)
