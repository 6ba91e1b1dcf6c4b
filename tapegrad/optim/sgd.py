"""Stochastic gradient descent, optionally with momentum (torch.optim.SGD)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor, make
from .optimizer import Optimizer, _bump, _check_flags, _decayed_grad, _real, _scalar, _step_by_group

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum); the algorithm is `sgd`'s."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float | Tensor = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_flags(differentiable, fused, foreach)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("nesterov", False), ("maximize", False), ("foreach", None), ("differentiable", False),
                          ("fused", False))

    step = _step_by_group

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Run `sgd` on the group's parameters that have gradients, keeping the momentum buffers it makes."""
        use_momentum = group["momentum"] != 0
        buffers = [self.state[p].get("momentum_buffer") for p in params] if use_momentum else []
        sgd(params, grads, buffers, weight_decay=group["weight_decay"], momentum=group["momentum"], lr=group["lr"],
            dampening=group["dampening"], nesterov=group["nesterov"], maximize=group["maximize"])
        if use_momentum:
            for p, buf in zip(params, buffers):
                self.state[p]["momentum_buffer"] = buf


def sgd(params: list[Tensor], d_p_list: list[Tensor], momentum_buffer_list: list[Tensor | None], *,
        weight_decay: float, momentum: float, lr: float, dampening: float, nesterov: bool, maximize: bool,
        **_: Any) -> None:
    r"""Update `params` in place; new momentum buffers are stored into `momentum_buffer_list`.

    .. math::
        g_t \leftarrow \pm\nabla_\theta f_t(\theta_{t-1}) \;(- \text{ if maximize}), \quad
        g_t \leftarrow g_t + \lambda\theta_{t-1} \;\text{if}\; \lambda \ne 0 \\
        \text{if } \mu \ne 0:\; b_t \leftarrow \mu b_{t-1} + (1-\tau) g_t \;(b_1 = g_1), \quad
        g_t \leftarrow g_t + \mu b_t \text{ if nesterov else } b_t \\
        \theta_t \leftarrow \theta_{t-1} - \gamma g_t
    """
    lr, weight_decay = _scalar(lr), _scalar(weight_decay)
    for i, p in enumerate(params):
        param = _real(p._data)
        g = _real(d_p_list[i]._data)
        raw = g
        g = _decayed_grad(param, g, maximize=maximize, weight_decay=weight_decay)
        fresh = g is not raw  # whether g is a temporary we may overwrite
        if momentum != 0:
            buf_t = momentum_buffer_list[i]
            if buf_t is None:
                buf_t = make(_from_real(g, p._data), False, None, 0)
                momentum_buffer_list[i] = buf_t
                buf = _real(buf_t._data)
            else:
                buf = _real(buf_t._data)
                buf *= momentum
                if dampening == 0:
                    buf += g
                else:
                    buf += np.multiply(g, 1 - dampening, dtype=buf.dtype)
                _bump(buf_t)
            if nesterov:
                tmp = np.multiply(buf, momentum, dtype=buf.dtype)
                tmp += g
                g, fresh = tmp, True
            else:
                g, fresh = buf, False
        step = g if fresh else np.empty_like(g)
        np.multiply(g, -lr, out=step)
        param += step
        _bump(p)


def _from_real(g: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A copy of `g` (an array made by _real) with the dtype and shape of `like`."""
    g = np.array(g, copy=True)
    return (g.view(like.dtype) if like.dtype.kind == "c" else g).reshape(like.shape)
