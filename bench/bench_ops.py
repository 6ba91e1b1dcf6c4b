"""Benchmark: tapegrad against torch (same run) and against hand-written NumPy.

    python3 bench/bench_ops.py [--quick] [--profile OP]

1. Forward+backward time per op on small tensors (16x16 float32), tapegrad vs torch, with the
   ratio (target: <= 0.7). Each iteration runs the op and a backward with a given gradient; a
   10-op chain is reported per op.
2. Backward alone (forward timed separately and subtracted), against the same gradient maths
   written directly in NumPy: the cost of running the derivative formulas with grad recording off.
3. Large tensors: a 1024x1024 matmul and a 4M-element pointwise chain, forward+backward, against
   the same maths in raw NumPy (target: within 10%).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tapegrad  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:  # the tapegrad columns still print
    torch = None


def best_times(fns, repeat: int) -> list[float]:
    """Best seconds per call of each fn, the fns run in turn (so load changes hit them alike)."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best


def best_time(fn, number: int, repeat: int = 5) -> float:
    """Best seconds per call of fn over `repeat` runs of `number` calls."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


# ---------------------------------------------------------------------- small ops

def chain10(x, y):
    z = x * y
    z = z + x
    z = z.tanh()
    z = z * 2.0
    z = z - y
    z = z.exp()
    z = z / 3.0
    z = z.sigmoid()
    z = z @ y
    return z.relu()


SMALL_OPS = {
    # name: (function of (lib, x, y) -> output, number of ops in it)
    "add": (lambda L, x, y: x + y, 1),
    "mul": (lambda L, x, y: x * y, 1),
    "matmul": (lambda L, x, y: x @ y, 1),
    "exp": (lambda L, x, y: x.exp(), 1),
    "tanh": (lambda L, x, y: x.tanh(), 1),
    "sum": (lambda L, x, y: x.sum(), 1),
    "mean": (lambda L, x, y: x.mean(), 1),
    "relu": (lambda L, x, y: x.relu(), 1),
    "sigmoid": (lambda L, x, y: x.sigmoid(), 1),
    "view": (lambda L, x, y: x.view(256), 1),
    "index": (lambda L, x, y: x[2:10, 3], 1),
    "log_softmax": (lambda L, x, y: L.log_softmax(x, 1), 1),
    "gelu": (lambda L, x, y: L.nn.functional.gelu(x), 1),
    "mse_loss": (lambda L, x, y: L.nn.functional.mse_loss(x, y), 1),
    "chain10": (lambda L, x, y: chain10(x, y), 10),
}


def make_small_step(lib, fn):
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((16, 16)).astype(np.float32) * 0.5
    ya = rng.standard_normal((16, 16)).astype(np.float32) * 0.5
    x = lib.tensor(xa, requires_grad=True)
    y = lib.tensor(ya, requires_grad=True)
    out = fn(lib, x, y)
    grad = lib.ones_like(out)

    def forward():
        fn(lib, x, y)

    def step():
        x.grad = None
        y.grad = None
        fn(lib, x, y).backward(grad)

    return forward, step


def bench_small(number: int, names: list[str], repeat: int = 5) -> list[tuple]:
    """Per op: (name, tapegrad fwd+bwd, torch fwd+bwd, tapegrad fwd, torch fwd), seconds per op."""
    rows = []
    for name in names:
        fn, nops = SMALL_OPS[name]
        fns = list(make_small_step(tapegrad, fn))
        if torch is not None:
            fns += list(make_small_step(torch, fn))

        def block(f):
            def run():
                for _ in range(number):
                    f()
            return run
        times = [t / number / nops for t in best_times([block(f) for f in fns], repeat)]
        f_tg, t_tg = times[0], times[1]
        f_th, t_th = (times[2], times[3]) if torch is not None else (float("nan"), float("nan"))
        rows.append((name, t_tg, t_th, f_tg, f_th))
    return rows


# ---------------------------------------------------------------------- backward formulas vs NumPy

def _numpy_grads(name, xa, ya, g):
    """The gradient maths of each op, written directly in NumPy (what backward must compute)."""
    if name == "mul":
        return g * ya, g * xa
    if name == "matmul":
        return g @ ya.T, xa.T @ g
    if name == "exp":
        return (g * np.exp(xa),)
    if name == "tanh":
        t = np.tanh(xa)
        return (g * (1 - t * t),)
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-xa))
        return (g * s * (1 - s),)
    if name == "add":
        return g.copy(), g.copy()
    raise KeyError(name)


def bench_formulas(number: int) -> list[tuple]:
    rows = []
    rng = np.random.default_rng(1)
    xa = rng.standard_normal((16, 16)).astype(np.float32)
    ya = rng.standard_normal((16, 16)).astype(np.float32)
    g = np.ones((16, 16), np.float32)
    for name in ("add", "mul", "matmul", "exp", "tanh", "sigmoid"):
        fn = SMALL_OPS[name][0]
        fwd, step = make_small_step(tapegrad, fn)
        backward_only = best_time(step, number) - best_time(fwd, number)
        raw = best_time(lambda: _numpy_grads(name, xa, ya, g), number)
        rows.append((name, backward_only, raw))
    return rows


def check_backward_records_nothing() -> bool:
    """Under a plain backward the formulas run with grad recording off: gradients have no graph."""
    x = tapegrad.ones(4, requires_grad=True)
    y = (x.exp() * x).tanh().sum()
    y.backward()
    return x.grad.grad_fn is None and not x.grad.requires_grad


# ---------------------------------------------------------------------- large tensors

def bench_large(repeat: int) -> list[tuple]:
    rng = np.random.default_rng(2)
    rows = []

    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    g = np.ones((1024, 1024), np.float32)
    ta = tapegrad.tensor(a, requires_grad=True)
    tb = tapegrad.tensor(b, requires_grad=True)
    tg = tapegrad.tensor(g)

    def tg_matmul():
        ta.grad = None
        tb.grad = None
        (ta @ tb).backward(tg)

    def np_matmul():
        c = a @ b  # noqa: F841
        ga = g @ b.T  # noqa: F841
        gb = a.T @ g  # noqa: F841

    rows.append(("matmul 1024x1024", *best_times([tg_matmul, np_matmul], repeat)))

    n = 4 * 1024 * 1024
    x = rng.standard_normal(n).astype(np.float32) * 0.5
    y = rng.standard_normal(n).astype(np.float32) * 0.5
    tx = tapegrad.tensor(x, requires_grad=True)
    ty = tapegrad.tensor(y, requires_grad=True)

    def tg_chain():
        tx.grad = None
        ty.grad = None
        ((tx * ty).exp() + tx).tanh().sum().backward()

    def np_chain():
        p = x * y
        e = np.exp(p)
        s = e + x
        t = np.tanh(s)
        t.sum(dtype=np.float32)
        gs = 1 - t * t  # d tanh, grad of sum is ones
        gp = gs * e
        gx = gs + gp * y  # noqa: F841
        gy = gp * x  # noqa: F841

    rows.append(("4M pointwise chain", *best_times([tg_chain, np_chain], repeat)))
    return rows


# ---------------------------------------------------------------------- report

def profile_op(name: str, number: int) -> None:
    fn = SMALL_OPS[name][0]
    _, step = make_small_step(tapegrad, fn)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(number):
        step()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations")
    ap.add_argument("--profile", metavar="OP", help="cProfile tapegrad's forward+backward of one small op")
    args = ap.parse_args()
    number = 300 if args.quick else 2000
    if args.profile:
        profile_op(args.profile, number)
        return
    print(f"tapegrad vs torch {getattr(torch, '__version__', '(not installed)')}, numpy {np.__version__}, "
          "16x16 float32, one thread")
    print()
    print(f"{'op (fwd+bwd, us/op)':22}{'tapegrad':>10}{'torch':>10}{'ratio':>8}   {'fwd tapegrad':>12}{'fwd torch':>10}")
    ratios = []
    for name, t_tg, t_th, f_tg, f_th in bench_small(number, list(SMALL_OPS)):
        ratio = t_tg / t_th
        ratios.append(ratio)
        mark = "" if ratio <= 0.7 else "  > 0.7"
        print(f"{name:22}{t_tg * 1e6:10.1f}{t_th * 1e6:10.1f}{ratio:8.2f}   {f_tg * 1e6:12.1f}{f_th * 1e6:10.1f}{mark}")
    if torch is not None:
        geo = float(np.exp(np.mean(np.log(ratios))))
        print(f"{'geometric mean ratio':22}{'':20}{geo:8.2f}   (target <= 0.70)")
    print()
    print(f"{'backward only (us/op)':22}{'tapegrad':>10}{'numpy':>10}{'ratio':>8}")
    for name, bwd, raw in bench_formulas(number):
        print(f"{name:22}{bwd * 1e6:10.1f}{raw * 1e6:10.1f}{bwd / raw:8.2f}")
    print(f"gradients of a plain backward carry no graph: {check_backward_records_nothing()}")
    print()
    print(f"{'large (fwd+bwd, ms)':22}{'tapegrad':>10}{'numpy':>10}{'ratio':>8}")
    for name, t_tg, t_np in bench_large(3 if args.quick else 15):
        print(f"{name:22}{t_tg * 1e3:10.1f}{t_np * 1e3:10.1f}{t_tg / t_np:8.2f}   (target <= 1.10)")


if __name__ == "__main__":
    main()
