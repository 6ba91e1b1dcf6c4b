"""Adadelta (torch.optim.Adadelta)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _addcmul_sq_, _bump, _check_args, _check_flags, _decayed_grad, _real, _scalar,
                        _step_by_group)

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm; the update is `adadelta`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_args(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)
        _check_flags(differentiable)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    step = _step_by_group

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Run `adadelta` on the group's parameters that have gradients, creating their state on first use."""
        st = self._lazy_state(params, ("square_avg", "acc_delta"))
        adadelta(params, grads, st["square_avg"], st["acc_delta"], st["step"], lr=group["lr"], rho=group["rho"],
                 eps=group["eps"], weight_decay=group["weight_decay"], maximize=group["maximize"])


def adadelta(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor], acc_deltas: list[Tensor],
             state_steps: list[Tensor], *, lr: float, rho: float, eps: float, weight_decay: float, maximize: bool,
             **_: Any) -> None:
    r"""Update `params` and the running averages in place.

    .. math::
        g_t \leftarrow \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        v_t \leftarrow \rho v_{t-1} + (1-\rho) g_t^2 \\
        \Delta x_t \leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t, \quad
        u_t \leftarrow \rho u_{t-1} + (1-\rho) \Delta x_t^2, \quad \theta_t \leftarrow \theta_{t-1} - \gamma \Delta x_t
    """
    lr = _scalar(lr)
    for p, grad, sq_t, acc_t, step_t in zip(params, grads, square_avgs, acc_deltas, state_steps):
        param = _real(p._data)
        g = _real(grad._data)
        sq, acc = _real(sq_t._data), _real(acc_t._data)
        step_t._data += 1
        g = _decayed_grad(param, g, maximize=maximize, weight_decay=weight_decay)
        sq *= rho
        _addcmul_sq_(sq, g, 1 - rho)
        std = np.add(sq, eps, dtype=sq.dtype)
        np.sqrt(std, out=std)
        delta = np.add(acc, eps, dtype=acc.dtype)
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        acc *= rho
        _addcmul_sq_(acc, delta, 1 - rho)
        delta *= -lr
        param += delta
        _bump(p, sq_t, acc_t, step_t)
