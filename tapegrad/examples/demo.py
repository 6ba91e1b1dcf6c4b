"""A walk through autograd as the learner notes teach it, printing each step (the main job until
the training example lands). Run: python -m tapegrad.examples.demo"""
from __future__ import annotations

import tapegrad as torch


def section(title: str) -> None:
    print()
    print("== " + title)


def main() -> None:
    torch.manual_seed(0)

    section("requires_grad and grad_fn")
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    print("x =", x)
    print("y.grad_fn:", type(y.grad_fn).__name__, "| out.grad_fn:", type(out.grad_fn).__name__)
    print("x.is_leaf:", x.is_leaf, "| y.is_leaf:", y.is_leaf)

    section("backward() of a scalar: d(out)/dx = 3 * (x + 2) / 2")
    out.backward()
    print(x.grad)

    section("backward(gradient) of a vector: a vector-Jacobian product")
    v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = v * 2
    w.backward(torch.tensor([0.1, 1.0, 0.0001]))
    print(v.grad)

    section("gradients accumulate until zeroed")
    inp = torch.eye(3, requires_grad=True)
    o = (inp + 1).pow(2)
    o.backward(torch.ones_like(inp), retain_graph=True)
    o.backward(torch.ones_like(inp), retain_graph=True)
    print("after two calls:", inp.grad)
    inp.grad.zero_()
    o.backward(torch.ones_like(inp))
    print("after zero_() and one call:", inp.grad)

    section("a freed graph cannot be walked twice")
    a = torch.tensor(2.0, requires_grad=True)
    b = a * a
    b.backward()
    try:
        b.backward()
    except RuntimeError as e:
        print("RuntimeError:", str(e).split(".")[0])

    section("create_graph: second derivative of x**3 at 2 is 12")
    p = torch.tensor(2.0, requires_grad=True)
    (g,) = torch.autograd.grad(p ** 3, p, create_graph=True)
    (gg,) = torch.autograd.grad(g, p)
    print("first:", g, "second:", gg)

    section("no_grad, detach, .data")
    with torch.no_grad():
        print("inside no_grad:", (p * 2).requires_grad)
    print("detach:", p.detach().requires_grad, "| .data:", p.data.requires_grad)

    section("retain_grad on an intermediate")
    h = p * 3
    h.retain_grad()
    (h * h).backward()
    print("h.grad =", h.grad, "| p.grad =", p.grad)

    section("a tiny logistic regression with binary_cross_entropy_with_logits")
    features = torch.randn(64, 3)
    labels = (features[:, 0] + 0.5 * features[:, 1] > 0).float()
    weight = torch.zeros(3, requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    for step in range(101):
        logits = features @ weight + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        loss.backward()
        with torch.no_grad():
            weight -= 0.5 * weight.grad
            bias -= 0.5 * bias.grad
        weight.grad.zero_()
        bias.grad.zero_()
        if step % 25 == 0:
            print(f"step {step:3d}  loss {loss.item():.4f}")
    accuracy = ((features @ weight + bias > 0).float() == labels).float().mean()
    print("accuracy:", accuracy.item())


if __name__ == "__main__":
    main()
