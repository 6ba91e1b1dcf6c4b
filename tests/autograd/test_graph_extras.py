"""torch.autograd.graph's GradientEdge/get_gradient_edge, register_multi_grad_hook,
allow_mutation_on_saved_tensors; set_multithreading_enabled; leaf hooks under autograd.grad. Against torch."""
from __future__ import annotations

from typing import Any

import pytest

import tapegrad as tg


def _events(L: Any) -> list:
    G = L.autograd.graph
    log: list = []
    L.manual_seed(0)
    a, b, c = (L.randn(2, requires_grad=True) for _ in range(3))
    h = G.register_multi_grad_hook((a, b, c), lambda gs: log.append(("all", [None if g is None else g.tolist()
                                                                            for g in gs])))
    (a * 2 + b).sum().backward()
    (a * 2 + b + c * 3).sum().backward()
    h.remove()
    (a * 2 + b).sum().backward()
    h = G.register_multi_grad_hook((a, b), lambda g: log.append(("any", g.tolist())), mode="any")
    (a * 2 + b).sum().backward()
    (a * 5).sum().backward()
    h.remove()
    p, q = a * 1, b * 1
    h = G.register_multi_grad_hook((p, q), lambda gs: log.append(("grad", [None if g is None else g.tolist()
                                                                          for g in gs])))
    L.autograd.grad((p * q).sum(), p)
    for make in (lambda: G.register_multi_grad_hook((a, b), lambda g: None, mode="x"),
                 lambda: G.register_multi_grad_hook((a, L.ones(2)), lambda g: None),
                 lambda: G.get_gradient_edge(L.ones(2))):
        with pytest.raises(Exception) as info:
            make()
        log.append((type(info.value).__name__, str(info.value)))
    y = a * 2
    e = G.get_gradient_edge(y)
    log.append((type(e.node).__name__, e.output_nr, e.ownership_token, isinstance(e, tuple)))
    log.append(type(G.get_gradient_edge(a).node).__name__)
    z = (y * 3).sum()
    log.append([t.tolist() for t in L.autograd.grad(z, e, retain_graph=True)])
    log.append([t.tolist() for t in L.autograd.grad(z, (e, a))])
    x = L.ones(2, requires_grad=True)
    x.register_hook(lambda g: g * 10)
    log.append(L.autograd.grad((x * 3).sum(), x)[0].tolist())  # a leaf's hook runs before the capture
    return log


def test_graph_extras_match_torch() -> None:
    torch = pytest.importorskip("torch")
    assert _events(tg) == _events(torch)


def _mutation(L: Any) -> list:
    log = []
    with L.autograd.graph.allow_mutation_on_saved_tensors():
        a = L.ones(3, requires_grad=True)
        b = a.clone()
        out = (b ** 2).sum()
        b.sin_()
        out.backward()
        log.append(a.grad.tolist())
        with pytest.raises(RuntimeError) as info:
            with L.autograd.graph.allow_mutation_on_saved_tensors():
                pass
        log.append(str(info.value))
    with L.autograd.graph.allow_mutation_on_saved_tensors():
        a = L.ones(3, requires_grad=True)
        out = (a.clone() ** 2).sum()
    with pytest.raises(AssertionError) as info:
        out.backward()
    log.append(str(info.value))
    with L.autograd.set_multithreading_enabled(False):
        log.append(L.is_grad_enabled())
    return log


def test_allow_mutation_on_saved_tensors_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    assert _mutation(tg) == _mutation(torch)


def test_mutating_a_saved_tensor_outside_the_context_still_raises() -> None:
    a = tg.ones(3, requires_grad=True)
    b = a.clone()
    out = (b ** 2).sum()
    b.sin_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()
