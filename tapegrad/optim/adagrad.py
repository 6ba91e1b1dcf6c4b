"""Adagrad (torch.optim.Adagrad)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._tensor import Tensor, make
from .optimizer import (Optimizer, _bump, _check_common, _check_not_differentiable, _real, _scalar, _state_scalar,
                        _use_grad_for_differentiable)

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm; the update is `adagrad`'s. State is created for every parameter
    when the optimizer is built, as torch does."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_common(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        _check_common(0.0, weight_decay=weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check_common(0.0, eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        _check_not_differentiable(differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p: Tensor, initial_accumulator_value: float) -> None:
        state = self.state[p]
        state["step"] = _state_scalar(0.0)
        value = complex(initial_accumulator_value, initial_accumulator_value) if p.is_complex() \
            else initial_accumulator_value
        state["sum"] = make(np.full_like(p._data, value), False, None, 0)

    # group keys that older state dicts may lack (filled in by Optimizer.__setstate__)
    _setstate_defaults = (("foreach", None), ("maximize", False), ("differentiable", False), ("fused", None))

    @_use_grad_for_differentiable
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            params, grads = self._with_grads(group)
            sums, steps = [], []
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    self._init_state(p, self.defaults["initial_accumulator_value"])
                sums.append(state["sum"])
                steps.append(state["step"])
            adagrad(params, grads, sums, steps, lr=group["lr"], weight_decay=group["weight_decay"],
                    lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"])
        return loss


def adagrad(params: list[Tensor], grads: list[Tensor], state_sums: list[Tensor], state_steps: list[Tensor], *,
            lr: float, weight_decay: float, lr_decay: float, eps: float, maximize: bool, **_: Any) -> None:
    r"""Update `params` and the accumulated squared gradients in place.

    .. math::
        g_t \leftarrow \pm\nabla_\theta f_t(\theta_{t-1}) + \lambda\theta_{t-1}, \quad
        \tilde\gamma \leftarrow \gamma / (1 + (t-1)\eta) \\
        s_t \leftarrow s_{t-1} + g_t^2, \quad \theta_t \leftarrow \theta_{t-1} - \tilde\gamma\, g_t / (\sqrt{s_t} + \epsilon)
    """
    lr = _scalar(lr)
    for p, grad, sum_t, step_t in zip(params, grads, state_sums, state_steps):
        param = _real(p._data)
        g = _real(grad._data)
        s = _real(sum_t._data)
        step_t._data += 1
        step = float(step_t._data)
        if maximize:
            g = np.negative(g)
        if weight_decay != 0:
            tmp = np.multiply(param, weight_decay, dtype=param.dtype)
            tmp += g
            g = tmp
        clr = lr / (1 + (step - 1) * lr_decay)
        std = np.multiply(g, g)
        s += std
        np.sqrt(s, out=std)
        std += eps
        np.divide(g, std, out=std)
        std *= -clr
        param += std
        _bump(p, sum_t, step_t)
