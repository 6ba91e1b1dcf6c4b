"""gradcheck / gradgradcheck usage and detect_anomaly catching a nan."""
import torch
import warnings
from torch.autograd import gradcheck, gradgradcheck

torch.manual_seed(0)

inp = (torch.randn(20, 20, dtype=torch.double, requires_grad=True),
       torch.randn(30, 20, dtype=torch.double, requires_grad=True))
print(gradcheck(torch.nn.functional.linear, inp, eps=1e-6, atol=1e-4))
print(gradgradcheck(torch.nn.functional.linear, inp))

x = torch.randn(4, 3, dtype=torch.double, requires_grad=True)
print(gradcheck(lambda t: t.softmax(-1), (x,)))
print(gradcheck(lambda t: torch.logsumexp(t, 1), (x,), fast_mode=True))
print(gradgradcheck(lambda t: (t.sigmoid() * t.tanh()).sum(0), (x,)))
print(gradcheck(lambda t: t.sin(), (x,), check_forward_ad=True))


class BadGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x


try:
    gradcheck(BadGrad.apply, (x,))
except Exception as e:
    print(type(e).__name__, str(e).splitlines()[0])
print(gradcheck(BadGrad.apply, (x,), raise_exception=False))

with warnings.catch_warnings(record=True) as rec:
    warnings.simplefilter("always")
    xf = torch.randn(3, requires_grad=True)
    try:
        r = gradcheck(lambda t: t * 2, (xf,))
        print(r)
    except Exception as e:
        print(type(e).__name__, str(e).splitlines()[0])
    print([w.category.__name__ for w in rec])
    print([str(w.message)[:100] for w in rec])


class MyFunc(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inp):
        ctx.save_for_backward(inp)
        return inp.clone()

    @staticmethod
    def backward(ctx, gO):
        raise RuntimeError("Some error in backward")


inp = torch.rand(10, 10, requires_grad=True)
out = MyFunc.apply(inp)
try:
    out.sum().backward()
except RuntimeError as e:
    print(type(e).__name__, e)

with warnings.catch_warnings(record=True) as rec:
    warnings.simplefilter("always")
    with torch.autograd.detect_anomaly():
        print(torch.is_anomaly_enabled())
        a = torch.tensor([0.0, 1.0], requires_grad=True)
        b = a.sqrt()
        c = (b * 0.0).sum()
        try:
            d = torch.tensor([-1.0, 1.0], requires_grad=True)
            e_ = d.log() * 0 + d
            e_.sum().backward()
            print("no error", d.grad)
        except RuntimeError as e:
            print(type(e).__name__, str(e).splitlines()[0])
        try:
            x = torch.tensor([0.0], requires_grad=True)
            y = torch.sqrt(x) * 0
            y.backward()
        except RuntimeError as e:
            print(type(e).__name__, str(e).splitlines()[0])
    print(torch.is_anomaly_enabled())
    # NumPy's RuntimeWarnings inside such a block: tut17_numpy_warnings.py
    print(sorted(set(w.category.__name__ for w in rec if w.category is not RuntimeWarning)))

with torch.autograd.set_detect_anomaly(True, check_nan=False):
    print(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())
    x = torch.tensor([0.0], requires_grad=True)
    (torch.sqrt(x) * 0).backward()
    print(x.grad)
print(torch.is_anomaly_enabled())

# nan without anomaly mode just propagates
x = torch.tensor([0.0, 4.0], requires_grad=True)
(x.sqrt() * 0).sum().backward()
print(x.grad)
