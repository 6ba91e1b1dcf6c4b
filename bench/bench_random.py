"""Time 10 million float32 normals from tapegrad's generator against torch.randn.

Run: python3 bench/bench_random.py [n]
Prints both best-of-5 times and their ratio (torch is optional; without it only
tapegrad's time is shown).  The generator module is loaded by path, numpy only.
"""

import importlib.util
import pathlib
import sys
import time

_PATH = pathlib.Path(__file__).resolve().parents[1] / "tapegrad" / "_generator.py"
_spec = importlib.util.spec_from_file_location("tapegrad_generator_bench", _PATH)
_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gen)


def best_of(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n=10_000_000):
    g = _gen.Generator(0)
    ours = best_of(lambda: g.normal(n))
    print(f"tapegrad normal({n:,}) float32: {ours * 1e3:8.1f} ms")
    words = best_of(lambda: g._words(n))
    print(f"  of which raw MT19937 words:  {words * 1e3:8.1f} ms")
    try:
        import torch
    except ImportError:
        print("torch not installed: no comparison")
        return
    torch.manual_seed(0)
    theirs = best_of(lambda: torch.randn(n))
    print(f"torch.randn({n:,}) float32:    {theirs * 1e3:8.1f} ms  "
          f"(torch threads: {torch.get_num_threads()})")
    print(f"ratio tapegrad / torch: {ours / theirs:.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
