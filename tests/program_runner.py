"""Running plain torch programs under tapegrad (installed as `torch`) and under torch, and comparing
what they print: the machinery of test_seeds.py and test_tutorial_programs.py.

Each program runs in a fresh process. With torch installed it also runs under torch twice, with
two random seeds: lines that differ between those two runs depend on the random generator and
are compared by their shape only (numbers masked); every other line must match, text exactly and
numbers within rtol 1e-4 / atol 1e-5. `at 0x...` addresses are ignored. Without torch, the
programs must still run to completion under tapegrad.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
ADDR = re.compile(r" at 0x[0-9a-fA-F]+")
HAVE_TORCH = importlib.util.find_spec("torch") is not None

# Runs a program with `torch` bound to the given module (and every submodule), seeded.
SHIM = r'''
import sys, importlib, runpy
target, seed, prog = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if target != "torch":
    import importlib.abc, importlib.util

    class Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        """`import torch.X` (any X, e.g. torch.autograd.function) gives the module target.X itself,
        never a second copy of its file."""
        def find_spec(self, name, path=None, _target=None):
            if name.startswith("torch.") and importlib.util.find_spec(target + name[5:]) is not None:
                return importlib.util.spec_from_loader(name, self)
            return None

        def create_module(self, spec):
            return importlib.import_module(target + spec.name[5:])

        def exec_module(self, module):
            pass

    sys.meta_path.insert(0, Alias())
    sys.modules["torch"] = importlib.import_module(target)
    for name, mod in list(sys.modules.items()):
        if name.startswith(target + "."):
            sys.modules["torch" + name[len(target):]] = mod
import torch
torch.manual_seed(seed)
sys.argv = [prog]
runpy.run_path(prog, run_name="__main__")
'''

Run = tuple[int, list[str], str]


def _env() -> dict:
    """The programs' environment: tapegrad importable, and one thread per BLAS/OpenMP pool (the runs go
    side by side on few cores; busy-waiting thread pools then stall each other for seconds)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def run_program(target: str, seed: int, prog: Path) -> Run:
    """(exit status, stdout lines with addresses removed, stderr) of `prog` under `target`."""
    env = _env()
    p = subprocess.run([sys.executable, "-c", SHIM, target, str(seed), str(prog)], capture_output=True,
                       text=True, timeout=300, env=env, cwd=str(ROOT))
    return p.returncode, ADDR.sub("", p.stdout).splitlines(), p.stderr


def skeleton(line: str) -> list[str]:
    return NUM.sub("#", line).split()


def numbers_match(got: str, want: str, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    a, b = NUM.findall(got), NUM.findall(want)
    if skeleton(got) != skeleton(want) or len(a) != len(b):
        return False
    return all(abs(float(x) - float(y)) <= atol + rtol * abs(float(y)) for x, y in zip(a, b))


def compare(got: list[str], ref0: list[str], ref1: list[str]) -> str | None:
    """None when `got` matches torch's output, else a description of the first difference."""
    for i, (g, r0, r1) in enumerate(zip(got, ref0, ref1)):
        ok = skeleton(g) == skeleton(r0) if r0 != r1 else numbers_match(g, r0)
        if not ok:
            return f"line {i + 1}: got {g!r}, torch printed {r0!r}"
    if len(got) != len(ref0):
        return f"{len(got)} lines, torch printed {len(ref0)}"
    return None


def program_params(programs: list[Path], xfail: dict[str, str]) -> list:
    """One pytest param per program, id its stem; the `xfail` ones (by file name) strict xfail."""
    out = []
    for p in programs:
        marks = [pytest.mark.xfail(strict=True, reason=xfail[p.name])] if p.name in xfail else []
        out.append(pytest.param(p, id=p.stem, marks=marks))
    return out


# Runs programs under torch, one forked child each (a fresh process without a fresh `import torch`),
# seeded; prints one JSON line [exit status, stdout, stderr] per program as it finishes.
TORCH_SERVER = r'''
import json, os, runpy, sys, tempfile, traceback
import torch
seed, progs = int(sys.argv[1]), sys.argv[2:]
with tempfile.TemporaryDirectory() as tmp:
    for i, prog in enumerate(progs):
        out, err = os.path.join(tmp, f"{i}.out"), os.path.join(tmp, f"{i}.err")
        sys.stdout.flush(); sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            status = 0
            os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT), 1)
            os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT), 2)
            try:
                torch.manual_seed(seed)
                sys.argv = [prog]
                runpy.run_path(prog, run_name="__main__")
            except BaseException:
                traceback.print_exc()
                status = 1
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(status)
        _, code = os.waitpid(pid, 0)
        with open(out) as fo, open(err) as fe:
            print(json.dumps([os.waitstatus_to_exitcode(code), fo.read(), fe.read()]), flush=True)
'''


class TorchReferences:
    """torch's two runs (seeds 0 and 1) of each program, in the background: one process per seed forks a
    child per program, in order, so they overlap with the tapegrad runs. `start` launches them."""

    def __init__(self, programs: list[Path]) -> None:
        self.programs = programs
        self.procs: list[subprocess.Popen] = []
        self.runs: list[list[Run]] = [[], []]

    def start(self) -> None:
        if not self.procs:
            self.procs = [subprocess.Popen([sys.executable, "-c", TORCH_SERVER, str(seed)]
                                           + [str(p) for p in self.programs],
                                           stdout=subprocess.PIPE, text=True, cwd=str(ROOT), env=_env())
                          for seed in (0, 1)]

    def get(self, prog: Path) -> tuple[Run, Run]:
        self.start()
        i = self.programs.index(prog)
        for proc, runs in zip(self.procs, self.runs):
            while len(runs) <= i:
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"the torch reference runs stopped before {prog.name}")
                code, out, err = json.loads(line)
                runs.append((code, ADDR.sub("", out).splitlines(), err))
        return self.runs[0][i], self.runs[1][i]

    def close(self) -> None:
        """Stop the runs still going (programs not asked for) and release their pipes."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        self.procs = []


def check_program(prog: Path, refs: TorchReferences | None = None) -> None:
    """`prog` runs under tapegrad and prints what torch prints (see the module docstring)."""
    if refs is not None and HAVE_TORCH:
        refs.start()
    rc, got, err = run_program("tapegrad", 0, prog)
    assert rc == 0, f"{prog.name} failed under tapegrad:\n{err}"
    assert got, "the program printed nothing"
    if not HAVE_TORCH:
        pytest.skip("torch not installed: ran under tapegrad only")
    (rc0, ref0, err0), (rc1, ref1, _) = (refs.get(prog) if refs is not None
                                         else (run_program("torch", 0, prog), run_program("torch", 1, prog)))
    assert rc0 == 0 and rc1 == 0, f"{prog.name} failed under torch:\n{err0}"
    diff = compare(got, ref0, ref1)
    assert diff is None, f"{prog.name}: {diff}"
