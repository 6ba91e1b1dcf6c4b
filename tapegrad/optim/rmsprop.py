"""RMSprop (torch.optim.RMSprop), optionally centered and with momentum."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _addcmul_sq_, _bump, _check_args, _check_flags, _decayed_grad, _lerp_, _real,
                        _scalar, _step_by_group)

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm; the update is `rmsprop`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_args(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)
        _check_flags(differentiable)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("momentum", 0), ("centered", False), ("foreach", None), ("maximize", False),
                          ("differentiable", False), ("capturable", False))

    step = _step_by_group

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Run `rmsprop` on the group's parameters that have gradients, creating their state on first use."""
        names = ("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ()) \
            + (("grad_avg",) if group["centered"] else ())
        st = self._lazy_state(params, names)
        rmsprop(params, grads, st["square_avg"], st.get("grad_avg", []), st.get("momentum_buffer", []), st["step"],
                lr=group["lr"], alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
                momentum=group["momentum"], centered=group["centered"], maximize=group["maximize"])


def rmsprop(params: list[Tensor], grads: list[Tensor], square_avgs: list[Tensor], grad_avgs: list[Tensor],
            momentum_buffer_list: list[Tensor], state_steps: list[Tensor], *, lr: float, alpha: float, eps: float,
            weight_decay: float, momentum: float, centered: bool, maximize: bool, **_: Any) -> None:
    r"""Update `params` and the running averages in place.

    .. math::
        g_t \leftarrow \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        v_t \leftarrow \alpha v_{t-1} + (1-\alpha) g_t^2 \\
        \tilde v_t \leftarrow v_t - (g^{ave}_t)^2,\; g^{ave}_t \leftarrow \alpha g^{ave}_{t-1} + (1-\alpha) g_t
        \text{ if centered else } v_t \\
        \text{if } \mu > 0:\; b_t \leftarrow \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon),\;
        \theta_t \leftarrow \theta_{t-1} - \gamma b_t \quad
        \text{else } \theta_t \leftarrow \theta_{t-1} - \gamma g_t / (\sqrt{\tilde v_t} + \epsilon)
    """
    lr = _scalar(lr)
    for i, p in enumerate(params):
        param = _real(p._data)
        g = _real(grads[i]._data)
        sq_t, step_t = square_avgs[i], state_steps[i]
        sq = _real(sq_t._data)
        step_t._data += 1
        g = _decayed_grad(param, g, maximize=maximize, weight_decay=weight_decay)
        sq *= alpha
        _addcmul_sq_(sq, g, 1 - alpha)
        if centered:
            ga_t = grad_avgs[i]
            ga = _real(ga_t._data)
            _lerp_(ga, g, 1 - alpha)
            avg = np.multiply(ga, -1.0, dtype=ga.dtype)
            avg *= ga
            avg += sq
            np.sqrt(avg, out=avg)
            _bump(ga_t)
        else:
            avg = np.sqrt(sq)
        avg += eps
        if momentum > 0:
            buf_t = momentum_buffer_list[i]
            buf = _real(buf_t._data)
            buf *= momentum
            np.divide(g, avg, out=avg)
            buf += avg
            np.multiply(buf, -lr, out=avg)
            _bump(buf_t)
        else:
            np.divide(g, avg, out=avg)
            avg *= -lr
        param += avg
        _bump(p, sq_t, step_t)
