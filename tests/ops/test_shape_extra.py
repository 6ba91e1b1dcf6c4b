"""split/chunk/tensor_split, flip, roll, repeat/tile/repeat_interleave, tril/triu, diagonal/diag/
diag_embed, movedim, meshgrid, unfold against torch: public forms, views, grad_fn names, errors.
(Each entry's forward and gradients are also checked by the generated tests of the op table.)
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.linspace(-2, 2, 12).reshape(3, 4)
V = np.array([0.5, -1.0, 2.0, 1.5])


def _names(out: Any) -> list:
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [None if o.grad_fn is None else type(o.grad_fn).__name__ for o in outs]


def _run(lib: Any, code: str) -> tuple:
    x = lib.tensor(X, requires_grad=True)
    v = lib.tensor(V, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = eval(code, {"torch": lib, "x": x, "v": v})
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    loss = sum((o * lib.tensor(np.linspace(-1, 1, max(o.numel(), 1))[:o.numel()].reshape(tuple(o.shape)))).sum()
               for o in outs if o.requires_grad)
    loss.backward()
    views = [o._base is x for o in outs]
    return outs, _names(out), views, x.grad, v.grad


CASES = [
    "x.split(2)", "x.split([1, 2])", "torch.split(x, 3, dim=1)", "torch.split(x, [1, 0, 3], 1)", "x.chunk(2)",
    "x.chunk(3, 1)", "x.chunk(5)", "x.split_with_sizes([2, 1])", "x.tensor_split(2)",
    "x.tensor_split([1, 3], dim=1)", "torch.tensor_split(x, torch.tensor([1]), 0)", "x.hsplit(2)", "x.vsplit([1])",
    "x.flip(0)", "x.flip(0, 1)", "torch.flip(x, [1])", "x.fliplr()", "x.flipud()", "x.roll(1)", "x.roll(1, 0)",
    "x.roll((1, 2), (0, 1))", "torch.roll(x, -1, 1)", "x.repeat(2, 1)", "x.repeat(2, 1, 3)", "v.repeat(2, 2)",
    "x.tile((2,))", "x.tile((2, 1, 1))", "x.repeat_interleave(2)", "x.repeat_interleave(2, dim=0)",
    "x.repeat_interleave(torch.tensor([1, 2, 0]), dim=0)", "torch.repeat_interleave(v, torch.tensor([2]))",
    "x.tril()", "x.triu(1)", "torch.tril(x, -1)", "x.diagonal()", "x.diagonal(1, 0, 1)", "x.diagonal(-1)",
    "torch.diagonal(x, 0, 1, 0)", "torch.diag(x)", "torch.diag(x, 1)", "torch.diag(v)", "torch.diag(v, -1)",
    "torch.diag_embed(v)", "x.diag_embed()", "x.diag_embed(1, 0, 2)", "x.movedim(0, 1)", "x.moveaxis(0, 1)",
    "torch.movedim(x, (0, 1), (1, 0))", "torch.meshgrid(v, v[:2], indexing='ij')",
    "torch.meshgrid(v, v[:2], indexing='xy')", "torch.meshgrid([v, v[:3], v[:1]], indexing='xy')",
    "x.unfold(1, 2, 1)", "x.unfold(0, 2, 2)", "v.unfold(0, 3, 1)", "torch.take_along_dim(x, torch.tensor([[0], [3], [1]]), 1)",
]


@pytest.mark.parametrize("code", CASES)
def test_matches_torch(code: str) -> None:
    outs, names, views, xg, vg = _run(tg, code)
    touts, tnames, tviews, txg, tvg = _run(torch, code)
    assert len(outs) == len(touts)
    for o, t in zip(outs, touts):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy())
    assert names == tnames
    assert views == tviews
    for g, tgrad in ((xg, txg), (vg, tvg)):
        assert (g is None) == (tgrad is None)
        if g is not None:
            np.testing.assert_allclose(g.numpy(), tgrad.numpy())


def test_split_outputs_are_views_that_reject_inplace() -> None:
    y = tg.tensor(X, requires_grad=True) * 1
    a, b = y.split(2)
    assert a._base is y and np.shares_memory(a.detach().numpy(), y.detach().numpy())
    with pytest.raises(RuntimeError, match="Output 0 of Split is a view and is being modified inplace"):
        a.mul_(2)


def test_diagonal_and_unfold_are_writable_views() -> None:
    y = tg.zeros(3, 4)
    d = y.diagonal(1)
    d.fill_(5.0)
    np.testing.assert_array_equal(y.numpy()[[0, 1, 2], [1, 2, 3]], [5, 5, 5])
    assert y._version == d._version == 1
    u = y.unfold(1, 2, 2)
    u[0, 0, 1] = 7.0
    assert float(y[0, 1]) == 7.0


def test_diagonal_inplace_on_non_leaf_gives_copyslices() -> None:
    for lib in (tg, torch):
        x = lib.tensor(X, requires_grad=True)
        y = x * 2
        y.diagonal().zero_()
        assert type(y.grad_fn).__name__ == "CopySlices"
        y.sum().backward()
        expected = np.full((3, 4), 2.0)
        expected[[0, 1, 2], [0, 1, 2]] = 0
        np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_meshgrid_warns_without_indexing() -> None:
    with pytest.warns(UserWarning, match="torch.meshgrid: in an upcoming release, it will be required to pass the "
                                         "indexing argument."):
        a, b = tg.meshgrid(tg.tensor(V), tg.tensor(V[:2]))
    assert tuple(a.shape) == (4, 2)


ERRORS = [
    "x.split(0)", "x.split(-1)", "x.split([1, 1])", "x.split(2, 2)", "x.sum().split(1)", "x.chunk(0)",
    "x.sum().chunk(1)", "x.repeat(2)", "x.repeat(-1, 1)", "v.tril()", "x.sum().triu()", "x.diagonal(0, 0, 0)",
    "x.sum().diagonal()", "torch.diag(x.sum())", "torch.diag(x[None])", "v.diag_embed(0, 0, 0)",
    "x.unfold(1, 5, 1)", "x.unfold(1, 2, 0)", "torch.meshgrid(v, v, indexing='bad')", "x.flip(0, 0)",
    "x.roll(1, 2)", "x.roll((1,), (0, 1))", "x.repeat_interleave(-1)",
    "x.repeat_interleave(torch.tensor([1, 2]), dim=0)", "x.tensor_split(0)", "x.dsplit(1)", "x.hsplit(3)",
    "v.fliplr()", "torch.movedim(x, (0, 1), (1,))",
]


@pytest.mark.parametrize("code", ERRORS)
def test_errors_match_torch(code: str) -> None:
    with pytest.raises(Exception) as texc:
        _run(torch, code)
    with pytest.raises(Exception) as exc:
        _run(tg, code)
    assert type(exc.value) is type(texc.value)
    assert str(exc.value) == str(texc.value)


def test_repeat_interleave_counts_only() -> None:
    out = tg.repeat_interleave(tg.tensor([1, 2, 0, 3]))
    assert out.tolist() == torch.repeat_interleave(torch.tensor([1, 2, 0, 3])).tolist()
    assert out.dtype == tg.int64


@pytest.mark.parametrize("code", ["x.unsqueeze(1)", "x.unsqueeze(-1)", "x.view(1, 3, 1).squeeze()",
                                  "x.view(3, 1).squeeze(1)", "x.view(3, 1).squeeze(-1)",
                                  "x.view(1, 3, 1).squeeze((0, 2))", "x.view(3, 1).squeeze(0)"])
def test_squeeze_unsqueeze_gradient_nodes(code: str) -> None:
    """unsqueeze is differentiated by squeeze and squeeze by unsqueeze (torch's formulas), as the grad_fn
    of a create_graph gradient shows."""
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = eval(code, {"x": x})
        seed = lib.ones(tuple(y.shape), requires_grad=True)
        g, = lib.autograd.grad(y, x, seed, create_graph=True)
        return g.grad_fn.name(), g.detach().numpy()
    name, value = run(tg)
    tname, tvalue = run(torch)
    assert name == tname
    np.testing.assert_allclose(value, tvalue)
