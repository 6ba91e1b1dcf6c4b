"""Adam (torch.optim.Adam), with AMSGrad and the decoupled weight decay AdamW builds on."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _addcmul_sq_, _bump, _check_args, _check_flags, _decayed_grad, _lerp_, _real,
                        _scalar, _state_scalar, _step_by_group)

__all__ = ["Adam", "adam"]


class Adam(Optimizer):
    """Implements the Adam algorithm; the update is `adam`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_args(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(_scalar(b) if isinstance(b, Tensor) else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_flags(differentiable, fused, foreach)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for key, value in (("amsgrad", False), ("maximize", False), ("foreach", None), ("capturable", False),
                               ("differentiable", False), ("decoupled_weight_decay", False), ("fused", None)):
                group.setdefault(key, value)
            for p in group["params"]:
                st = self.state.get(p, {})
                if st and not isinstance(st["step"], Tensor):
                    st["step"] = _state_scalar(float(st["step"]))

    step = _step_by_group

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Run `adam` on the group's parameters that have gradients, creating their state on first use."""
        amsgrad = group["amsgrad"]
        st = self._lazy_state(params, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else
                              ("exp_avg", "exp_avg_sq"))
        beta1, beta2 = group["betas"]
        adam(params, grads, st["exp_avg"], st["exp_avg_sq"], st.get("max_exp_avg_sq", []), st["step"],
             amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
             eps=group["eps"], maximize=group["maximize"], decoupled_weight_decay=group["decoupled_weight_decay"])


def adam(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor], exp_avg_sqs: list[Tensor],
         max_exp_avg_sqs: list[Tensor], state_steps: list[Tensor], *, amsgrad: bool, beta1: float, beta2: float,
         lr: float, weight_decay: float, eps: float, maximize: bool, decoupled_weight_decay: bool = False,
         **_: Any) -> None:
    r"""Update `params` and the moment estimates in place.

    .. math::
        g_t \leftarrow \pm\nabla_\theta f_t(\theta_{t-1}); \quad
        \text{if } \lambda \ne 0: \theta_{t-1} \leftarrow \theta_{t-1}(1 - \gamma\lambda) \text{ (decoupled) else }
        g_t \leftarrow g_t + \lambda\theta_{t-1} \\
        m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat v_t \leftarrow \max(\hat v_{t-1}, v_t) \text{ if amsgrad else } v_t \\
        \theta_t \leftarrow \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
        \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}
    """
    lr = _scalar(lr)
    for i, p in enumerate(params):
        param = _real(p._data)
        g = _real(grads[i]._data)
        m_t, v_t, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]
        m, v = _real(m_t._data), _real(v_t._data)
        step_t._data += 1
        g = _decayed_grad(param, g, maximize=maximize, weight_decay=weight_decay, lr=lr,
                          decoupled=decoupled_weight_decay)
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        _addcmul_sq_(v, g, 1 - beta2)
        step = float(step_t._data)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if amsgrad:
            vmax_t = max_exp_avg_sqs[i]
            vmax = _real(vmax_t._data)
            np.maximum(vmax, v, out=vmax)
            _bump(vmax_t)
            denom = np.sqrt(vmax)
        else:
            denom = np.sqrt(v)
        denom /= bias_correction2_sqrt
        denom += eps
        np.divide(m, denom, out=denom)
        denom *= -(lr / bias_correction1)
        param += denom
        _bump(p, m_t, v_t, step_t)
