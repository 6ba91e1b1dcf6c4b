"""Custom autograd.Function under torch.func transforms (Note [Custom Functions under vmap]):
generate_vmap_rule, the vmap staticmethod, per-sample gradients through a backward that depends
on dims, backward after vmap returned, and torch's errors. Against torch."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tapegrad as tg


def _functions(L: Any) -> dict:
    class Cube(L.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x: Any) -> Any:
            return x ** 3, x * 1

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx: Any, g: Any, _: Any) -> Any:
            x, = ctx.saved_tensors
            return 3 * x ** 2 * g

    class Scale(L.autograd.Function):
        @staticmethod
        def forward(x: Any, k: float) -> Any:
            return x * k

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx: Any, g: Any) -> tuple:
            return g * ctx.k, None

        @staticmethod
        def vmap(info: Any, in_dims: tuple, x: Any, k: float) -> tuple:
            ctx_log.append((info.batch_size, info.randomness, in_dims, tuple(x.shape), type(info).__name__))
            return x.movedim(0, 1) * k, 1

    class RowSoftmax(L.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x: Any) -> Any:
            e = (x - x.max(-1, keepdim=True).values).exp()
            return e / e.sum(-1, keepdim=True)

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            y, = ctx.saved_tensors
            return y * (g - (g * y).sum(-1, keepdim=True))

    class NoRule(L.autograd.Function):
        @staticmethod
        def forward(x: Any) -> Any:
            return x * 2

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
            pass

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * 2

    class OldStyle(L.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * 2

    ctx_log: list = []
    return dict(Cube=Cube, Scale=Scale, RowSoftmax=RowSoftmax, NoRule=NoRule, OldStyle=OldStyle, log=ctx_log)


def _run(L: Any) -> list:
    F = _functions(L)
    vmap, grad = L.func.vmap, L.func.grad
    x = L.arange(6.).reshape(2, 3).double()
    X = L.tensor(np.linspace(-1, 1, 24).reshape(2, 3, 4))
    W = L.tensor(np.linspace(0, 1, 4))
    out: list = [
        vmap(lambda a: F["Cube"].apply(a)[0])(x),
        vmap(grad(lambda a: F["Cube"].apply(a)[0].sum()))(x),
        L.func.jacrev(lambda a: F["Cube"].apply(a)[0])(x[0]),
        vmap(lambda a: F["Scale"].apply(a, 3.0))(x),
        vmap(grad(lambda a: F["Scale"].apply(a, 3.0).sum()))(x),
        vmap(vmap(lambda a: F["Scale"].apply(a, 3.0)))(x.reshape(2, 3, 1)),
        vmap(grad(lambda a: (F["RowSoftmax"].apply(a) * W).sum()))(X),
        L.func.jacrev(F["RowSoftmax"].apply)(X[0, 0]),
        vmap(L.func.jacrev(F["RowSoftmax"].apply))(X[0]),
    ]
    Xr = X.clone().requires_grad_()
    (vmap(F["RowSoftmax"].apply)(Xr) * W).sum().backward()  # backward after vmap returned
    out.append(Xr.grad)
    Xr.grad = None
    Wr = W.clone().requires_grad_()
    vmap(lambda a, w: F["RowSoftmax"].apply(a) * w, in_dims=(0, None))(Xr, Wr).sum().backward()
    out += [Xr.grad, Wr.grad]
    errors = []
    for f in (lambda: vmap(F["NoRule"].apply)(x), lambda: vmap(F["OldStyle"].apply)(x),
              lambda: grad(lambda a: F["OldStyle"].apply(a).sum())(x[0])):
        with pytest.raises(RuntimeError) as info:
            f()
        errors.append(str(info.value))
    plain = grad(lambda a: F["NoRule"].apply(a).sum())(x[0])  # grad alone needs no vmap rule
    return [t.detach().numpy() for t in out] + [plain.numpy(), errors, F["log"]]


def test_custom_functions_under_transforms_match_torch() -> None:
    torch = pytest.importorskip("torch")
    got, want = _run(tg), _run(torch)
    assert got[-1] == want[-1]  # what the vmap staticmethod was given
    assert got[-2] == want[-2]  # the errors
    for g, w in zip(got[:-2], want[:-2]):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
