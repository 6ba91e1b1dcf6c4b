"""gradcheck's check_forward_ad / check_batched_grad / check_batched_forward_grad / check_backward_ad and
gradgradcheck's check_fwd_over_rev / check_batched_grad, against torch (results, errors, the random stream)."""
from __future__ import annotations

from typing import Any

import pytest

import tapegrad as tg


def _run(L: Any) -> list:
    L.manual_seed(0)
    x = L.randn(3, 4, dtype=L.float64, requires_grad=True)
    w = L.randn(4, 2, dtype=L.float64, requires_grad=True)

    def f(a: Any, b: Any) -> tuple:
        return (a @ b).tanh() * a.sum(), a.exp()
    gc, ggc = L.autograd.gradcheck, L.autograd.gradgradcheck
    out = [gc(f, (x, w), check_forward_ad=True), gc(f, (x, w), check_batched_grad=True),
           gc(f, (x, w), check_forward_ad=True, check_batched_forward_grad=True, check_batched_grad=True),
           gc(f, (x, w), check_forward_ad=True, check_backward_ad=False),
           gc(f, (x, w), check_forward_ad=True, fast_mode=True),
           ggc(f, (x, w), check_batched_grad=True), ggc(f, (x, w), check_fwd_over_rev=True),
           L.randn(3).tolist()]  # the batched checks draw from the default generator as torch's do

    class WrongJvp(L.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            return a * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * 2

        @staticmethod
        def jvp(ctx: Any, t: Any) -> Any:
            return t * 3
    with pytest.raises(Exception) as info:
        gc(WrongJvp.apply, (x,), check_forward_ad=True)
    out.append((type(info.value).__name__, str(info.value).splitlines()[0]))
    out.append(gc(WrongJvp.apply, (x,), check_forward_ad=True, raise_exception=False))
    for kwargs in ({"check_forward_ad": False, "check_backward_ad": False},
                   {"check_batched_grad": True, "check_backward_ad": False, "check_forward_ad": True},
                   {"check_batched_forward_grad": True}):
        with pytest.raises(AssertionError) as info:
            gc(f, (x, w), **kwargs)
        out.append(str(info.value))
    return out


def test_forward_and_batched_gradchecks_match_torch() -> None:
    torch = pytest.importorskip("torch")
    got, want = _run(tg), _run(torch)
    assert got[:7] == want[:7] == [True] * 7
    assert got[7] == pytest.approx(want[7], rel=1e-6)
    assert got[8:] == want[8:]
