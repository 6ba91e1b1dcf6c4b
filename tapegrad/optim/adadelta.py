"""Adadelta (torch.optim.Adadelta)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _addcmul_sq_, _bump, _check_common, _check_not_differentiable, _real, _scalar,
                        _state_scalar, _use_grad_for_differentiable, _zeros_like)

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm; the update is `adadelta`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_common(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_common(0.0, eps, weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)
        _check_not_differentiable(differentiable)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    @_use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grads(group)
            square_avgs, acc_deltas, steps = [], [], []
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _state_scalar(0.0)
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                square_avgs.append(state["square_avg"])
                acc_deltas.append(state["acc_delta"])
                steps.append(state["step"])
            adadelta(params, grads, square_avgs, acc_deltas, steps, lr=group["lr"], rho=group["rho"],
                     eps=group["eps"], weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


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
        if maximize:
            g = np.negative(g)
        if weight_decay != 0:
            tmp = np.multiply(param, weight_decay, dtype=param.dtype)
            tmp += g
            g = tmp
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
