"""Adagrad (torch.optim.Adagrad)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, make
from .optimizer import (Optimizer, _bump, _check_args, _check_flags, _decayed_grad, _real, _scalar, _state_scalar,
                        _step_by_group)

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm; the update is `adagrad`'s. State is created for every parameter
    when the optimizer is built, as torch does."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_args(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                    initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _check_flags(differentiable, fused, foreach)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].update(self._fresh_state(p, initial_accumulator_value))

    @staticmethod
    def _fresh_state(p: Tensor, initial_accumulator_value: float) -> dict[str, Tensor]:
        """A new state for `p`: a `step` of 0 and a `sum` filled with the initial accumulator value."""
        value = complex(initial_accumulator_value, initial_accumulator_value) if p.is_complex() \
            else initial_accumulator_value
        return {"step": _state_scalar(0.0), "sum": make(np.full_like(p._data, value), False, None, 0)}

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("fused", None))

    step = _step_by_group

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Run `adagrad` on the group's parameters that have gradients, creating their state on first use."""
        initial = self.defaults["initial_accumulator_value"]
        st = self._lazy_state(params, ("sum",), lambda p: self._fresh_state(p, initial))
        adagrad(params, grads, st["sum"], st["step"], lr=group["lr"], weight_decay=group["weight_decay"],
                lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"])


def adagrad(params: list[Tensor], grads: list[Tensor], state_sums: list[Tensor], state_steps: list[Tensor], *,
            lr: float, weight_decay: float, lr_decay: float, eps: float, maximize: bool, **_: Any) -> None:
    r"""Update `params` and the accumulated squared gradients in place.

    .. math::
        g_t \leftarrow \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        \tilde\gamma \leftarrow \gamma / (1 + (t-1)\eta) \\
        s_t \leftarrow s_{t-1} + g_t^2, \quad \theta_t \leftarrow \theta_{t-1} - \tilde\gamma\, g_t / (\sqrt{s_t} + \epsilon)
    """
    lr = _scalar(lr)
    for p, grad, sum_t, step_t in zip(params, grads, state_sums, state_steps):
        param = _real(p._data)
        g = _real(grad._data)
        s = _real(sum_t._data)
        step_t._data += 1
        step = float(step_t._data)
        g = _decayed_grad(param, g, maximize=maximize, weight_decay=weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        std = np.multiply(g, g)
        s += std
        np.sqrt(s, out=std)
        std += eps
        np.divide(g, std, out=std)
        std *= -clr
        param += std
        _bump(p, sum_t, step_t)
