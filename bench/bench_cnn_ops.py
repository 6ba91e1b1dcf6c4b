"""LeNet-style CNN forward + backward (batch 64) through nn.functional: tapegrad against torch.

    python bench/bench_cnn_ops.py [--steps N]

Same weights and inputs in both (float32); prints ms per step for each and the speed ratio.
The issue's target: tapegrad at least half of torch's speed (ratio >= 0.5).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def _params(rng: np.random.RandomState) -> dict:
    def u(*shape: int) -> np.ndarray:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape).astype(np.float32)
    return {"c1w": u(6, 1, 5, 5), "c1b": u(6), "c2w": u(16, 6, 5, 5), "c2b": u(16),
            "f1w": u(120, 256), "f1b": u(120), "f2w": u(84, 120), "f2b": u(84), "f3w": u(10, 84), "f3b": u(10)}


def make_step(lib):
    """A forward+backward closure for `lib` (tapegrad or torch), with its own parameter copies."""
    F = lib.nn.functional

    def build(arrays: dict, x: np.ndarray, y: np.ndarray):
        p = {k: lib.from_numpy(v.copy()).requires_grad_(True) for k, v in arrays.items()}
        xt, yt = lib.from_numpy(x), lib.from_numpy(y)

        def step():
            for t in p.values():
                t.grad = None
            h = F.max_pool2d(F.relu(F.conv2d(xt, p["c1w"], p["c1b"])), 2)
            h = F.max_pool2d(F.relu(F.conv2d(h, p["c2w"], p["c2b"])), 2)
            h = h.flatten(1)
            h = F.relu(F.linear(h, p["f1w"], p["f1b"]))
            h = F.relu(F.linear(h, p["f2w"], p["f2b"]))
            loss = F.cross_entropy(F.linear(h, p["f3w"], p["f3b"]), yt)
            loss.backward()
            return loss, p
        return step
    return build


def block_time(step, n: int) -> float:
    """Mean seconds per step over one block of n steps."""
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def compare(steps: dict, blocks: int, n: int) -> dict:
    """Best block time per library, alternating blocks so that machine load hits both alike."""
    for step in steps.values():
        for _ in range(3):
            step()
    best = {name: float("inf") for name in steps}
    for _ in range(blocks):
        for name, step in steps.items():
            best[name] = min(best[name], block_time(step, n))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5, help="steps per timed block")
    ap.add_argument("--blocks", type=int, default=10, help="alternating blocks per library (best one counts)")
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    import tapegrad
    rng = np.random.RandomState(0)
    params = _params(rng)
    x = rng.rand(args.batch, 1, 28, 28).astype(np.float32)
    y = rng.randint(0, 10, size=args.batch).astype(np.int64)
    steps = {"tapegrad": make_step(tapegrad)(params, x, y)}
    try:
        import torch
    except ImportError:
        torch = None
        print("torch not installed: no comparison")
    if torch is not None:
        steps["torch"] = make_step(torch)(params, x, y)
        loss_tg, p_tg = steps["tapegrad"]()
        loss_t, p_t = steps["torch"]()
        err = max(float(np.max(np.abs(p_tg[k].grad.numpy() - p_t[k].grad.numpy()))) for k in params)
        print(f"loss tapegrad {loss_tg.item():.6f} torch {loss_t.item():.6f}; max |grad difference| {err:.2e}")
    best = compare(steps, args.blocks, args.steps)
    for name, t in best.items():
        print(f"{name:9s} {t * 1e3:8.2f} ms/step ({1 / t:7.1f} steps/s)")
    if torch is not None:
        print(f"speed ratio tapegrad/torch: {best['torch'] / best['tapegrad']:.2f} (target >= 0.5; "
              f"torch threads {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
