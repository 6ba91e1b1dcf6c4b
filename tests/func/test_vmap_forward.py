"""Forward mode and vmap composed, in every order: vmap(jvp), jvp(vmap), vmap(jacfwd), vmap(hessian), ...

(a) A sweep over every differentiable op of the table: with primals and tangents batched (both,
primals only, tangents only), vmap(jvp(op)) equals a Python loop of jvp(op); jvp(vmap(op)) too;
and the per-sample Hessian-vector product vmap(jvp(grad(<op, w>))) equals a loop of it.
(b) Compositions of the torch.func transforms against torch.func itself.
"""
from __future__ import annotations

import importlib.util
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.func import grad, jvp, vmap
from tapegrad.ops import OPS
from tapegrad.ops._samples import samples_of


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_table = _load("tests_ops_test_op_table_for_vmap_fw", Path(__file__).parents[1] / "ops" / "test_op_table.py")

MAX_SAMPLES = 3
BATCH = 3
# (op name, sample index, mode), (op name, mode) or (op name,) -> reason
KNOWN_FAILURES: dict[tuple, str] = {
    **{("batch_norm", 1, tag): "training with unbatched running stats and a batched input: torch's vmap raises "
       "(its error), the loop does not" for tag in ("both", "primals_only", "jvp_of_vmap", "hvp")},
}


# ---------------------------------------------------------------------------------------
# (a) the sweep

def _op_cases() -> list:
    out = []
    for name in sorted(OPS):
        op = OPS[name]
        if not op.differentiable or op.samples is None or op.nondeterministic_samples:
            continue
        for i, sample in enumerate(samples_of(op)[:MAX_SAMPLES]):
            out.append((name, i, sample))
    return out


_CASES = _op_cases()


class _Case:
    """One sample as a function of its floating differentiable inputs, with batches of primals and tangents."""

    def __init__(self, name: str, index: int, sample: Any) -> None:
        self.op = OPS[name]
        self.sample = sample
        b = _table._Builder(self.op, sample)
        _, _, grads = b.build(lambda d, r: _table._tg_tensor(d, r))
        rng = np.random.RandomState(zlib.crc32(f"{name}-{index}".encode()))
        self.primals = [tg.from_numpy(np.stack([g._data + rng.uniform(-1e-3, 1e-3, g.shape) for _ in range(BATCH)]))
                        for g in grads]
        self.tangents = [tg.from_numpy(rng.uniform(-1, 1, (BATCH,) + tuple(g.shape))) for g in grads]

    def __call__(self, *xs: Any) -> tuple:
        counter = iter(range(len(xs)))
        args, kwargs, _ = _table._Builder(self.op, self.sample).build(
            lambda d, req: xs[next(counter)] if req else tg.from_numpy(np.array(d, copy=True)))
        outs = _table._outputs(self.op.callable(*args, **kwargs))
        n = self.op.differentiable_outputs if self.op.differentiable_outputs >= 0 else len(outs)
        return tuple(o for o in outs[:n] if o.dtype.is_floating_point)


def _prepare(name: str, i: int, sample: Any) -> _Case | None:
    case = _Case(name, i, sample)
    if not case.primals:
        return None
    try:
        outs = [case(*[p[b] for p in case.primals]) for b in range(BATCH)]
    except Exception:  # noqa: BLE001 - an error sample: not this sweep's subject
        return None
    return case if outs[0] else None


def _compare(got: tuple, loop: list, what: str) -> None:
    for k, g in enumerate(got):
        ref = np.stack([r[k].numpy() for r in loop])
        assert tuple(g.shape) == ref.shape, f"{what} {k}: shape {tuple(g.shape)} vs {ref.shape}"
        np.testing.assert_allclose(g.numpy(), ref, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=f"{what} {k}")


def _same_error_or(loop: Any, batched: Any) -> Any:
    """loop(): the reference; when it raises, batched() must raise the same type (torch has no derivative...)."""
    try:
        return loop()
    except Exception as exc:  # noqa: BLE001 - its type is compared
        with pytest.raises(type(exc)):
            batched()
        return None


def _check_jvp(case: _Case, mode: str) -> None:
    P, T = case.primals, case.tangents
    n = len(P)
    if mode == "tangents_only":
        P = [p[0] for p in P]
    if mode == "primals_only":
        T = [t[0] for t in T]
    pdim = None if mode == "tangents_only" else 0
    tdim = None if mode == "primals_only" else 0
    def looped() -> list:
        return [jvp(case, tuple(p if pdim is None else p[b] for p in P), tuple(t if tdim is None else t[b] for t in T))
                for b in range(BATCH)]

    def batched() -> tuple:
        if mode == "jvp_of_vmap":
            return jvp(vmap(case), tuple(P), tuple(T))
        return vmap(lambda *a: jvp(case, tuple(a[:n]), tuple(a[n:])), in_dims=(pdim,) * n + (tdim,) * n)(*P, *T)
    loop = _same_error_or(looped, batched)
    if loop is None:
        return
    got_p, got_t = batched()
    _compare(got_p, [r[0] for r in loop], "primal")
    _compare(got_t, [r[1] for r in loop], "tangent")


def _check_hvp(case: _Case) -> None:
    """Per-sample forward-over-reverse: vmap(jvp(grad(x -> <op(x), w>))) against a loop."""
    n = len(case.primals)
    outs = case(*[p[0] for p in case.primals])
    rng = np.random.RandomState(1)
    ws = [tg.from_numpy(rng.uniform(-1, 1, tuple(o.shape))) for o in outs]

    def scalar(*xs: Any) -> Any:
        total = None
        for o, w in zip(case(*xs), ws):
            term = (o * w).sum()
            total = term if total is None else total + term
        return total

    argnums = tuple(range(n))
    def hvp(*a: Any) -> tuple:
        return jvp(grad(scalar, argnums=argnums), tuple(a[:n]), tuple(a[n:]))[1]
    loop = _same_error_or(lambda: [hvp(*[p[b] for p in case.primals], *[t[b] for t in case.tangents])
                                   for b in range(BATCH)], lambda: vmap(hvp)(*case.primals, *case.tangents))
    if loop is not None:
        _compare(vmap(hvp)(*case.primals, *case.tangents), loop, "hvp")


def _sweep(check: Any, tag: str) -> None:
    failures = []
    for name, i, sample in _CASES:
        reason = KNOWN_FAILURES.get((name, i, tag)) or KNOWN_FAILURES.get((name, tag)) or KNOWN_FAILURES.get((name,))
        case = _prepare(name, i, sample)
        if case is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(case)
        except Exception as exc:  # collect them all: one report
            if not reason:
                failures.append(f"{name}[{i}]: {type(exc).__name__}: {str(exc)[:300]}")
        else:
            assert not reason, f"{name}[{i}] {tag} passes: remove it from KNOWN_FAILURES"
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


@pytest.mark.parametrize("mode", ["both", "primals_only", "tangents_only", "jvp_of_vmap"])
def test_jvp_and_vmap_of_every_op_match_a_loop(mode: str) -> None:
    _sweep(lambda case: _check_jvp(case, mode), mode)


def test_per_sample_hessian_vector_products_of_every_op_match_a_loop() -> None:
    _sweep(_check_hvp, "hvp")


# ---------------------------------------------------------------------------------------
# (b) compositions against torch.func

def _compositions(L: Any, x: Any, W: Any, T: Any, b: Any) -> dict:
    F = L.func
    f = lambda a: (L.tanh(W @ a) * a).sum()
    g = lambda a: L.tanh(W @ a + b) * a
    h = lambda a: L.softmax(a, -1)[1:].exp().cumsum(0) / (a.norm() + 1)
    return {
        "vmap_jvp": lambda: F.vmap(lambda a, t: F.jvp(g, (a,), (t,)))(x, T),
        "vmap_jvp_h": lambda: F.vmap(lambda a, t: F.jvp(h, (a,), (t,)))(x, T),
        "jvp_vmap": lambda: F.jvp(F.vmap(g), (x,), (T,)),
        "jvp_vmap_h": lambda: F.jvp(F.vmap(h), (x,), (T,)),
        "vmap_jvp_unbatched_tangent": lambda: F.vmap(lambda a: F.jvp(g, (a,), (T[0],)))(x),
        "vmap_jvp_unbatched_primal": lambda: F.vmap(lambda t: F.jvp(g, (x[0],), (t,)))(T),
        "vmap_jacfwd": lambda: F.vmap(F.jacfwd(g))(x),
        "vmap_jacfwd_h": lambda: F.vmap(F.jacfwd(h))(x),
        "jacfwd_vmap": lambda: F.jacfwd(F.vmap(g))(x),
        "vmap_hessian": lambda: F.vmap(F.hessian(f))(x),
        "vmap_hessian_h": lambda: F.vmap(F.hessian(lambda a: h(a).sum()))(x),
        "hessian_vmap": lambda: F.hessian(lambda a: F.vmap(f)(a).sum())(x),
        "vmap_jvp_grad": lambda: F.vmap(lambda a, t: F.jvp(F.grad(f), (a,), (t,))[1])(x, T),
        "jvp_vmap_grad": lambda: F.jvp(F.vmap(F.grad(f)), (x,), (T,))[1],
        "vmap_vmap_jvp": lambda: F.vmap(F.vmap(lambda a, t: F.jvp(L.sin, (a,), (t,))))(x, T),
        "vmap_in_dims_1_jvp": lambda: F.vmap(lambda a, t: F.jvp(h, (a,), (t,)), in_dims=(1, 1))(x, T),
        "grad_vmap_jvp": lambda: F.grad(lambda a: F.vmap(lambda u, t: F.jvp(g, (u,), (t,))[1])(a, T).sum())(x),
        "vmap_grad_jvp": lambda: F.vmap(F.grad(lambda u: F.jvp(g, (u,), (T[0],))[1].sum()))(x),
        "jacrev_vmap_jvp": lambda: F.jacrev(lambda a: F.vmap(lambda u, t: F.jvp(g, (u,), (t,))[1])(a, T))(x),
        "vmap_jacfwd_jacfwd": lambda: F.vmap(F.jacfwd(F.jacfwd(lambda a: a.sin() * a.sum())))(x),
        "vmap_vjp_jvp": lambda: F.vmap(lambda a, t: F.vjp(lambda u: F.jvp(g, (u,), (t,))[1], a)[1](t)[0])(x, T),
        "vmap_jvp_out_dims_1": lambda: F.vmap(lambda a, t: F.jvp(lambda u: u.unsqueeze(1) * b, (a,), (t,)),
                                              out_dims=1)(x, T),
        "vmap_jvp_two_inputs": lambda: F.vmap(lambda a, t, w: F.jvp(lambda u, v: u @ v, (a, w), (t, w)))(x, T, W[:3]),
        "jacfwd_jacfwd": lambda: F.jacfwd(F.jacfwd(lambda a: a.sin() * a.sum()))(x[0]),
        "jacfwd_jacrev_two_args": lambda: F.jacfwd(F.jacrev(lambda a, c: (a.exp() * c).sum(), argnums=(0, 1)),
                                                   argnums=(0, 1))(x[0], b),
    }


_COMPOSITIONS = list(_compositions(tg, *[None] * 4))


@pytest.mark.parametrize("case", _COMPOSITIONS)
def test_forward_mode_compositions_match_torch(case: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(0)
    arrays = [rng.randn(3, 4), rng.randn(4, 4), rng.randn(3, 4), rng.randn(4)]
    results = []
    for L in (tg, torch):
        out = _compositions(L, *[L.tensor(a) for a in arrays])[case]()
        leaves = []
        stack = [out]
        while stack:
            o = stack.pop(0)
            if isinstance(o, (tuple, list)):
                stack[:0] = list(o)
            else:
                leaves.append(o.detach().numpy())
        results.append(leaves)
    assert len(results[0]) == len(results[1])
    for got, want in zip(*results):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_hessian_inside_vmap_is_one_batched_computation() -> None:
    """vmap(hessian(f)) runs each op once per Hessian, not once per sample or basis vector."""
    calls = []
    op = OPS["tanh"]
    forward = op.forward
    op.forward = lambda *a: calls.append(1) or forward(*a)
    try:
        x = tg.randn(5, 4, dtype=tg.float64)
        tg.func.vmap(tg.func.hessian(lambda a: a.tanh().sum()))(x)
    finally:
        op.forward = forward
    assert len(calls) == 1


def test_reading_values_inside_vmap_raises_as_torch() -> None:
    """numpy/tolist/data_ptr, item/float/int and bool of a batched tensor raise torch's errors; repr nests
    the levels as torch prints them."""
    torch = pytest.importorskip("torch")
    calls = [lambda t: t.numpy(), lambda t: t.tolist(), lambda t: t.data_ptr(), lambda t: t.sum().item(),
             lambda t: float(t.sum()), lambda t: int(t.sum()), lambda t: bool(t.sum() > 0)]
    for call in calls:
        msgs = []
        for L in (tg, torch):
            with pytest.raises(RuntimeError) as info:
                L.func.vmap(call)(L.ones(3, 2))
            msgs.append(str(info.value))
        assert msgs[0] == msgs[1]
    shown = []
    for L in (tg, torch):
        seen: list = []
        L.func.vmap(L.func.vmap(lambda t: seen.append(repr(t)) or t))(L.tensor([[1.0, 2.0], [3.0, 4.0]]))
        L.func.vmap(lambda t: seen.append(repr(t)) or t)(L.tensor([1.0, 2.0]))
        shown.append(seen)
    assert shown[0] == shown[1]
