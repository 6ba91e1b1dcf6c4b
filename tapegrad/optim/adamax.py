"""Adamax: Adam with the infinity norm (torch.optim.Adamax)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_args, _check_flags, _decayed_grad, _lerp_, _real, _scalar,
                        _step_by_group)

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    """Implements the Adamax algorithm; the update is `adamax`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)
        _check_flags(differentiable)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    step = _step_by_group

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Run `adamax` on the group's parameters that have gradients, creating their state on first use."""
        st = self._lazy_state(params, ("exp_avg", "exp_inf"))
        beta1, beta2 = group["betas"]
        adamax(params, grads, st["exp_avg"], st["exp_inf"], st["step"], eps=group["eps"], beta1=beta1, beta2=beta2,
               lr=group["lr"], weight_decay=group["weight_decay"], maximize=group["maximize"])


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
        step_t._data += 1
        g = _decayed_grad(param, g, maximize=maximize, weight_decay=weight_decay)
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
