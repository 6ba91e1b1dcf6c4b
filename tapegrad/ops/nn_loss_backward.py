"""Backward ops of the losses, torch's `<loss>_backward`: mse, smooth L1, Huber, NLL (plain and 2d).

Note [Loss backward ops]
As the activations' (Note [Activation backward ops] in nn_activation_backward.py), a loss's
gradient is one op with derivative formulas of its own, so a plain backward runs one NumPy
pass, and with create_graph the gradient's grad_fn is torch's (`MseLossBackwardBackward0`...).
torch differentiates a pointwise loss in `target` with the same op, `self` and `target`
swapped; a 'mean' divides by the numel of the differentiated input (not of the broadcast
loss), which these ops follow. The pointwise losses' backward are linear in `grad_output` and
elementwise in `self` and `target` ('pointwise' tangents); their vmap rule is in
func/_batch_rules_nn.py. nll_loss_backward is linear in `grad_output` (its derivative there is
nll_loss itself) and constant in `self`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._nn_args import MEAN, NONE, SUM
from ._registry import defop, dispatch
from ._samples import Sample, arr, ints
from .comparison import where

_PW3 = {"grad_output": "pointwise", "self": "pointwise", "target": "pointwise"}


def _norm(numel: int, reduction: int) -> float:
    """The factor a reduction puts on each element's gradient."""
    if reduction == MEAN:
        return 1.0 / numel if numel else float("nan")
    return 1.0


def _cast(out: Any, like: np.ndarray) -> np.ndarray:
    return np.asarray(out).astype(like.dtype, copy=False)


def _samples(extra: tuple = ()) -> Any:
    def samples():
        yield Sample(arr(), arr(3, 4), arr(3, 4), MEAN, *extra)
        yield Sample(arr(5), arr(5), arr(5), NONE, *extra)
        yield Sample(arr(), arr(2, 3), arr(2, 3), SUM, *extra)
        yield Sample(arr(), arr(), arr(), MEAN, *extra)
        yield Sample(arr(3, 4), arr(3, 4), arr(4), NONE, *extra)  # a broadcast 'mean' is not differentiable as torch
        yield Sample(arr(), arr(0, 2), arr(0, 2), MEAN, *extra)
    return samples


def _pointwise_loss_backward(name: str, forward: Any, node: str, grads: dict, extra: tuple) -> Any:
    return defop(name, forward, node=node, promote="common", method=False, function=False,
                 inputs=("grad_output", "self", "target"), tensors=("grad_output", "self", "target"), grads=grads,
                 samples=_samples(extra), jvps=_PW3)


# ---------------------------------------------------------------------------------------
# mse: 2 * (self - target) * grad_output (/ numel for 'mean')

def _mse_backward(grad_output, self, target, reduction):
    return _cast(grad_output * (2 * _norm(self.size, reduction)) * (self - target), grad_output)


def _mse_gg(grad, self, target, self_shape, reduction):
    return grad * (self - target) * (2 * _norm(math.prod(self_shape), reduction))


def _mse_gs(grad, grad_output, self_shape, reduction):
    return grad * grad_output * (2 * _norm(math.prod(self_shape), reduction))


def _mse_gt(grad, grad_output, target_shape, reduction):
    # torch divides a 'mean' by target's numel here (unlike smooth L1 and Huber): not the derivative
    # when self and target broadcast, but torch's value
    return grad * grad_output * (-2 * _norm(math.prod(target_shape), reduction))


MSE_LOSS_BACKWARD = _pointwise_loss_backward(
    "mse_loss_backward", _mse_backward, "MseLossBackwardBackward0",
    {"grad_output": _mse_gg, "self": _mse_gs, "target": _mse_gt}, ())


def mse_loss_backward(grad_output: Any, self: Any, target: Any, reduction: int) -> Any:
    return dispatch(MSE_LOSS_BACKWARD, (grad_output, self, target, reduction))


# ---------------------------------------------------------------------------------------
# smooth L1: clamp((self - target) / beta, -1, 1) * grad_output; Huber: clamp(self - target, -delta, delta)

def _smooth_l1_backward(grad_output, self, target, reduction, beta):
    d = self - target
    slope = np.sign(d) if beta == 0 else np.clip(d / beta, -1, 1)
    return _cast(grad_output * _norm(self.size, reduction) * slope, grad_output)


def _smooth_l1_gg(grad, self, target, self_shape, reduction, beta):
    d = self - target
    slope = d.sign() if beta == 0 else (d / beta).clamp(-1, 1)
    return grad * slope * _norm(math.prod(self_shape), reduction)


def _smooth_l1_gs(sign: int) -> Any:
    def formula(grad, grad_output, self, target, self_shape, reduction, beta):
        if beta == 0:
            return grad * 0
        g = grad * grad_output * (sign * _norm(math.prod(self_shape), reduction) / beta)
        return where((self - target).abs() < beta, g, g * 0)
    return formula


SMOOTH_L1_LOSS_BACKWARD = _pointwise_loss_backward(
    "smooth_l1_loss_backward", _smooth_l1_backward, "SmoothL1LossBackwardBackward0",
    {"grad_output": _smooth_l1_gg, "self": _smooth_l1_gs(1), "target": _smooth_l1_gs(-1)}, (0.7,))


def smooth_l1_loss_backward(grad_output: Any, self: Any, target: Any, reduction: int, beta: float) -> Any:
    return dispatch(SMOOTH_L1_LOSS_BACKWARD, (grad_output, self, target, reduction, beta))


def _huber_backward(grad_output, self, target, reduction, delta):
    slope = np.clip(self - target, -delta, delta)
    return _cast(grad_output * _norm(self.size, reduction) * slope, grad_output)


def _huber_gg(grad, self, target, self_shape, reduction, delta):
    return grad * (self - target).clamp(-delta, delta) * _norm(math.prod(self_shape), reduction)


def _huber_gs(sign: int) -> Any:
    def formula(grad, grad_output, self, target, self_shape, reduction, delta):
        g = grad * grad_output * (sign * _norm(math.prod(self_shape), reduction))
        return where((self - target).abs() < delta, g, g * 0)
    return formula


HUBER_LOSS_BACKWARD = _pointwise_loss_backward(
    "huber_loss_backward", _huber_backward, "HuberLossBackwardBackward0",
    {"grad_output": _huber_gg, "self": _huber_gs(1), "target": _huber_gs(-1)}, (1.3,))


def huber_loss_backward(grad_output: Any, self: Any, target: Any, reduction: int, delta: float) -> Any:
    return dispatch(HUBER_LOSS_BACKWARD, (grad_output, self, target, reduction, delta))


# ---------------------------------------------------------------------------------------
# nll: -grad_output * weight[target] at each target class (/ total_weight for 'mean'); tapegrad's
# own calls pass total_weight=None and the op sums the weights itself

def _nll_backward(grad_output, self, target, weight, reduction, ignore_index, total_weight):
    from .nn_loss import _nll_parts
    x, safe, w = _nll_parts(self, target, weight, ignore_index)
    dt = grad_output.dtype
    if reduction == MEAN:
        total = w.sum() if total_weight is None else total_weight
        w = w / total  # 0/0 when every target is ignored: nan, as torch
    g = grad_output.reshape(w.shape) if reduction == NONE else grad_output
    out = np.zeros(x.shape, dt)
    values = (-(w * g)).astype(dt, copy=False)
    # ignored targets are skipped, leaving +0 (a zero class weight still gives -0 * g, as torch)
    values = np.where(np.asarray(target).reshape(w.shape) == ignore_index, dt.type(0), values)
    if x.ndim == 2:
        out[np.arange(len(safe)), safe] = values
    else:
        np.put_along_axis(out, safe[:, None], values[:, None], axis=1)
    return out.reshape(self.shape)


def _nll_gg(op_name: str) -> Any:
    def formula(grad, target, weight, reduction, ignore_index):
        from . import nn_loss
        return dispatch(getattr(nn_loss, op_name), (grad, target, weight, reduction, ignore_index))
    return formula


def _nll_backward_samples():
    yield Sample(arr(), arr(4, 5), ints(4, high=5), None, MEAN, -100, np.array(4.0))
    yield Sample(arr(3), arr(3, 4), np.array([1, -100, 3]), arr(4, low=0.1), NONE, -100, np.array(0.0))
    w = arr(4, low=0.1)
    yield Sample(arr(), arr(3, 4), np.array([1, 2, 2]), w, MEAN, 2, np.asarray(w[1]))
    yield Sample(arr(), arr(5), np.array(3), None, SUM, -100, np.array(1.0))


def _nll2d_backward_samples():
    yield Sample(arr(), arr(2, 3, 2, 2), ints(2, 2, 2, high=3), None, MEAN, -100, np.array(8.0))
    yield Sample(arr(1, 2, 3), arr(1, 3, 2, 3), ints(1, 2, 3, high=3), arr(3, low=0.1), NONE, -100, np.array(0.0))


def _nll_backward_op(name: str, node: str, forward_op: str, samples: Any) -> Any:
    return defop(name, _nll_backward, node=node, promote="common", method=False, function=False,
                 inputs=("grad_output", "self"),
                 tensors=("grad_output", "self", "target", "weight", "total_weight"),
                 promote_on=("grad_output", "self"),
                 grads={"grad_output": _nll_gg(forward_op), "self": lambda grad: grad * 0},
                 samples=samples, jvps={"grad_output": "linear", "self": lambda self_t: self_t * 0})


NLL_LOSS_BACKWARD = _nll_backward_op("nll_loss_backward", "NllLossBackwardBackward0", "NLL_LOSS",
                                     _nll_backward_samples)
NLL_LOSS2D_BACKWARD = _nll_backward_op("nll_loss2d_backward", "NllLoss2DBackwardBackward0", "NLL_LOSS2D",
                                       _nll2d_backward_samples)


def nll_loss_backward(op: Any, grad_output: Any, self: Any, target: Any, weight: Any, reduction: int,
                      ignore_index: int) -> Any:
    """The gradient of nll_loss (`op` NLL_LOSS_BACKWARD or NLL_LOSS2D_BACKWARD) in its input."""
    return dispatch(op, (grad_output, self, target, weight, reduction, ignore_index, None))
