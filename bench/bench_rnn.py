"""nn.LSTM / nn.GRU forward+backward time: tapegrad against torch, in the same run.

    python3 bench/bench_rnn.py [--repeat N] [--per-step]

Sequence 50, batch 32, input 64, hidden 128, one layer, float32; one iteration = the forward, a sum
of the output and h_n, and backward(). Reported: best-of-N milliseconds and tapegrad / torch ratio.
torch runs with one thread; without torch its column prints nan. `--per-step` times tapegrad's
per-step path (one fused cell entry per time step) instead of the fused layer entries.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tapegrad  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None

SEQ, BATCH, INPUT, HIDDEN = 50, 32, 64, 128


def _case(lib, kind: str):
    lib.manual_seed(0)
    layer = getattr(lib.nn, kind)(INPUT, HIDDEN)
    x = lib.from_numpy(np.random.RandomState(0).randn(SEQ, BATCH, INPUT).astype(np.float32)).requires_grad_()

    def step():
        out, state = layer(x)
        h = state[0] if isinstance(state, tuple) else state
        (out.sum() + h.sum()).backward()
        x.grad = None
        layer.zero_grad(set_to_none=True)
    return step


def _best_ms(step, repeat: int) -> float:
    step()  # warm up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--per-step", action="store_true", help="time the per-step path")
    args = parser.parse_args()
    if args.per_step:
        from tapegrad.nn.modules import rnn
        rnn._FUSED = {}
    print(f"seq {SEQ}, batch {BATCH}, input {INPUT}, hidden {HIDDEN}, float32, forward+backward (best of "
          f"{args.repeat})")
    print(f"{'layer':<6} {'tapegrad ms':>12} {'torch ms':>10} {'ratio':>7}")
    for kind in ("LSTM", "GRU"):
        ours = _best_ms(_case(tapegrad, kind), args.repeat)
        theirs = _best_ms(_case(torch, kind), args.repeat) if torch is not None else float("nan")
        print(f"{kind:<6} {ours:>12.1f} {theirs:>10.1f} {ours / theirs:>7.2f}")


if __name__ == "__main__":
    main()
