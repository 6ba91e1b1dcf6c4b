"""Adamax: Adam with the infinity norm (torch.optim.Adamax)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_betas, _check_common, _check_not_differentiable, _lerp_, _real,
                        _scalar, _state_scalar, _use_grad_for_differentiable, _zeros_like)

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    """Implements the Adamax algorithm; the update is `adamax`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_common(lr, eps)
        _check_betas(betas)
        _check_common(0.0, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
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
            exp_avgs, exp_infs, steps = [], [], []
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _state_scalar(0.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                exp_avgs.append(state["exp_avg"])
                exp_infs.append(state["exp_inf"])
                steps.append(state["step"])
            beta1, beta2 = group["betas"]
            adamax(params, grads, exp_avgs, exp_infs, steps, eps=group["eps"], beta1=beta1, beta2=beta2,
                   lr=group["lr"], weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def adamax(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor], exp_infs: list[Tensor],
           state_steps: list[Tensor], *, eps: float, beta1: float, beta2: float, lr: float, weight_decay: float,
           maximize: bool, **_: Any) -> None:
    r"""Update `params`, the first moment and the infinity norm in place.

    .. math::
        g_t \leftarrow \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        u_t \leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \quad
        \theta_t \leftarrow \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\, \frac{m_t}{u_t}
    """
    lr = _scalar(lr)
    for i, p in enumerate(params):
        param = _real(p._data)
        g = _real(grads[i]._data)
        m_t, u_t, step_t = exp_avgs[i], exp_infs[i], state_steps[i]
        m, u = _real(m_t._data), _real(u_t._data)
        if maximize:
            g = np.negative(g)
        step_t._data += 1
        if weight_decay != 0:
            tmp = np.multiply(param, weight_decay, dtype=param.dtype)
            tmp += g
            g = tmp
        _lerp_(m, g, 1 - beta1)
        u *= beta2
        tmp = np.abs(g)
        tmp += eps
        np.maximum(u, tmp, out=u)
        clr = lr / (1 - beta1 ** float(step_t._data))
        np.divide(m, u, out=tmp)
        tmp *= -clr
        param += tmp
        _bump(p, m_t, u_t, step_t)
