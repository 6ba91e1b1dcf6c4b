"""RAdam: Adam with a rectified adaptive learning rate (torch.optim.RAdam)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _addcmul_sq_, _bump, _check_args, _check_flags, _decayed_grad, _lerp_, _real,
                        _scalar, _step_by_group)

__all__ = ["RAdam", "radam"]


class RAdam(Optimizer):
    """Implements the RAdam algorithm; the update is `radam`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)
        _check_flags(differentiable)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                          ("decoupled_weight_decay", False), ("capturable", False))

    step = _step_by_group

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Run `radam` on the group's parameters that have gradients, creating their state on first use."""
        st = self._lazy_state(params, ("exp_avg", "exp_avg_sq"))
        beta1, beta2 = group["betas"]
        radam(params, grads, st["exp_avg"], st["exp_avg_sq"], st["step"], beta1=beta1, beta2=beta2, lr=group["lr"],
              weight_decay=group["weight_decay"], eps=group["eps"],
              decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"])


def radam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor], exp_avg_sqs: list[Tensor],
          state_steps: list[Tensor], *, beta1: float, beta2: float, lr: float, weight_decay: float, eps: float,
          decoupled_weight_decay: bool = False, maximize: bool = False, **_: Any) -> None:
    r"""Update `params` and the moment estimates in place.

    .. math::
        m_t, v_t \text{ as in Adam}, \quad \hat m_t \leftarrow m_t / (1-\beta_1^t), \quad
        \rho_\infty \leftarrow 2/(1-\beta_2) - 1, \quad \rho_t \leftarrow \rho_\infty - 2t\beta_2^t/(1-\beta_2^t) \\
        \text{if } \rho_t > 5:\; r_t \leftarrow \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}},\;
        l_t \leftarrow \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon},\;
        \theta_t \leftarrow \theta_{t-1} - \gamma \hat m_t l_t r_t
        \quad \text{else } \theta_t \leftarrow \theta_{t-1} - \gamma \hat m_t
    """
    lr = _scalar(lr)
    for i, p in enumerate(params):
        param = _real(p._data)
        g = _real(grads[i]._data)
        m_t, v_t, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]
        m, v = _real(m_t._data), _real(v_t._data)
        step_t._data += 1
        step = float(step_t._data)
        g = _decayed_grad(param, g, maximize=maximize, weight_decay=weight_decay, lr=lr,
                          decoupled=decoupled_weight_decay)
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        _addcmul_sq_(v, g, 1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = np.divide(m, bias_correction1, dtype=m.dtype)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        update *= lr
        if rho_t > 5.0:
            # (bias_correction2 ** 0.5) / (sqrt(v) + eps), as torch evaluates it: reciprocal, then scale
            adaptive = np.sqrt(v)
            adaptive += eps
            np.reciprocal(adaptive, out=adaptive)
            adaptive *= bias_correction2 ** 0.5
            update *= adaptive
            update *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        param -= update
        _bump(p, m_t, v_t, step_t)
