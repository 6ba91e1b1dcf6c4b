"""Time 10 million float32 normals from tapegrad's generator against torch.randn, in the same run.

Run: python3 bench/bench_random.py [n] [rounds]
The three contenders run in turn, round after round, so that load from other processes hits
them alike; the table gives each one's best and median time and the ratio of the bests.
"tapegrad" is the default configuration (threads for large draws), "tapegrad 1 thread" the
same sampler kept on one thread.  torch is optional; the generator module is loaded by path,
NumPy only.
"""

import importlib.util
import pathlib
import statistics
import sys
import time

_PATH = pathlib.Path(__file__).resolve().parents[1] / "tapegrad" / "_generator.py"
_spec = importlib.util.spec_from_file_location("tapegrad_generator_bench", _PATH)
_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gen)


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(n=10_000_000, rounds=11):
    g = _gen.Generator(0)
    parallel_min = _gen._PARALLEL_MIN

    def single():
        _gen._PARALLEL_MIN = 1 << 62
        try:
            g.normal(n)
        finally:
            _gen._PARALLEL_MIN = parallel_min

    contenders = {"tapegrad": lambda: g.normal(n), "tapegrad 1 thread": single}
    try:
        import torch
        torch.manual_seed(0)
        contenders["torch"] = lambda: torch.randn(n)
        threads = torch.get_num_threads()
    except ImportError:
        threads = None
    g.normal(n)  # builds the tables of the fast path once
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            times[name].append(_timed(fn))
    words = min(_timed(lambda: g._words(n)) for _ in range(3))
    print(f"normal({n:,}) float32, {rounds} rounds (best / median ms)")
    for name, ts in times.items():
        line = f"  {name:18s} {min(ts) * 1e3:7.1f} / {statistics.median(ts) * 1e3:7.1f}"
        if "torch" in times and name != "torch":
            line += f"   ratio to torch {min(ts) / min(times['torch']):.2f}x"
        print(line)
    print(f"  raw MT19937 words  {words * 1e3:7.1f} (part of tapegrad's time)")
    if threads is None:
        print("torch not installed: no comparison")
    else:
        print(f"torch threads: {threads}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
