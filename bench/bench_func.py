"""Benchmark: torch.func transforms, tapegrad against torch in the same run.

    python3 bench/bench_func.py [--quick]

1. Hessian-vector product of a 2-layer tanh MLP's loss w.r.t. its parameters, forward over
   reverse (`jvp(grad(loss), (params,), (v,))`), divided by the time of the gradient alone
   (`grad(loss)(params)`). Issue #5's target: tapegrad's ratio <= 2.0 (torch's is about 2.5).
2. `jacrev` of a 100-to-100 function (tanh(W x) * x): time per Jacobian, tapegrad vs torch
   (target: within 2x of torch). Both batch the 100 basis cotangents with vmap: one backward.
3. Per-sample gradients of the MLP's loss for a batch of 64, `vmap(grad(loss))` (target: within
   2x of torch).
4. Per-sample Hessians, `vmap(hessian(f))` (forward over reverse under vmap), batch 64.
5. `jacfwd` of the 100-to-100 function of 2 (one forward vmapped over the basis tangents).
torch runs with one thread; timings are the best of interleaved blocks.
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
except ImportError:  # the tapegrad columns still print
    torch = None


def best_times(fns: list, number: int, repeat: int) -> list[float]:
    """Best seconds per call of each fn; blocks of `number` calls alternate between the fns."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / number)
    return best


def mlp_problem(lib, batch: int = 64, n_in: int = 32, hidden: int = 64, n_out: int = 10):
    """(loss(params), params, v): a 2-layer tanh MLP with a mean squared error, float32."""
    rng = np.random.RandomState(0)
    arrays = {"w1": rng.randn(hidden, n_in) / np.sqrt(n_in), "b1": rng.randn(hidden) * 0.1,
              "w2": rng.randn(n_out, hidden) / np.sqrt(hidden), "b2": rng.randn(n_out) * 0.1}
    params = {k: lib.tensor(v.astype(np.float32)) for k, v in arrays.items()}
    v = {k: lib.tensor(rng.randn(*a.shape).astype(np.float32)) for k, a in arrays.items()}
    x = lib.tensor(rng.randn(batch, n_in).astype(np.float32))
    y = lib.tensor(rng.randn(batch, n_out).astype(np.float32))
    F = lib.nn.functional

    def loss(p):
        h = lib.tanh(F.linear(x, p["w1"], p["b1"]))
        return ((F.linear(h, p["w2"], p["b2"]) - y) ** 2).mean()  # F.mse_loss: torch 2.13 fails jvp(grad)
    return loss, params, v


def hvp_case(lib):
    loss, params, v = mlp_problem(lib)
    grad_fn = lib.func.grad(loss)
    return (lambda: grad_fn(params)), (lambda: lib.func.jvp(grad_fn, (params,), (v,))[1])


def jacrev_case(lib, n: int = 100):
    rng = np.random.RandomState(1)
    w = lib.tensor((rng.randn(n, n) / np.sqrt(n)).astype(np.float32))
    x = lib.tensor(rng.randn(n).astype(np.float32))
    return lambda: lib.func.jacrev(lambda x: lib.tanh(w @ x) * x)(x)


def per_sample_case(lib, batch: int = 64):
    """Per-sample gradients of the MLP's loss: vmap(grad(loss), in_dims=(None, 0, 0))."""
    _, params, _ = mlp_problem(lib)
    rng = np.random.RandomState(2)
    x = lib.tensor(rng.randn(batch, 32).astype(np.float32))
    y = lib.tensor(rng.randn(batch, 10).astype(np.float32))
    F = lib.nn.functional

    def loss(p, xb, yb):
        h = lib.tanh(F.linear(xb, p["w1"], p["b1"]))
        return ((F.linear(h, p["w2"], p["b2"]) - yb) ** 2).mean()
    per_sample = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))
    return lambda: per_sample(params, x, y)


def per_sample_hessian_case(lib, batch: int = 64, n: int = 8):
    """Per-sample Hessians vmap(hessian(f)) of f(x) = sum(tanh(W x) * x), x of size n, batch 64."""
    rng = np.random.RandomState(3)
    w = lib.tensor((rng.randn(n, n) / np.sqrt(n)).astype(np.float32))
    x = lib.tensor(rng.randn(batch, n).astype(np.float32))
    per_sample = lib.func.vmap(lib.func.hessian(lambda v: (lib.tanh(w @ v) * v).sum()))
    return lambda: per_sample(x)


def jacfwd_case(lib, n: int = 100):
    rng = np.random.RandomState(1)
    w = lib.tensor((rng.randn(n, n) / np.sqrt(n)).astype(np.float32))
    x = lib.tensor(rng.randn(n).astype(np.float32))
    return lambda: lib.func.jacfwd(lambda x: lib.tanh(w @ x) * x)(x)


def check_agreement() -> None:
    """The benchmarked results agree with torch's (so the timings compare like with like)."""
    g_tg, hvp_tg = hvp_case(tapegrad)
    g_t, hvp_t = hvp_case(torch)
    for a, b in ((g_tg(), g_t()), (hvp_tg(), hvp_t())):
        for k in a:
            np.testing.assert_allclose(a[k].numpy(), b[k].detach().numpy(), rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(jacrev_case(tapegrad)().numpy(), jacrev_case(torch)().numpy(), rtol=2e-4, atol=1e-5)
    a, b = per_sample_case(tapegrad)(), per_sample_case(torch)()
    for k in a:
        np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), rtol=2e-4, atol=1e-5)
    for case in (per_sample_hessian_case, jacfwd_case):
        np.testing.assert_allclose(case(tapegrad)().numpy(), case(torch)().numpy(), rtol=2e-4, atol=1e-5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    number, repeat = (5, 3) if args.quick else (20, 7)
    versions = f"torch {torch.__version__}" if torch is not None else "torch not installed"
    print(f"tapegrad vs {versions}, numpy {np.__version__}, float32, torch with one thread")
    if torch is not None:
        check_agreement()
        print("results agree with torch (gradient, Hessian-vector product, Jacobian, per-sample gradients)")

    print("\n1. Hessian-vector product / gradient, 2-layer tanh MLP (batch 64, 32-64-10), forward over reverse")
    g_tg, h_tg = hvp_case(tapegrad)
    fns = [g_tg, h_tg]
    if torch is not None:
        g_t, h_t = hvp_case(torch)
        fns += [g_t, h_t]
    times = best_times(fns, number, repeat)
    print(f"{'':12}{'grad (us)':>12}{'hvp (us)':>12}{'hvp/grad':>10}")
    print(f"{'tapegrad':12}{times[0] * 1e6:12.1f}{times[1] * 1e6:12.1f}{times[1] / times[0]:10.2f}   target <= 2.0")
    if torch is not None:
        print(f"{'torch':12}{times[2] * 1e6:12.1f}{times[3] * 1e6:12.1f}{times[3] / times[2]:10.2f}")

    cases = [("2. jacrev of a 100-to-100 function, tanh(W @ x) * x", jacrev_case, 4, "(target <= 2.0)"),
             ("3. per-sample gradients, vmap(grad(loss), in_dims=(None, 0, 0)), the MLP above, batch 64",
              per_sample_case, 1, "(target <= 2.0)"),
             ("4. per-sample Hessians, vmap(hessian(f)), f(x) = sum(tanh(W x) * x), x of size 8, batch 64",
              per_sample_hessian_case, 1, ""),
             ("5. jacfwd of a 100-to-100 function, tanh(W @ x) * x", jacfwd_case, 4, "")]
    for title, case, fewer, target in cases:
        print("\n" + title)
        compare(case, max(1, number // fewer), repeat, target)


def compare(case, number: int, repeat: int, target: str) -> None:
    """One line: tapegrad's time for case(lib)'s function, torch's, and their ratio."""
    fns = [case(tapegrad)] + ([case(torch)] if torch is not None else [])
    times = best_times(fns, number, repeat)
    line = f"tapegrad {times[0] * 1e3:8.3f} ms"
    if torch is not None:
        line += f"   torch {times[1] * 1e3:8.3f} ms   ratio {times[0] / times[1]:.2f} {target}".rstrip()
    print(line)


if __name__ == "__main__":
    main()
