"""gradcheck / gradgradcheck: pass on correct gradients, fail with torch's errors on wrong ones."""
from __future__ import annotations

import warnings

import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck


def _double(*values: float) -> tg.Tensor:
    return tg.tensor(list(values), dtype=tg.float64, requires_grad=True)


def _doubled_gradient(x: tg.Tensor) -> tg.Tensor:
    """x * x whose backward is twice too large (a hook doubles the gradient)."""
    y = x * 1.0
    y.register_hook(lambda g: g * 2)
    return y * y


def test_torch_names() -> None:
    assert tg.autograd.gradcheck is gradcheck
    assert tg.autograd.gradgradcheck is gradgradcheck
    assert issubclass(GradcheckError, RuntimeError)


def test_passes_on_correct_functions() -> None:
    x = tg.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=tg.float64, requires_grad=True)
    y = _double(0.3, -0.7)
    assert gradcheck(lambda a, b: (a * b).exp() + a.sum(), (x, y))
    assert gradcheck(lambda a: a.tanh(), x)  # a single tensor is accepted as inputs
    assert gradgradcheck(lambda a, b: (a * b).sigmoid(), (x, y))
    assert gradcheck(lambda a, b: a * b, (x, y), fast_mode=True)
    assert gradgradcheck(lambda a, b: a * b * a, (x, y), fast_mode=True)


def test_multiple_outputs_and_non_differentiable_outputs() -> None:
    x = tg.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda a: a.unbind(0), (x,))
    assert gradgradcheck(lambda a: (a * a).unbind(1), (x,))
    # an integer output is not differentiable and is ignored
    assert gradcheck(lambda a: (a.exp(), (a > 0).long()), (x,))


def test_wrong_gradient_raises_jacobian_mismatch() -> None:
    x = _double(1.0, 3.0)
    with pytest.raises(GradcheckError) as info:
        gradcheck(_doubled_gradient, (x,))
    msg = str(info.value)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:tensor(")
    assert "\nanalytical:tensor([[ 4.,  0.],\n        [ 0., 12.]], dtype=torch.float64)\n" in msg


def test_mismatch_names_the_input() -> None:
    x, y = _double(1.0, 2.0), _double(0.5, 1.5)
    with pytest.raises(GradcheckError, match=r"^Jacobian mismatch for output 0 with respect to input 1,"):
        gradcheck(lambda a, b: a + _doubled_gradient(b), (x, y))


def test_raise_exception_false_returns_false() -> None:
    assert gradcheck(_doubled_gradient, (_double(1.0, 3.0),), raise_exception=False) is False
    assert gradcheck(_doubled_gradient, (_double(1.0, 3.0),), raise_exception=False, fast_mode=True) is False


def test_fast_mode_failure_reports_slow_mode_jacobians() -> None:
    with pytest.raises(GradcheckError) as info:
        gradcheck(_doubled_gradient, (_double(1.0, 3.0),), fast_mode=True)
    msg = str(info.value)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    assert "Below, we recompute numerical and analytical jacobians in slow mode:" in msg
    assert "The max per-element difference (slow mode) is: 5.99999" in msg


def _cube_with_constant_gradient(a: tg.Tensor) -> tg.Tensor:
    """a**3 whose gradient 3a^2 is right but built from a detached `a`, so its own derivative is zero."""
    c = a.detach()
    return c * c * c + (a - c) * (3 * c * c)


def test_gradgradcheck_catches_wrong_second_derivative() -> None:
    x = _double(0.5, -1.5)
    assert gradgradcheck(lambda a: a * a * a, (x,))
    assert gradcheck(_cube_with_constant_gradient, (x,))
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 0 with respect to input 0,"):
        gradgradcheck(_cube_with_constant_gradient, (x,))


def test_float32_warns() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning) as record:
        gradcheck(lambda a: a * 2, (x,), eps=1e-3, atol=1e-3)
    assert str(record[0].message) == (
        "Input #0 requires gradient and is not a double precision floating point or complex. This check will "
        "likely fail if all the inputs are not of double precision floating point or complex. ")


def test_float64_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda a: a * 2, (_double(1.0, 2.0),))


def test_no_input_requires_grad() -> None:
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (tg.ones(2, dtype=tg.float64),))


def test_overlapping_input_is_refused() -> None:
    x = tg.ones(1, dtype=tg.float64).expand(3).requires_grad_()
    with pytest.raises(RuntimeError, match="The 0th input has a dimension with stride 0"):
        gradcheck(lambda a: a * 2, (x,))


def test_non_differentiable_output_must_have_zero_numerical_gradient() -> None:
    x = _double(1.0, 2.0)
    assert gradcheck(lambda a: a.detach() * 0, (x,))
    with pytest.raises(GradcheckError, match="^Numerical gradient for function expected to be zero$"):
        gradcheck(lambda a: a.detach() * 2, (x,))


def test_backward_not_multiplied_by_grad_output() -> None:
    def constant_gradient(a: tg.Tensor) -> tg.Tensor:
        b = a * 1.0
        b.register_hook(lambda g: g + 1)
        return b
    with pytest.raises(GradcheckError):
        gradcheck(constant_gradient, (_double(1.0, 2.0),))
    # with the Jacobian check passing, the zero-grad_output check is what catches it
    with pytest.raises(GradcheckError, match="^backward not multiplied by grad_output$"):
        gradcheck(constant_gradient, (_double(1.0, 2.0),), atol=10.0)


def test_empty_inputs_pass() -> None:
    x = tg.zeros(0, 2, dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda a: a.sum(), (x,))
    assert gradgradcheck(lambda a: a * a, (x,))


def test_forward_and_batched_options_run() -> None:
    x = _double(1.0)
    assert gradcheck(lambda a: a * 2, (x,), check_forward_ad=True)
    assert gradcheck(lambda a: a * 2, (x,), check_batched_grad=True)
    assert gradgradcheck(lambda a: a * a, (x,), check_fwd_over_rev=True)
    with pytest.raises(AssertionError, match="Expected at least one of check_forward_ad or check_backward_ad"):
        gradcheck(lambda a: a * 2, (x,), check_backward_ad=False)


def test_gradgradcheck_with_given_grad_outputs() -> None:
    x = _double(0.5, -1.0, 2.0)
    g = tg.tensor([1.0, -0.5, 0.25], dtype=tg.float64, requires_grad=True)
    assert gradgradcheck(lambda a: a.exp() * a, (x,), (g,))
    assert gradgradcheck(lambda a: a.exp() * a, (x,), gen_non_contig_grad_outputs=True)


def test_inputs_left_unchanged() -> None:
    x = _double(0.5, -1.0, 2.0)
    before = x.detach().clone()
    gradcheck(lambda a: a.exp(), (x,))
    assert tg.equal(x.detach(), before)
