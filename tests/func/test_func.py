"""torch.func transforms against torch.func: values, structures, has_aux, argnums, composition,
and functional_call on nn modules."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.func as tfunc

torch = pytest.importorskip("torch")


def _np(x: Any) -> Any:
    """Nested structure of arrays (keeps containers, so structures are compared too)."""
    if isinstance(x, dict):
        return {k: _np(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(_np(v) for v in x)
    if hasattr(x, "detach"):
        return x.detach().numpy().copy()
    return x


def _assert_same(a: Any, b: Any, rtol: float = 1e-6) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k], rtol)
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), f"{type(a)} {len(a)} vs {type(b)} {len(b)}"
        for x, y in zip(a, b):
            _assert_same(x, y, rtol)
    else:
        assert a.shape == b.shape, f"{a.shape} vs {b.shape}"
        assert a.dtype == b.dtype, f"{a.dtype} vs {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-8)


def _both(make: Callable[[Any], Any]) -> None:
    """Run `make(lib)` with tapegrad and with torch; results must agree in values and structure."""
    _assert_same(_np(make(tg)), _np(make(torch)))


X = np.array([0.3, -1.2, 2.0, 0.7])
Y = np.array([[0.5, -0.4, 1.1, 0.2], [1.5, 0.9, -0.3, -2.0]])


def f_scalar(lib: Any, x: Any) -> Any:
    return (x.sin() * x.exp()).sum() + (x ** 3).mean()


def f_vec(lib: Any, x: Any, y: Any) -> Any:
    return (y @ x).tanh() * x[:2].sigmoid()


def f_tree(lib: Any, p: dict) -> Any:
    return {"a": (p["w"] * p["b"]).sum(), "b": (p["w"].exp(), p["b"] ** 2)}


def t(lib: Any, a: np.ndarray) -> Any:
    return lib.tensor(a)


# ---------------------------------------------------------------------------------------
# grad / grad_and_value

def test_grad_and_value() -> None:
    _both(lambda L: L.func.grad(lambda x: f_scalar(L, x))(t(L, X)))
    _both(lambda L: L.func.grad_and_value(lambda x: f_scalar(L, x))(t(L, X)))


def test_grad_argnums_and_has_aux() -> None:
    def f(L: Any) -> Callable:
        return lambda x, y: ((y @ x).sum() * x.sum(), {"aux": x * 2})
    _both(lambda L: L.func.grad(f(L), argnums=(0, 1), has_aux=True)(t(L, X), t(L, Y)))
    _both(lambda L: L.func.grad(f(L), argnums=1, has_aux=True)(t(L, X), t(L, Y)))
    _both(lambda L: L.func.grad_and_value(f(L), argnums=-1, has_aux=True)(t(L, X), t(L, Y)))


def test_grad_of_dict_input() -> None:
    _both(lambda L: L.func.grad(lambda p: f_tree(L, p)["a"])({"w": t(L, X), "b": t(L, X[::-1].copy())}))


def test_grad_errors_match_torch() -> None:
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 "
                                               "dims. Maybe you wanted to use the vjp or jacrev APIs instead?"):
            lib.func.grad(lambda x: x * 2)(lib.tensor(X))
        with pytest.raises(RuntimeError, match="output of function f should be a tuple: \\(output, aux\\)"):
            lib.func.grad(lambda x: x.sum(), has_aux=True)(lib.tensor(X))
        with pytest.raises(RuntimeError, match="Got argnum=2, but only 2 positional inputs"):
            lib.func.grad(lambda x, y: x.sum(), argnums=2)(lib.tensor(X), lib.tensor(X))
        with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor"):
            lib.func.grad(lambda x: x.sum())(3.0)


def test_grad_result_is_a_plain_tensor() -> None:
    g = tfunc.grad(lambda x: (x ** 3).sum())(tg.tensor(X))
    assert g.grad_fn is None and not g.requires_grad


def test_grad_flows_to_closed_over_parameters() -> None:
    for lib in (tg, torch):
        w = lib.tensor([0.5, -1.0, 2.0, 1.5], requires_grad=True)
        g = lib.func.grad(lambda x: (w * x).tanh().sum())(lib.tensor(X))
        assert g.requires_grad
        g.sum().backward()
        if lib is tg:
            ours = w.grad.numpy().copy()
        else:
            np.testing.assert_allclose(ours, w.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------------------
# vjp / jvp / linearize

def test_vjp_structures_and_aux() -> None:
    def run(L: Any) -> Any:
        out, fn = L.func.vjp(lambda x, y: f_vec(L, x, y), t(L, X), t(L, Y))
        return out, fn(t(L, np.array([1.0, -2.0])))
    _both(run)

    def run_tree(L: Any) -> Any:
        p = {"w": t(L, X), "b": t(L, X * 0.5)}
        out, fn, aux = L.func.vjp(lambda p: (f_tree(L, p), p["w"] + 1), p, has_aux=True)
        ct = {"a": t(L, np.array(1.5)), "b": (t(L, np.ones(4)), t(L, np.arange(4.0)))}
        return out, fn(ct), aux
    _both(run_tree)


def test_jvp_and_linearize() -> None:
    _both(lambda L: L.func.jvp(lambda x, y: f_vec(L, x, y), (t(L, X), t(L, Y)), (t(L, X * 0 + 1), t(L, Y * 2))))
    _both(lambda L: L.func.jvp(lambda x: (x.cos(), x.sum()), (t(L, X),), (t(L, X[::-1].copy()),)))
    _both(lambda L: L.func.jvp(lambda x: (x.exp(), x * 3), (t(L, X),), (t(L, X),), has_aux=True))
    _both(lambda L: L.func.linearize(lambda x: x.sin() * x, t(L, X))[1](t(L, np.ones(4))))


def test_jvp_errors_match_torch() -> None:
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
            lib.func.jvp(lambda x: x, lib.tensor(X), (lib.tensor(X),))
        with pytest.raises(RuntimeError, match="Expected primals and tangents to have the same python structure"):
            lib.func.jvp(lambda x: x, (lib.tensor(X),), (lib.tensor(X), lib.tensor(X)))
        with pytest.raises(RuntimeError, match="Tensor is of size \\[4\\] while the given forward gradient is of "
                                               "size \\[3\\]"):
            lib.func.jvp(lambda x: x, (lib.tensor(X),), (lib.ones(3, dtype=lib.float64),))


# ---------------------------------------------------------------------------------------
# Jacobians and Hessians

@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians(transform: str) -> None:
    _both(lambda L: getattr(L.func, transform)(lambda x, y: f_vec(L, x, y))(t(L, X), t(L, Y)))
    _both(lambda L: getattr(L.func, transform)(lambda x, y: f_vec(L, x, y), argnums=(0, 1))(t(L, X), t(L, Y)))
    _both(lambda L: getattr(L.func, transform)(lambda p: f_tree(L, p))({"w": t(L, X), "b": t(L, X * 0.5)}))
    _both(lambda L: getattr(L.func, transform)(lambda x: (x.sin(), x.sum()), has_aux=True)(t(L, X)))
    _both(lambda L: getattr(L.func, transform)(lambda x: x.exp().sum())(t(L, np.array(0.5))))


def test_hessian_and_compositions() -> None:
    _both(lambda L: L.func.hessian(lambda x: f_scalar(L, x))(t(L, X)))
    _both(lambda L: L.func.hessian(lambda x, y: (f_vec(L, x, y) ** 2).sum(), argnums=(0, 1))(t(L, X), t(L, Y)))
    _both(lambda L: L.func.grad(L.func.grad(lambda x: (x.sin() * x).sum() * 0 + x.tanh().sum() ** 0
                                            + (x ** 3).sum()))(t(L, np.array(0.7))))
    _both(lambda L: L.func.jacrev(L.func.jacrev(lambda x: x.sin() * x.sum()))(t(L, X)))
    _both(lambda L: L.func.jacfwd(L.func.jacfwd(lambda x: x.sin() * x.sum()))(t(L, X)))
    _both(lambda L: L.func.jacrev(L.func.jacfwd(lambda x: x.sin() * x.sum()))(t(L, X)))
    # Hessian-vector product, forward over reverse
    _both(lambda L: L.func.jvp(L.func.grad(lambda x: f_scalar(L, x)), (t(L, X),), (t(L, X[::-1].copy()),)))
    # jvp of jvp (nested forward levels)
    _both(lambda L: L.func.jvp(lambda x: L.func.jvp(lambda y: y.sin() * y, (x,), (t(L, np.ones(4)),))[1],
                               (t(L, X),), (t(L, np.ones(4)),)))


def test_jacrev_runs_one_batched_backward() -> None:
    # torch's jacrev vmaps over the basis: a hook sees one call with the logical shape
    calls = []

    def f(x: Any) -> Any:
        y = x.exp()
        y.register_hook(lambda g: calls.append(tuple(g.shape)))
        return y[:3]
    tfunc.jacrev(f)(tg.tensor(X))
    assert calls == [(4,)]


# ---------------------------------------------------------------------------------------
# functional_call

def _model(lib: Any) -> Any:
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Tanh(), lib.nn.Linear(3, 2)).double()


def test_functional_call_replaces_parameters_temporarily() -> None:
    def run(L: Any) -> Any:
        model = _model(L)
        params = {k: v.detach() * 2 for k, v in model.named_parameters()}
        before = {k: v.detach().clone() for k, v in model.named_parameters()}
        x = t(L, Y)
        out = L.func.functional_call(model, params, (x,))
        for k, v in model.named_parameters():  # restored
            assert np.array_equal(v.detach().numpy(), before[k].numpy())
        grads = L.func.grad(lambda p: L.func.functional_call(model, p, x).pow(2).sum())(params)
        return out, grads, model(x)
    _both(run)


def test_functional_call_linear_and_strict() -> None:
    def run(L: Any) -> Any:
        L.manual_seed(0)
        lin = L.nn.Linear(4, 2).double()
        w = t(L, np.arange(8.0).reshape(2, 4) / 10)
        return L.func.functional_call(lin, {"weight": w}, t(L, Y)), L.func.functional_call(lin, ({"weight": w},
                                                                                                 {"bias": w[0, :2]}),
                                                                                           args=(t(L, Y),))
    _both(run)
    for lib in (tg, torch):
        lin = lib.nn.Linear(4, 2)
        with pytest.raises(RuntimeError, match="Missing key\\(s\\): 'bias'"):
            lib.func.functional_call(lin, {"weight": lib.zeros(2, 4)}, lib.zeros(1, 4), strict=True)


def test_pytree_leaves_are_freed_without_the_garbage_collector():
    """tree_flatten/tree_unflatten leave no reference cycle holding the leaves (vmap counts references)."""
    import gc
    import weakref

    from tapegrad.func._pytree import tree_flatten, tree_unflatten

    class Leaf:
        pass
    leaf = Leaf()
    ref = weakref.ref(leaf)
    gc.disable()
    try:
        leaves, spec = tree_flatten({"a": [leaf, (1, 2)]})
        rebuilt = tree_unflatten(leaves, spec)
        assert rebuilt["a"][0] is leaf and rebuilt["a"][1] == (1, 2)
        del leaves, rebuilt, leaf
        assert ref() is None
    finally:
        gc.enable()
