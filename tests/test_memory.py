"""The engine at scale: a 100,000-op chain backwards without recursion, and a training-style loop
whose memory stays flat (graphs are freed by reference counting, nothing accumulates)."""
import gc
import tracemalloc

import numpy as np
import pytest

import tapegrad as torch
from tapegrad.autograd.graph import Node


def _live(cls):
    return sum(1 for o in gc.get_objects() if issubclass(type(o), cls))


def test_100k_op_chain_backward():
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 100_000, rel=1e-9)
    del y
    gc.collect()


def test_long_mixed_chain_autograd_grad():
    x = torch.tensor([0.5, -0.25], dtype=torch.float64, requires_grad=True)
    y = x
    for i in range(10_000):
        y = (y + 0.0) * 1.00001 if i % 2 else y.tanh() / y.tanh() * y
    (g,) = torch.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(g.numpy(), [1.00001 ** 5_000] * 2, rtol=1e-6)


def test_deleting_a_long_chain_does_not_recurse():
    x = torch.ones(1, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1
    del y  # freeing 100k nested nodes must not overflow the C stack
    assert x.grad is None


def _mlp_step(params, data, target, lr=0.01):
    w1, b1, w2, b2 = params
    h = (data @ w1 + b1).tanh()
    out = h @ w2 + b2
    loss = ((out - target) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()
    return loss.item()


def test_training_loop_memory_is_flat():
    rng = np.random.default_rng(0)
    data = torch.tensor(rng.standard_normal((32, 16)), dtype=torch.float32)
    target = torch.tensor(rng.standard_normal((32, 4)), dtype=torch.float32)
    params = [torch.tensor(rng.standard_normal(s) * 0.1, dtype=torch.float32, requires_grad=True)
              for s in [(16, 32), (32,), (32, 4), (4,)]]
    first = _mlp_step(params, data, target)
    for _ in range(50):  # warm up caches and free lists
        _mlp_step(params, data, target)
    gc.collect()
    nodes_before = _live(Node)
    tensors_before = _live(torch.Tensor)
    tracemalloc.start()
    try:
        for _ in range(200):
            _mlp_step(params, data, target)
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(800):
            last = _mlp_step(params, data, target)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    # one leaked graph per step holds >10 nodes and ~10 KB of arrays: 800 steps would be MBs
    assert grown < 64_000, f"memory grew by {grown} bytes over 800 steps"
    assert _live(Node) <= nodes_before + 5
    assert _live(torch.Tensor) <= tensors_before + 5
    assert last < first  # it really trained


def test_graph_freed_without_gc_in_training_step():
    """Graphs must go away by reference counting alone (no cycles for the collector to find)."""
    w = torch.ones(8, 8, requires_grad=True)
    x = torch.ones(4, 8)
    gc.collect()
    gc.disable()
    try:
        before = _live(Node)
        for _ in range(100):
            loss = (x @ w).tanh().sum()
            loss.backward()
            w.grad = None
        del loss
        assert _live(Node) <= before + 2
    finally:
        gc.enable()


def test_retained_graph_is_freed_when_dropped():
    w = torch.ones(8, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        before = _live(Node)
        for _ in range(100):
            loss = (w.exp() * w).sum()
            loss.backward(retain_graph=True)
            (g,) = torch.autograd.grad(loss, w, create_graph=True)
            g.sum().backward()
        del loss, g
        w.grad = None
        assert _live(Node) <= before + 2
    finally:
        gc.enable()
