"""Training throughput: tapegrad against torch (same run) and against the same math in raw NumPy.

    python3 bench/bench_training.py [--steps N]

An MLP (784-512-256-10, batch 128) and a LeNet-style CNN (1x28x28, batch 64), SGD with momentum,
cross-entropy: steps per second, and peak traced memory (tracemalloc) of a training step.
Targets (issue 4): MLP >= 1.3x torch's steps/s; CNN >= 0.5x; peak memory <= 2x raw NumPy.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tapegrad  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def make_step(lib, build, x_shape, batch):
    lib.manual_seed(0)
    model = build(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal((batch,) + x_shape).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, 10, batch).astype(np.int64))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def numpy_mlp_step(batch):
    """The MLP step written by hand in NumPy (forward, backward, SGD with momentum)."""
    rng = np.random.default_rng(0)
    sizes = [784, 512, 256, 10]
    ws = [rng.standard_normal((o, i)).astype(np.float32) * 0.03 for i, o in zip(sizes, sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    vel = [np.zeros_like(p) for p in ws + bs]
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def step():
        acts = [x]
        h = x
        for k, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T + b
            if k < 2:
                h = np.maximum(h, 0)
            acts.append(h)
        z = h - h.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = p
        g[np.arange(batch), y] -= 1
        g /= batch
        grads_w, grads_b = [], []
        for k in (2, 1, 0):
            grads_w.append(g.T @ acts[k])
            grads_b.append(g.sum(0))
            if k:
                g = (g @ ws[k]) * (acts[k] > 0)
        grads = grads_w[::-1] + grads_b[::-1]
        for p_, v, gr in zip(ws + bs, vel, grads):
            v *= 0.9
            v += gr
            p_ -= 0.01 * v
    return step


def rate(step, seconds: float) -> float:
    step()
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    return n / (time.perf_counter() - t0)


def peak(step) -> int:
    step()
    tracemalloc.start()
    step()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rows = [("MLP 784-512-256-10, batch 128", mlp, (784,), 128, numpy_mlp_step(128)),
            ("LeNet CNN 1x28x28, batch 64", lenet, (1, 28, 28), 64, None)]
    print(f"{'model':32s} {'tapegrad/s':>10s} {'torch/s':>9s} {'ratio':>6s} {'numpy/s':>8s} "
          f"{'peak MB tg':>10s} {'peak MB np':>10s}")
    for name, build, shape, batch, np_step in rows:
        tg_step = make_step(tapegrad, build, shape, batch)
        r_tg = rate(tg_step, args.seconds)
        r_th = rate(make_step(torch, build, shape, batch), args.seconds) if torch is not None else float("nan")
        r_np = rate(np_step, args.seconds) if np_step else float("nan")
        m_tg = peak(tg_step) / 2**20
        m_np = peak(np_step) / 2**20 if np_step else float("nan")
        print(f"{name:32s} {r_tg:10.1f} {r_th:9.1f} {r_tg / r_th:6.2f} {r_np:8.1f} {m_tg:10.2f} {m_np:10.2f}")


if __name__ == "__main__":
    main()
