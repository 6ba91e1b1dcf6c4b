"""NAdam: Adam with Nesterov momentum (torch.optim.NAdam)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _addcmul_sq_, _bump, _check_args, _check_flags, _decayed_grad, _lerp_, _real,
                        _scalar, _state_scalar, _step_by_group, _zeros_like)

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    """Implements the NAdam algorithm; the update is `nadam`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)
        _check_flags(differentiable)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("maximize", False), ("foreach", None), ("capturable", False),
                          ("differentiable", False), ("decoupled_weight_decay", False))

    step = _step_by_group

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Run `nadam` on the group's parameters that have gradients, creating their state on first use."""
        st = self._lazy_state(params, ("exp_avg", "exp_avg_sq", "mu_product"), lambda p: {
            "step": _state_scalar(0.0), "mu_product": _state_scalar(1.0), "exp_avg": _zeros_like(p),
            "exp_avg_sq": _zeros_like(p)})
        beta1, beta2 = group["betas"]
        nadam(params, grads, st["exp_avg"], st["exp_avg_sq"], st["mu_product"], st["step"], beta1=beta1, beta2=beta2,
              lr=group["lr"], weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
              eps=group["eps"], decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])


def nadam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor], exp_avg_sqs: list[Tensor],
          mu_products: list[Tensor], state_steps: list[Tensor], *, beta1: float, beta2: float, lr: float,
          weight_decay: float, momentum_decay: float, eps: float, decoupled_weight_decay: bool = False,
          maximize: bool = False, **_: Any) -> None:
    r"""Update `params` and the moment estimates in place.

    .. math::
        \mu_t \leftarrow \beta_1 (1 - \tfrac12 0.96^{t\psi}), \quad \mu_{t+1} \leftarrow \beta_1 (1 - \tfrac12 0.96^{(t+1)\psi}) \\
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2,
        \quad d_t \leftarrow \sqrt{v_t / (1-\beta_2^t)} + \epsilon \\
        \theta_t \leftarrow \theta_{t-1} - \gamma \frac{1-\mu_t}{1-\prod_{i\le t}\mu_i} \frac{g_t}{d_t}
        - \gamma \frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i} \frac{m_t}{d_t}
    """
    lr = _scalar(lr)
    for i, p in enumerate(params):
        param = _real(p._data)
        g = _real(grads[i]._data)
        m_t, v_t, mu_t, step_t = exp_avgs[i], exp_avg_sqs[i], mu_products[i], state_steps[i]
        m, v = _real(m_t._data), _real(v_t._data)
        step_t._data += 1
        step = float(step_t._data)
        bias_correction2 = 1 - beta2 ** step
        g = _decayed_grad(param, g, maximize=maximize, weight_decay=weight_decay, lr=lr,
                          decoupled=decoupled_weight_decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_t._data *= mu
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        _addcmul_sq_(v, g, 1 - beta2)
        denom = np.divide(v, bias_correction2, dtype=v.dtype)
        np.sqrt(denom, out=denom)
        mu_product = float(mu_t._data)
        mu_product_next = mu_product * mu_next
        denom += eps
        tmp = np.divide(g, denom, dtype=param.dtype)
        tmp *= -lr * (1.0 - mu) / (1.0 - mu_product)
        param += tmp
        np.divide(m, denom, out=tmp)
        tmp *= (-lr * mu_next) / (1.0 - mu_product_next)
        param += tmp
        _bump(p, m_t, v_t, mu_t, step_t)
