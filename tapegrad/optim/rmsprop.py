"""RMSprop (torch.optim.RMSprop), optionally centered and with momentum."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _addcmul_sq_, _bump, _check_common, _check_not_differentiable, _lerp_, _real,
                        _scalar, _state_scalar, _use_grad_for_differentiable, _zeros_like)

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm; the update is `rmsprop`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_common(lr, eps)
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_common(0.0, weight_decay=weight_decay)
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)
        _check_not_differentiable(differentiable)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("momentum", 0), ("centered", False), ("foreach", None), ("maximize", False),
                          ("differentiable", False), ("capturable", False))

    @_use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grads(group)
            square_avgs, grad_avgs, buffers, steps = [], [], [], []
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _state_scalar(0.0)
                    state["square_avg"] = _zeros_like(p)
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = _zeros_like(p)
                square_avgs.append(state["square_avg"])
                steps.append(state["step"])
                if group["momentum"] > 0:
                    buffers.append(state["momentum_buffer"])
                if group["centered"]:
                    grad_avgs.append(state["grad_avg"])
            rmsprop(params, grads, square_avgs, grad_avgs, buffers, steps, lr=group["lr"], alpha=group["alpha"],
                    eps=group["eps"], weight_decay=group["weight_decay"], momentum=group["momentum"],
                    centered=group["centered"], maximize=group["maximize"])
        return loss


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
        if maximize:
            g = np.negative(g)
        step_t._data += 1
        if weight_decay != 0:
            tmp = np.multiply(param, weight_decay, dtype=param.dtype)
            tmp += g
            g = tmp
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
