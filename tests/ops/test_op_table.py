"""Tests generated from the op table: every entry x each of its samples.

For each entry of `tapegrad.ops.OPS` and each sample it carries:
- forward values and dtypes against torch (float64 inputs),
- gradients (same random grad_outputs) and grad_fn names against torch,
- gradcheck and gradgradcheck by finite differences (float64),
- the forward in float32 against the float64 result (and torch's float32 dtype).
Known deviations live in known_failures.py and run as strict xfails.
"""
from __future__ import annotations

import importlib.util
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck, gradgradcheck
from tapegrad.ops import OPS
from tapegrad.ops._samples import samples_of


def _load_known_failures() -> Any:
    """known_failures.py beside this file (tests are imported with --import-mode=importlib)."""
    path = Path(__file__).with_name("known_failures.py")
    spec = importlib.util.spec_from_file_location("tests_ops_known_failures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_known = _load_known_failures()
KNOWN_FAILURES: dict = _known.KNOWN_FAILURES
NO_TORCH_COUNTERPART: dict = _known.NO_TORCH_COUNTERPART

try:  # torch is the specification; the checks against it skip cleanly without it
    import torch
except ImportError:  # pragma: no cover
    torch = None

MAX_SAMPLES = 16      # per op, to keep the suite fast
MAX_GRAD_NUMEL = 200  # gradgradcheck cost grows with the square of the sizes


# ---------------------------------------------------------------------------------------
# cases

def _samples(op: Any) -> list:
    return samples_of(op)[:MAX_SAMPLES]


def _mark(op_name: str, check: str, index: int | None = None) -> list:
    reason = KNOWN_FAILURES.get((op_name, check, index)) or KNOWN_FAILURES.get((op_name, check))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def _cases(check: str, *, differentiable: bool = False, needs_torch: bool = False) -> Iterator[Any]:
    for name in sorted(OPS):
        op = OPS[name]
        if differentiable and not op.differentiable:
            continue
        if needs_torch and name in NO_TORCH_COUNTERPART:
            continue
        for i, sample in enumerate(_samples(op)):
            yield pytest.param(name, i, sample, id=f"{name}-{i}", marks=_mark(name, check, i))


def _sample_numel(sample: Any) -> int:
    total = 0
    for a in list(sample.args) + list(sample.kwargs.values()):
        for x in (a if isinstance(a, (list, tuple)) else [a]):
            if isinstance(x, np.ndarray):
                total += x.size
    return total


# ---------------------------------------------------------------------------------------
# building arguments (arrays stand for tensors, see tapegrad/ops/_samples.py)

def _param_name(op: Any, index: int | None, key: str | None) -> str:
    if key is not None:
        return "self" if key == "input" and "input" not in op.param_names else key
    return op.param_names[index]


def _wants_grad(op: Any, pname: str, array: np.ndarray) -> bool:
    """Floating arrays in differentiable parameter positions become tensors requiring grad."""
    return op.differentiable and pname in op.inputs and array.dtype.kind == "f"


class _Builder:
    """Turns a sample into tapegrad and torch arguments, keeping the tensors that require grad."""

    def __init__(self, op: Any, sample: Any, float_dtype: Any = np.float64) -> None:
        self.op = op
        self.sample = sample
        self.float_dtype = float_dtype

    def build(self, make: Callable[[np.ndarray, bool], Any], convert: Callable[[Any], Any] = lambda v: v) -> tuple:
        """(args, kwargs, tensors requiring grad) with arrays made into tensors by `make`."""
        grads: list = []

        def one(pname: str, a: Any) -> Any:
            if isinstance(a, np.ndarray):
                data = a.astype(self.float_dtype) if a.dtype.kind == "f" else a.copy()
                req = _wants_grad(self.op, pname, a)
                t = make(data, req)
                if req:
                    grads.append(t)
                return t
            if isinstance(a, (list, tuple)) and any(isinstance(x, np.ndarray) for x in a):
                return type(a)(one(pname, x) for x in a)
            return convert(a)

        args = [one(_param_name(self.op, i, None), a) for i, a in enumerate(self.sample.args)]
        kwargs = {k: one(_param_name(self.op, None, k), a) for k, a in self.sample.kwargs.items()}
        return args, kwargs, grads


def _tg_tensor(data: np.ndarray, requires_grad: bool) -> Any:
    return tg.from_numpy(np.array(data, copy=True)).requires_grad_(requires_grad)


def _torch_tensor(data: np.ndarray, requires_grad: bool) -> Any:
    return torch.from_numpy(np.array(data, copy=True)).requires_grad_(requires_grad)


def _to_torch_value(v: Any) -> Any:
    if isinstance(v, tg.dtype):
        return getattr(torch, str(v).split(".")[-1])
    if isinstance(v, tuple):
        return tuple(_to_torch_value(x) for x in v)
    return v


def _outputs(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


# ---------------------------------------------------------------------------------------
# torch's callable for an entry

_BCE_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _torch_adapters() -> dict:
    """Entries whose torch function takes its arguments differently from the entry's forward."""
    F = torch.nn.functional
    return {
        "binary_cross_entropy_with_logits":
            lambda self, target, weight=None, pos_weight=None, reduction="mean":
            F.binary_cross_entropy_with_logits(self, target, weight=weight, pos_weight=pos_weight,
                                               reduction=reduction),
    }


def _aten(base: str, overload: str) -> Any:
    packet = getattr(torch.ops.aten, base, None)
    if packet is None or overload not in packet.overloads():
        return None
    return getattr(packet, overload)


def _aten_by_name(op: Any, aten: Any) -> Callable:
    """Call an aten overload with the entry's arguments bound by name (defaults filled in)."""
    schema = aten._schema.arguments
    schema_names = {a.name for a in schema}

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = op.callable_bind(args, kwargs)
        named = {n: v for n, v in zip(op.param_names, bound) if n in schema_names}
        # a parameter spelled differently from the schema still fills a required argument, in order
        unmatched = [v for n, v in zip(op.param_names, bound) if n not in schema_names]
        for a in schema:
            if a.name not in named and not a.has_default_value() and unmatched:
                named[a.name] = unmatched.pop(0)
        return aten(**named)
    return call


def _public(base: str) -> Any:
    for owner in (torch, torch.Tensor):
        fn = getattr(owner, base, None)
        if fn is not None:
            return fn
    return None


def torch_callable(name: str) -> Callable | None:
    """torch's function for an entry: its aten overload, else the public function or method."""
    adapter = _torch_adapters().get(name)
    if adapter is not None:
        return adapter
    base, _, overload = name.partition(".")
    public = _public(base)
    if overload:
        aten = _aten(base, overload)
        if aten is None:
            return public
        aten = _aten_by_name(OPS[name], aten)
        if public is None:
            return aten

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return aten(*args, **kwargs)
            except RuntimeError as exc:  # aten overloads do not wrap Python scalars; the public API does
                if "Expected a value of type" not in str(exc):
                    raise
                return public(*args, **kwargs)
        return call
    if public is not None:
        return public
    for overload in ("default", "Tensor", "int"):
        aten = _aten(base, overload)
        if aten is not None:
            return _aten_by_name(OPS[name], aten)
    return None


# ---------------------------------------------------------------------------------------
# helpers for the comparisons

def _assert_close(actual: np.ndarray, expected: np.ndarray, what: str, rtol: float = 1e-7, atol: float = 1e-9) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != torch's {expected.shape}"
    if expected.dtype == np.bool_ or expected.dtype.kind in "iu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def _torch_dtype_name(t: Any) -> str:
    return str(t.dtype)


def _rng(*key: Any) -> np.random.RandomState:
    return np.random.RandomState(zlib.crc32(repr(key).encode()) % (2 ** 31))


def _run_both(name: str, sample: Any) -> tuple:
    op = OPS[name]
    fn = torch_callable(name)
    assert fn is not None, (f"no torch callable found for entry {name!r}: add it to NO_TORCH_COUNTERPART in "
                            "known_failures.py with a reason, or an adapter in test_op_table.py")
    b = _Builder(op, sample)
    args, kwargs, tg_inputs = b.build(_tg_tensor)
    targs, tkwargs, torch_inputs = b.build(_torch_tensor, _to_torch_value)
    out = op.callable(*args, **kwargs)
    tout = fn(*targs, **tkwargs)
    return _outputs(out), _outputs(tout), tg_inputs, torch_inputs


# ---------------------------------------------------------------------------------------
# the tests

@pytest.mark.parametrize("name", sorted(OPS))
def test_op_has_samples(name: str, request: Any) -> None:
    for m in _mark(name, "samples"):
        request.applymarker(m)
    assert _samples(OPS[name]), f"op {name} has no sample inputs"


@pytest.mark.parametrize("name,index,sample", list(_cases("forward", needs_torch=True)))
def test_forward_matches_torch(name: str, index: int, sample: Any) -> None:
    if torch is None:
        pytest.skip("torch is not installed")
    outs, touts, _, _ = _run_both(name, sample)
    assert len(outs) == len(touts), f"{len(outs)} outputs, torch gives {len(touts)}"
    for k, (o, t) in enumerate(zip(outs, touts)):
        assert str(o.dtype) == _torch_dtype_name(t), f"output {k}: dtype {o.dtype} != torch's {t.dtype}"
        _assert_close(o._data, t.detach().numpy(), f"output {k}")


@pytest.mark.parametrize("name,index,sample", list(_cases("grad", differentiable=True, needs_torch=True)))
def test_gradients_match_torch(name: str, index: int, sample: Any) -> None:
    if torch is None:
        pytest.skip("torch is not installed")
    outs, touts, tg_inputs, torch_inputs = _run_both(name, sample)
    pairs = [(o, t) for o, t in zip(outs, touts) if t.requires_grad]
    assert [o.requires_grad for o in outs] == [t.requires_grad for t in touts], "outputs requiring grad differ"
    if not pairs or not torch_inputs:
        return
    rng = _rng(name, index)
    gouts = [rng.uniform(-1, 1, size=t.shape).astype(t.detach().numpy().dtype) for _, t in pairs]
    tgrads = torch.autograd.grad([t for _, t in pairs], torch_inputs, [torch.from_numpy(g) for g in gouts],
                                 allow_unused=True)
    grads = tg.autograd.grad([o for o, _ in pairs], tg_inputs, [tg.from_numpy(g.copy()) for g in gouts],
                             allow_unused=True)
    for i, (g, tgr, inp) in enumerate(zip(grads, tgrads, torch_inputs)):
        expected = np.zeros(inp.shape, inp.detach().numpy().dtype) if tgr is None else tgr.numpy(force=True)
        actual = np.zeros(inp.shape, expected.dtype) if g is None else g._data
        if g is not None:
            assert str(g.dtype) == str(inp.dtype), f"input {i}: grad dtype {g.dtype} != input's {inp.dtype}"
        _assert_close(actual, expected, f"gradient of input {i}")


@pytest.mark.parametrize("name,index,sample", list(_cases("grad_fn", differentiable=True, needs_torch=True)))
def test_grad_fn_name_matches_torch(name: str, index: int, sample: Any) -> None:
    if torch is None:
        pytest.skip("torch is not installed")
    outs, touts, _, _ = _run_both(name, sample)
    for k, (o, t) in enumerate(zip(outs, touts)):
        expected = None if t.grad_fn is None else type(t.grad_fn).__name__
        actual = None if o.grad_fn is None else type(o.grad_fn).__name__
        assert actual == expected, f"output {k}: grad_fn {actual} != torch's {expected}"


def _check_function(name: str, sample: Any) -> tuple:
    """A function of the tensors requiring grad that calls the entry, and those tensors."""
    op = OPS[name]
    args, kwargs, inputs = _Builder(op, sample).build(_tg_tensor)
    if not inputs:
        pytest.skip("sample has no floating input to differentiate")  # generic: integer-only samples
    ids = [id(t) for t in inputs]

    def substitute(v: Any, new: dict) -> Any:
        if isinstance(v, (list, tuple)):
            return type(v)(substitute(x, new) for x in v)
        return new.get(id(v), v)

    def func(*tensors: Any) -> Any:
        new = dict(zip(ids, tensors))
        return op.callable(*[substitute(a, new) for a in args], **{k: substitute(v, new) for k, v in kwargs.items()})
    return func, tuple(inputs)


@pytest.mark.parametrize("name,index,sample", list(_cases("gradcheck", differentiable=True)))
def test_gradcheck(name: str, index: int, sample: Any) -> None:
    func, inputs = _check_function(name, sample)
    assert gradcheck(func, inputs)


@pytest.mark.parametrize("name,index,sample", list(_cases("gradgradcheck", differentiable=True)))
def test_gradgradcheck(name: str, index: int, sample: Any) -> None:
    if _sample_numel(sample) > MAX_GRAD_NUMEL:
        pytest.skip(f"sample larger than {MAX_GRAD_NUMEL} elements")  # generic size cap, not a known failure
    func, inputs = _check_function(name, sample)
    tg.manual_seed(zlib.crc32(f"{name}-{index}".encode()))
    assert gradgradcheck(func, inputs)


@pytest.mark.parametrize("name,index,sample", list(_cases("float32")))
def test_float32_forward_matches_float64(name: str, index: int, sample: Any) -> None:
    op = OPS[name]
    args64, kwargs64, _ = _Builder(op, sample).build(_tg_tensor)
    args32, kwargs32, _ = _Builder(op, sample, np.float32).build(_tg_tensor)
    outs64 = _outputs(op.callable(*args64, **kwargs64))
    outs32 = _outputs(op.callable(*args32, **kwargs32))
    for k, (o64, o32) in enumerate(zip(outs64, outs32)):
        if o64._data.dtype.kind == "f":
            _assert_close(o32._data.astype(np.float64), o64._data, f"output {k}", rtol=1e-4, atol=1e-5)
        elif o64._data.dtype.kind in "iub":
            mismatch = np.count_nonzero(o32._data != o64._data)
            # comparisons near a tie may flip in single precision; a few flips are rounding, not a bug
            assert mismatch <= max(1, o64._data.size // 20), f"output {k}: {mismatch} elements differ"
    if torch is not None and name not in NO_TORCH_COUNTERPART:
        fn = torch_callable(name)
        targs, tkwargs, _ = _Builder(op, sample, np.float32).build(_torch_tensor, _to_torch_value)
        touts = _outputs(fn(*targs, **tkwargs))
        for k, (o32, t) in enumerate(zip(outs32, touts)):
            assert str(o32.dtype) == _torch_dtype_name(t), f"output {k}: dtype {o32.dtype} != torch's {t.dtype}"
