"""softmax and log_softmax along a dim, and their backward ops (torch's `_softmax_backward_data`,
`_log_softmax_backward_data`).

Note [Softmax backward ops]
As the fused activation backwards (Note [Fused activation backwards] in pointwise.py), the
gradient of softmax is one op: one NumPy pass instead of three or four dispatches, and with
create_graph the gradient's grad_fn is torch's (`SoftmaxBackwardDataBackward0`,
`LogSoftmaxBackwardDataBackward0`). Both ops are linear in `grad_output`; their formulas are
written with tapegrad ops, so any order of derivative works. On CPU torch gives the backward's
result the dtype of `grad_output` whatever `input_dtype` says (it matters for half only), and so
does tapegrad.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from ._registry import defop, dispatch, public
from ._samples import Sample, arr
from .reduction_extra import _legacy, _one_dim, wrap_dim


def _softmax_forward(name: str, log: bool) -> Any:
    def forward(self, dim):
        a, axis = _one_dim(self, dim)
        if a.dtype.kind not in "fc":
            kernel = f"{name}_lastdim_kernel_impl" if axis == a.ndim - 1 else f"{name}_kernel_impl"
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_legacy(a)}\'')
        if a.size == 0:
            return self.copy()
        m = np.maximum.reduce(a, axis=axis, keepdims=True)
        shifted = a - m  # inf - inf gives nan, as torch; NumPy's warnings are silenced (Note [NumPy warnings])
        e = np.exp(shifted)
        s = np.add.reduce(e, axis=axis, keepdims=True)
        out = shifted - np.log(s) if log else e / s
        return out.reshape(self.shape)
    return forward


# ---------------------------------------------------------------------------------------
# the backward ops: y = o * (g - sum(g * o)) and y = g - exp(o) * sum(g), sums along dim

def _softmax_backward_data(grad_output, output, dim, input_dtype):
    axis = wrap_dim(dim, output.ndim)
    go = grad_output * output
    return go - output * np.add.reduce(go, axis=axis, keepdims=True) if go.ndim else go - output * go


def _log_softmax_backward_data(grad_output, output, dim, input_dtype):
    axis = wrap_dim(dim, output.ndim)
    total = np.add.reduce(grad_output, axis=axis, keepdims=True) if grad_output.ndim else grad_output
    return grad_output - np.exp(output) * total  # a log_softmax output is <= 0: exp does not overflow


def softmax_backward_data(grad_output: Any, output: Any, dim: int) -> Any:
    """The gradient of softmax (output `output`) given the output's gradient."""
    return dispatch(SOFTMAX_BACKWARD_DATA, (grad_output, output, dim, output.dtype))


def log_softmax_backward_data(grad_output: Any, output: Any, dim: int) -> Any:
    """The gradient of log_softmax (output `output`) given the output's gradient."""
    return dispatch(LOG_SOFTMAX_BACKWARD_DATA, (grad_output, output, dim, output.dtype))


def _softmax_output_grad(grad, grad_output, output, dim):
    return grad_output * (grad - (grad * output).sum(dim, keepdim=True)) - grad * (grad_output * output).sum(
        dim, keepdim=True)


def _softmax_output_jvp(output_t, grad_output, output, dim):
    return (output_t * (grad_output - (grad_output * output).sum(dim, keepdim=True))
            - output * (grad_output * output_t).sum(dim, keepdim=True))


def _backward_samples(make_output: Any) -> Any:
    def samples():
        yield Sample(arr(3, 4), make_output(3, 4), 1, D.float64)
        yield Sample(arr(2, 3, 4), make_output(2, 3, 4), 0, D.float64)
        yield Sample(arr(), make_output(), 0, D.float64)
        yield Sample(arr(0, 3), make_output(0, 3), -1, D.float64)
        yield Sample(arr(2, 5), make_output(2, 5), -1, D.float64)
    return samples


SOFTMAX_BACKWARD_DATA = defop(
    "_softmax_backward_data", _softmax_backward_data, node="SoftmaxBackwardDataBackward0", promote="common",
    function=False, method=False, inputs=("grad_output", "output"), tensors=("grad_output", "output"),
    grads={"grad_output": lambda grad, output, dim: softmax_backward_data(grad, output, dim),
           "output": _softmax_output_grad},
    samples=_backward_samples(lambda *shape: arr(*shape, low=0.05, high=0.9)),
    jvps={"grad_output": "linear", "output": _softmax_output_jvp})

LOG_SOFTMAX_BACKWARD_DATA = defop(
    "_log_softmax_backward_data", _log_softmax_backward_data, node="LogSoftmaxBackwardDataBackward0",
    promote="common", function=False, method=False, inputs=("grad_output", "output"),
    tensors=("grad_output", "output"),
    grads={"grad_output": lambda grad, output, dim: grad - (grad * output.exp()).sum(dim, keepdim=True),
           "output": lambda grad, grad_output, output, dim: -(grad * output.exp()) * grad_output.sum(dim,
                                                                                                     keepdim=True)},
    samples=_backward_samples(lambda *shape: arr(*shape, low=-3.0, high=-0.1)),
    jvps={"grad_output": "linear",
          "output": lambda output_t, grad_output, output, dim: -(output_t * output.exp())
          * grad_output.sum(dim, keepdim=True)})


# ---------------------------------------------------------------------------------------
# the ops

def _softmax_samples():
    yield Sample(arr(3, 4), 1)
    yield Sample(arr(2, 3, 4), 0)
    yield Sample(arr(), 0)
    yield Sample(arr(0, 3), 1)
    yield Sample(arr(3, 4) * 40, -1)


SOFTMAX = defop("softmax.int", _softmax_forward("softmax", False), node="SoftmaxBackward0", function=False,
                method=False, grads={"self": lambda grad, result, dim: softmax_backward_data(grad, result, dim)},
                samples=_softmax_samples,
                jvps={"self": lambda self_t, dim, result: result * (self_t - (result * self_t).sum(dim, keepdim=True))})
LOG_SOFTMAX = defop("log_softmax.int", _softmax_forward("log_softmax", True), node="LogSoftmaxBackward0",
                    function=False, method=False,
                    grads={"self": lambda grad, result, dim: log_softmax_backward_data(grad, result, dim)},
                    samples=_softmax_samples,
                    jvps={"self": lambda self_t, dim, result: self_t - (result.exp() * self_t).sum(dim, keepdim=True)})


def _with_dtype(input: Any, dtype: Any) -> Any:
    if dtype is not None and input.dtype != dtype:
        return input.to(dtype)
    return input


@public("softmax")
def softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    """exp(x) / sum(exp(x)) along dim, computed in `dtype` when given."""
    return dispatch(SOFTMAX, (_with_dtype(input, dtype), dim))


@public("log_softmax")
def log_softmax(input: Any, dim: int, dtype: Any = None) -> Any:
    """x - logsumexp(x) along dim, computed in `dtype` when given."""
    return dispatch(LOG_SOFTMAX, (_with_dtype(input, dtype), dim))
