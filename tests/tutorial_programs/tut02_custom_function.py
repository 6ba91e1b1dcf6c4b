"""Custom autograd.Function: ctx-forward and setup_context forms, once_differentiable, mark_dirty,
mark_non_differentiable, double backward."""
import torch
from torch.autograd import Function
from torch.autograd.function import once_differentiable


class MyExp(Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        result, = ctx.saved_tensors
        return grad_output * result


class LinearFn(Function):
    @staticmethod
    def forward(input, weight, bias=None):
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias = inputs
        ctx.save_for_backward(input, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


class Cube(Function):
    @staticmethod
    def forward(x):
        return x ** 3, 3 * x ** 2

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        result, dx = output
        ctx.save_for_backward(x, dx)

    @staticmethod
    def backward(ctx, grad_output, grad_dx):
        x, dx = ctx.saved_tensors
        return grad_output * dx + grad_dx * 6 * x


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * 2 * x


class AddOneInplace(Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g


class SortWithIdx(Function):
    @staticmethod
    def forward(ctx, x):
        values, idx = x.sort()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        return values, idx

    @staticmethod
    def backward(ctx, g, _g_idx):
        idx, = ctx.saved_tensors
        out = torch.zeros_like(g)
        out.index_add_(0, idx, g)
        return out


class ScaleNoMat(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        return x.clone(), x.clone()

    @staticmethod
    def backward(ctx, g1, g2):
        out = torch.zeros(3)
        if g1 is not None:
            out = out + g1
        if g2 is not None:
            out = out + 2 * g2
        print("  g1 is None:", g1 is None, "g2 is None:", g2 is None)
        return out


torch.manual_seed(0)
x = torch.randn(3, requires_grad=True, dtype=torch.double)
y = MyExp.apply(x)
print(y.grad_fn, type(y.grad_fn).__name__)
y.sum().backward()
print(torch.allclose(x.grad, x.exp()))

inp = torch.randn(4, 3, requires_grad=True, dtype=torch.double)
w = torch.randn(2, 3, requires_grad=True, dtype=torch.double)
b = torch.randn(2, requires_grad=True, dtype=torch.double)
out = LinearFn.apply(inp, w, b)
print(out.shape, out.grad_fn.name())
out.sum().backward()
print(w.grad)
print(b.grad)
print(torch.autograd.gradcheck(LinearFn.apply, (inp, w, b), eps=1e-6, atol=1e-4))

c = torch.tensor([1.0, 2.0], requires_grad=True)
r = MulConstant.apply(c, 5.5)
r.sum().backward()
print(r, c.grad)

x = torch.tensor([1.0, 2.0], requires_grad=True, dtype=torch.double)
y, dy = Cube.apply(x)
gx, = torch.autograd.grad(y.sum(), x, create_graph=True)
print(gx, gx.grad_fn is not None)
ggx, = torch.autograd.grad(gx.sum(), x)
print(ggx)
print(torch.autograd.gradgradcheck(lambda t: Cube.apply(t)[0], (x,)))

x = torch.tensor([1.0, -3.0], requires_grad=True)
y = Square.apply(x)
g, = torch.autograd.grad(y.sum(), x, create_graph=True)
print(g, g.requires_grad)
try:
    g.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, e)

leaf = torch.tensor([1.0, 2.0], requires_grad=True)
z = leaf.clone()
w2 = AddOneInplace.apply(z)
print(w2 is z, w2, w2.grad_fn.name())
(w2 * 2).sum().backward()
print(leaf.grad)
try:
    AddOneInplace.apply(leaf)
except RuntimeError as e:
    print(type(e).__name__, e)

x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
vals, idx = SortWithIdx.apply(x)
print(vals, idx, vals.requires_grad, idx.requires_grad)
(vals * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
print(x.grad)

x = torch.ones(3, requires_grad=True)
a, b2 = ScaleNoMat.apply(x)
a.sum().backward()
print(x.grad)

class Bad(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g, g

try:
    Bad.apply(torch.ones(2, requires_grad=True)).sum().backward()
except RuntimeError as e:
    print(type(e).__name__, e)

try:
    MyExp(torch.ones(1))
except Exception as e:
    print(type(e).__name__)
