"""Subscripts and in-place writes against torch: `x[...]` and `x[...] = v` give the same values,
grad_fn chains, views, version counters, gradients and errors; plus copy_/fill_/zero_ and the
gather/scatter family's errors and in-place forms.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.5 - 3.0
W = np.linspace(-1, 1, 24).reshape(2, 3, 4)


def _chain(t: Any, stop: str = "MulBackward0") -> list:
    """grad_fn names from t down its first input edges, up to the node named `stop`."""
    out = []
    fn = t.grad_fn
    while fn is not None and type(fn).__name__ != stop:
        out.append(type(fn).__name__)
        nxt = [f for f, _ in fn.next_functions if f is not None]
        fn = nxt[0] if nxt else None
    return out


def _namespace(lib: Any) -> dict:
    x = lib.tensor(X, requires_grad=True)
    return {"torch": lib, "x": x, "y": x * 1, "np": np}


def _run_get(lib: Any, expr: str) -> tuple:
    ns = _namespace(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = eval(expr, ns)
    w = lib.tensor(np.broadcast_to(np.linspace(-1, 1, max(out.numel(), 1)), (max(out.numel(), 1),))[:out.numel()]
                   .reshape(tuple(out.shape)))
    (out * w).sum().backward()
    return out, ns


GET_CASES = [
    "y[0]", "y[1, 2]", "y[:, 1]", "y[1:3]", "y[:, 1:3]", "y[None]", "y[..., 0]", "y[...]", "y[:]", "y[:, :]",
    "y[0:5, 1]", "y[-10:, 1]", "y[::2]", "y[:, ::2, 1:]", "y[2:1]", "y[None, ..., None]", "y[0, None, 1]",
    "y[()]", "y[1, ..., 2]", "y[-1]", "y[:, -1]", "y[torch.tensor(1)]", "y[:, torch.tensor(0, dtype=torch.int32)]",
    "y[[0, 1]]", "y[[1, 1, 0]]", "y[y > 0]", "y[torch.tensor([0, 1]), 1:]", "y[0, [1, 2]]", "y[[0, 1], None]",
    "y[:, [0, 2], None]", "y[[[0], [1]], [1, 2]]", "y[:, [0, 1]]", "y[True]", "y[False]", "y[torch.tensor(True)]",
    "y[0, True]", "y[[0, 1], :, [1, 3]]", "y[0, :, [1, 2]]", "y[:, 0, [0, 1]]", "y[[0], :, [0, 1]]",
    "y[0][(y > 0)[0]]", "y[:, (y > 0)[0, :, 0]]", "y[torch.tensor([[0, 1]]), torch.tensor([[0], [2]])]",
    "y[..., [0, -4]]", "y[1:1, [0]]", "y[[]]", "y[torch.tensor([], dtype=torch.long)]",
    "y[np.array([1, 0])]", "y[[True, False]]", "y[torch.tensor([0, 1], dtype=torch.int32), 0]",
    "y[[0, slice(None)]]", "y[[0, None]]", "y[0][1][2]", "y[np.int64(1)]", "y[:, [0, 1]][0]",
]


@pytest.mark.parametrize("expr", GET_CASES)
def test_getitem_matches_torch(expr: str) -> None:
    out, ns = _run_get(tg, expr)
    tout, tns = _run_get(torch, expr)
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy())
    assert _chain(out) == _chain(tout)
    assert (out._base is ns["y"]) == (tout._base is tns["y"])
    np.testing.assert_allclose(ns["x"].grad.numpy(), tns["x"].grad.numpy())


@pytest.mark.parametrize("expr", ["y[0]", "y[:, 1:3]", "y[None]", "y[..., 2]", "y[...]", "y[1:2, None, 0]"])
def test_basic_indexing_is_a_view(expr: str) -> None:
    ns = _namespace(tg)
    y = ns["y"]
    v = eval(expr, ns)
    assert v._base is y
    assert np.shares_memory(v.numpy() if not v.requires_grad else v.detach().numpy(), y.detach().numpy())
    before = v._version
    with tg.no_grad():
        y.add_(1)
    assert v._version == before + 1 == y._version
    with tg.no_grad():
        v.mul_(0)
        assert (eval(expr, ns) == 0).all()  # written through to y's memory


def test_advanced_indexing_is_a_copy() -> None:
    y = tg.tensor(X) * 1
    c = y[[0, 1]]
    assert c._base is None
    assert not np.shares_memory(c.numpy(), y.numpy())


ERROR_CASES = [
    "y[5]", "y[-4]", "y[0, 5]", "y[0, 0, 4]", "y[0, -5]", "y[:, 4]", "y[0, 0, 0, 0]", "y[1.5]", "y[{1}]",
    "y[torch.tensor([1.])]", "y[torch.tensor([0, 1], dtype=torch.int16)]", "y[[5]]", "y[[-3]]",
    "y[[0, 1], [0, 1, 2]]", "y[torch.tensor([True, False, True])]", "y[0, (y > 0)[0, 0]]",
    "y[[0, 1], :, [5, 0]]", "y[0, :, [5]]", "y[::-1]", "y[..., [0, -5]]", "y[[0], [0], [0], [0]]", "y['a']",
    "y.sum()[0]", "y.sum()[:]", "y.sum()[(0,)]", "y.sum()[[0]]",
]


@pytest.mark.parametrize("expr", ERROR_CASES)
def test_getitem_errors_match_torch(expr: str) -> None:
    with pytest.raises(Exception) as texc:
        eval(expr, _namespace(torch))
    with pytest.raises(Exception) as exc:
        eval(expr, _namespace(tg))
    assert type(exc.value) is type(texc.value)
    assert str(exc.value) == str(texc.value)


# --- __setitem__ ----------------------------------------------------------------------------
def _run_set(lib: Any, code: str) -> dict:
    x = lib.tensor(X[0], requires_grad=True)
    v = lib.tensor([10., 20, 30, 40], dtype=lib.float64, requires_grad=True)
    s = lib.tensor(5., dtype=lib.float64, requires_grad=True)
    ns = {"torch": lib, "x": x, "y": x * 1, "v": v, "s": s}
    exec(code, ns)
    y = ns["y"]
    ns["chain"] = _chain(y, "AccumulateGrad")
    ns["next"] = [None if f is None else type(f).__name__ for f, _ in y.grad_fn.next_functions] \
        if y.grad_fn is not None else None
    ns["version"] = y._version
    if y.requires_grad:
        (y * lib.tensor(W[0])).sum().backward()
    return ns


SET_CASES = [
    "y[0] = v", "y[0] = 5.", "y[0] = s", "y[:] = v", "y[...] = v", "y[:, :] = 1.", "y[1:3] = v", "y[:, 1] = s",
    "y[[0, 2]] = v", "y[[0, 2]] = 5.", "y[[0, 2]] = s", "y[y > 5] = 0.", "y[y > 0] = s", "y[0, [1, 2]] = v[:2]",
    "y[0, [1, 2]] = 3.", "y[0] = torch.ones(1, 1, 4, dtype=torch.float64)", "y[[0]] = torch.ones(1, 1, 4, dtype=torch.float64)",
    "y[None] = 2.", "y[True] = 2.", "y[False] = 2.", "y[0, 0] = s", "y[torch.tensor(1)] = v", "y[1:2] = 3",
    "y[:, [0, 1]] = torch.ones(3, 1, dtype=torch.float64)", "y[0] = v.float()", "y[:] = s", "y[...] = s",
    "y[[0, 0]] = v", "y[1][2] = s", "y = torch.zeros(3, 4, dtype=torch.float64); y[0] = v",
    "y = torch.zeros(3, 4, dtype=torch.float64); y[[0, 2]] = v", "y = torch.zeros(3, 4, dtype=torch.float64); y[1] = 2",
    "z = y[1:]; z[0] = v", "z = y[1:]; z[[0, 1], 2] = s", "y[0].zero_()", "y[:, 0].fill_(s)", "y[1].copy_(v)",
    "y.copy_(v)", "y.fill_(2.)", "y.fill_(s)", "y.zero_()", "y.masked_fill_(y > 3, 1.)", "y.masked_fill_(y > 3, s)",
    "y.index_put_((torch.tensor([0, 1]),), v)", "y.index_put_((torch.tensor([0, 0]),), v, accumulate=True)",
    "y.scatter_(0, torch.tensor([[0, 1, 2, 0]]), 5.)", "y.scatter_(0, torch.tensor([[0, 1, 2, 0]]), v[None])",
    "y.index_fill_(1, torch.tensor([0, 2]), 5.)", "y.index_fill_(1, torch.tensor([0, 2]), s)",
    "y.scatter_add_(1, torch.tensor([[0], [0], [3]]), v[:3, None])", "y.index_add_(0, torch.tensor([2, 2]), y[:2] * 2)",
    "y.copy_(v.float())", "y.copy_(torch.ones(4, dtype=torch.long))", "y[0, 1:3] = torch.tensor([[1., 2.]], dtype=torch.float64)",
]


@pytest.mark.parametrize("code", SET_CASES)
def test_setitem_matches_torch(code: str) -> None:
    ns = _run_set(tg, code)
    tns = _run_set(torch, code)
    np.testing.assert_allclose(ns["y"].detach().numpy(), tns["y"].detach().numpy())
    expected_chain = [n.replace("torch::autograd::", "") for n in tns["chain"]]
    assert ns["chain"] == expected_chain
    expected_next = [None if n is None else n.replace("torch::autograd::", "") for n in tns["next"]] \
        if tns["next"] is not None else None
    assert ns["next"] == expected_next
    assert ns["version"] == tns["version"]
    for name in ("x", "v", "s"):
        g, tgr = ns[name].grad, tns[name].grad
        assert (g is None) == (tgr is None), name
        if g is not None:
            np.testing.assert_allclose(g.numpy(), tgr.numpy(), err_msg=name)


SET_ERRORS = [
    "x[0] = 1.", "x[[0]] = 1.", "x[...] = 1.", "x[:, :] = 1.", "x.fill_(1.)", "x.zero_()", "x.copy_(v)",
    "y[0] = torch.ones(3, dtype=torch.float64)", "y[[0, 1]] = torch.ones(3, dtype=torch.float64)",
    "y[[0]] = v.float()", "y[0] = torch.ones(2, 4, dtype=torch.float64)", "y[5] = 1.", "y[0] = 'a'", "y[0] = [1, 2]",
    "y.fill_(v)", "y.copy_(torch.ones(2, 4))", "y.masked_fill_(torch.ones(3) > 0, 1.)",
    "y.masked_fill_(torch.ones(4), 1.)", "y.masked_fill_(y > 3, v)", "y.masked_fill_(torch.ones(2, 3, 4) > 0, 1.)",
    "y.index_put_((torch.tensor([0, 5]),), v)", "a, b = y.split(2); a[0] = 1.", "a, b = y.unbind(1)[:2]; a.zero_()",
    "y.sum()[0] = 1.",
]


@pytest.mark.parametrize("code", SET_ERRORS)
def test_setitem_errors_match_torch(code: str) -> None:
    with pytest.raises(Exception) as texc:
        _run_set(torch, code)
    with pytest.raises(Exception) as exc:
        _run_set(tg, code)
    assert type(exc.value) is type(texc.value)
    assert str(exc.value) == str(texc.value)


def test_setitem_on_non_leaf_gives_copyslices_and_grads() -> None:
    x = tg.ones(3, 4, requires_grad=True)
    v = tg.full((4,), 2.0, requires_grad=True)
    y = x * 1
    y[0] = v
    assert type(y.grad_fn).__name__ == "CopySlices"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0] * 4, [1] * 4, [1] * 4])
    np.testing.assert_array_equal(v.grad.numpy(), [1] * 4)


def test_setitem_without_grad_writes_through_and_bumps_version() -> None:
    y = tg.zeros(3, 4)
    view = y[1]
    y[1, 2] = 7
    assert view._version == y._version == 1
    assert float(view[2]) == 7.0
    y[[0, 2]] = tg.tensor([1.0, 2, 3, 4])
    assert y._version == 2
    np.testing.assert_array_equal(y.numpy()[2], [1, 2, 3, 4])


def test_zero_grad_in_no_grad() -> None:
    x = tg.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    with tg.no_grad():
        x.grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])
    x.grad.zero_()  # .grad does not require grad: allowed outside no_grad too
    with tg.no_grad():
        x.zero_()  # a leaf that requires grad may be changed in no_grad
    assert x._version == 1


def test_int_and_bool_setitem_convert_scalars() -> None:
    for lib in (tg, torch):
        yi = lib.zeros(3, dtype=lib.long)
        yi[0] = 1.7
        yi[[1]] = 2.7
        yb = lib.zeros(2, dtype=lib.bool)
        yb[0] = 2
        assert yi.tolist() == [1, 2, 0] and yb.tolist() == [True, False]


def test_uint8_mask_warns_like_torch() -> None:
    y = tg.tensor(X[0])
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        out = y[tg.tensor([1, 0, 1], dtype=tg.uint8)]
    assert tuple(out.shape) == (2, 4)


def test_setitem_double_backward() -> None:
    """Gradients through index_put and CopySlices can be differentiated again."""
    def f(lib: Any) -> Any:
        x = lib.tensor(X[0], requires_grad=True)
        v = lib.tensor([1.0, 2, 3, 4], dtype=lib.float64, requires_grad=True)
        y = x * x
        y[[0, 2]] = v * v
        y[1, 1:3] = y[2, :2].clone() * v[:2]
        (g,) = lib.autograd.grad((y * y).sum(), v, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g.detach().numpy(), gg.numpy()
    for a, b in zip(f(tg), f(torch)):
        np.testing.assert_allclose(a, b)


# --- the gather/scatter family: errors ----------------------------------------------------------
OP_ERRORS = [
    "x.gather(0, torch.tensor([[5, 0, 0, 0]]))", "x.gather(0, torch.tensor([[-1, 0, 0, 0]]))",
    "x.gather(0, torch.tensor([0, 1]))", "x.gather(0, torch.zeros(1, 5, dtype=torch.long))",
    "x.gather(1, torch.zeros(4, 1, dtype=torch.long))", "x.gather(2, torch.zeros(1, 1, dtype=torch.long))",
    "x.scatter(0, torch.tensor([[5, 0, 0, 0]]), 1.)", "x.scatter(0, torch.tensor([[0, 0, 0, 0]]), torch.ones(1, 2))",
    "x.scatter(0, torch.tensor([[0, 0, 0, 0]]), torch.ones(1, 4))",
    "x.scatter_add(0, torch.tensor([[0, 0, 0, 0]]), torch.ones(1, 2, dtype=torch.float64))",
    "x.scatter(0, torch.tensor([[0, 1, 2, 0]]), 2., reduce='bad')",
    "x.index_select(0, torch.tensor([[0]]))", "x.index_select(0, torch.tensor([5]))",
    "x.index_select(0, torch.tensor([-1]))", "x.index_select(0, torch.tensor([0.]))",
    "x.take(torch.tensor([12]))", "x.take(torch.tensor([-13]))", "x.take(torch.tensor([1.]))",
    "x.masked_fill(torch.ones(4), 1.)", "x.masked_select(torch.ones(4))",
    "x.index_add(0, torch.tensor([5]), x[:1])", "x.index_add(0, torch.tensor([0]), x[:2])",
    "x.index_fill(0, torch.tensor([5]), 1.)", "x.index_fill(0, torch.tensor([0]), torch.ones(2))",
    "x.scatter(0, torch.tensor([[0, 1, 2, 0]]), x, reduce='add').sum().backward()",
]


@pytest.mark.parametrize("code", OP_ERRORS)
def test_op_errors_match_torch(code: str) -> None:
    def run(lib: Any) -> None:
        x = lib.tensor(X[0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(code, {"torch": lib, "x": x})
    with pytest.raises(Exception) as texc:
        run(torch)
    with pytest.raises(Exception) as exc:
        run(tg)
    assert type(exc.value) is type(texc.value)
    assert str(exc.value) == str(texc.value)


FUNCTIONAL_CASES = [
    "torch.take_along_dim(x, torch.tensor([[0, 1, 2, 0]]), 0)", "torch.take_along_dim(x, torch.tensor([[1], [0], [3]]), 1)",
    "torch.take_along_dim(x, torch.tensor([0, 11]))", "x.masked_fill(x > 0, torch.tensor(2., dtype=torch.float64))",
    "torch.scatter(x, 1, torch.tensor([[0], [1], [2]]), value=3.)", "x.index_put((torch.tensor([0, 2]),), torch.tensor(1., dtype=torch.float64))",
    "torch.index_put(x, (x > 0,), torch.tensor(0., dtype=torch.float64))", "x.index_fill(0, torch.tensor([-1]), 2.)",
    "torch.masked_select(x, torch.tensor([True, False, True, False]))", "torch.fill(x, 2.)",
]


@pytest.mark.parametrize("code", FUNCTIONAL_CASES)
def test_public_forms_match_torch(code: str) -> None:
    def run(lib: Any) -> tuple:
        x = lib.tensor(X[0], requires_grad=True)
        out = eval(code, {"torch": lib, "x": x})
        (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum().backward()
        return out.detach().numpy(), x.grad.numpy(), type(out.grad_fn).__name__
    a, b = run(tg), run(torch)
    np.testing.assert_allclose(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1])
    assert a[2] == b[2]
