"""Peak memory and time of a 20-layer MLP's forward+backward, with and without checkpoint_sequential.

Peak memory is measured with tracemalloc (NumPy reports its array buffers to it), counting only
what is allocated during forward+backward (parameters and their gradients excluded: they are
allocated before the measurement and their `.grad` is pre-created). Torch runs the same model in
the same process for the time column (its C++ allocations are invisible to tracemalloc).

    python3 bench/bench_checkpoint.py [--width 512] [--batch 256] [--layers 20] [--segments 4]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import tapegrad  # noqa: E402
from tapegrad.utils.checkpoint import checkpoint_sequential  # noqa: E402


def build(lib, layers: int, width: int):
    lib.manual_seed(0)
    mods = []
    for _ in range(layers):
        mods += [lib.nn.Linear(width, width), lib.nn.Tanh()]
    return lib.nn.Sequential(*mods)


def step(lib, model, x, segments: int) -> None:
    if segments:
        out = lib.utils.checkpoint.checkpoint_sequential(model, segments, x, use_reentrant=False)
    else:
        out = model(x)
    out.square().mean().backward()


def peak_bytes(model, x, segments: int) -> int:
    for p in model.parameters():
        p.grad = tapegrad.zeros_like(p)
    step(tapegrad, model, x, segments)  # warm-up (lazy imports, caches)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    step(tapegrad, model, x, segments)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def best_time(lib, model, x, segments: int, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step(lib, model, x, segments)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=20)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--segments", type=int, default=4)
    args = ap.parse_args()
    data = np.random.default_rng(0).standard_normal((args.batch, args.width)).astype(np.float32)
    model = build(tapegrad, args.layers, args.width)
    x = tapegrad.tensor(data, requires_grad=True)
    activation = args.batch * args.width * 4
    print(f"{args.layers}-layer MLP, width {args.width}, batch {args.batch}: one activation = "
          f"{activation / 2**20:.2f} MiB")
    plain = peak_bytes(model, x, 0)
    ckpt = peak_bytes(model, x, args.segments)
    print(f"peak memory, plain:                       {plain / 2**20:8.1f} MiB")
    print(f"peak memory, checkpoint_sequential({args.segments}):  {ckpt / 2**20:8.1f} MiB  "
          f"({ckpt / plain:.2f} of plain)")
    t_plain = best_time(tapegrad, model, x, 0)
    t_ckpt = best_time(tapegrad, model, x, args.segments)
    line = f"time fwd+bwd, tapegrad: plain {t_plain * 1e3:7.1f} ms, checkpointed {t_ckpt * 1e3:7.1f} ms"
    try:
        import torch
    except ImportError:
        print(line)
        return
    torch.set_num_threads(1)
    tmodel = build(torch, args.layers, args.width)
    tx = torch.tensor(data, requires_grad=True)
    tt_plain = best_time(torch, tmodel, tx, 0)
    tt_ckpt = best_time(torch, tmodel, tx, args.segments)
    print(line)
    print(f"time fwd+bwd, torch:    plain {tt_plain * 1e3:7.1f} ms, checkpointed {tt_ckpt * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
