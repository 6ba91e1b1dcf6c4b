"""The user-facing autograd API: backward()/autograd.grad() arguments, higher-order derivatives,
retain_grad, hooks, .data/detach/clone, and the legacy Variable. Runs on tapegrad and on torch."""
import math
import warnings

import numpy as np
import pytest

# Known failures of tapegrad, by test name: strict xfail on the tapegrad run of the `torch` fixture
# (tests/conftest.py), which runs each test on tapegrad and on torch.
XFAIL: dict[str, str] = {}


NONLEAF_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information.")
CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient "
    "which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you "
    "have to use this function, make sure to reset the .grad fields of your parameters to None after use to break "
    "the cycle and avoid the leak.")


def _before_triggered(msg):
    return str(msg).split(" (Triggered internally at")[0]


# ------------------------------------------------------------------ backward() arguments

def test_backward_with_gradient(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(torch.tensor([0.1, 1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [0.2, 4.0, 60.0], rtol=1e-6)


def test_backward_inputs_restricts_accumulation(torch):
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    (a * b).backward(inputs=[a])
    assert a.grad.item() == 3.0 and b.grad is None
    (a * b).backward(inputs=b)
    assert b.grad.item() == 2.0 and a.grad.item() == 3.0


def test_backward_inputs_non_leaf_is_populated(torch):
    a = torch.tensor(2.0, requires_grad=True)
    m = a * 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (m * m).backward(inputs=[m])
        assert m.grad.item() == 12.0
    assert a.grad is None


def test_backward_inputs_empty(torch):
    a = torch.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        (a * a).backward(inputs=[])
    assert str(e.value) == "`inputs` argument to `backward()` cannot be empty."


def test_backward_create_graph_warns_and_builds_graph(torch):
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    with pytest.warns(UserWarning) as rec:
        y.backward(create_graph=True)
    assert _before_triggered(rec[0].message) == CREATE_GRAPH_WARNING
    assert x.grad.item() == 12.0
    assert x.grad.grad_fn is not None and x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == 12.0  # d(3x^2)/dx at 2


def test_autograd_backward_function(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    torch.autograd.backward(y, grad_tensors=torch.ones(2))
    assert x.grad.tolist() == [3.0, 3.0]
    torch.autograd.backward([(x * x).sum()], inputs=[x])
    assert x.grad.tolist() == [5.0, 7.0]


# ------------------------------------------------------------------ autograd.grad

def test_grad_returns_tuple_and_does_not_accumulate(torch):
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 3
    (g,) = torch.autograd.grad(y, x)
    assert g.item() == 12.0 and x.grad is None
    assert g.requires_grad is False and g.grad_fn is None


def test_grad_create_graph_repr(torch):
    x = torch.tensor(2.0, requires_grad=True)
    (g,) = torch.autograd.grad(x ** 3, x, create_graph=True)
    assert repr(g) == "tensor(12., grad_fn=<MulBackward0>)"


def test_grad_outputs(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (g,) = torch.autograd.grad(x * x, x, grad_outputs=torch.tensor([1.0, 10.0]))
    assert g.tolist() == [2.0, 40.0]
    g1, g2 = torch.autograd.grad([x * 2, x * 3], [x, x], grad_outputs=[torch.ones(2), torch.ones(2)])
    assert g1.tolist() == [5.0, 5.0] and g2.tolist() == [5.0, 5.0]


def test_grad_several_inputs_including_non_leaf(torch):
    x = torch.tensor(3.0, requires_grad=True)
    m = x * 2
    y = m * m
    gx, gm = torch.autograd.grad(y, [x, m])
    assert gx.item() == 24.0 and gm.item() == 12.0


def test_grad_unused_input(torch):
    x = torch.tensor(1.0, requires_grad=True)
    u = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        torch.autograd.grad(x * 2, [x, u], retain_graph=True)
    assert str(e.value) == ("The differentiated Tensor at index 1 appears to not have been used in the graph. "
                            "Set allow_unused=True if this is the desired behavior.")
    gx, gu = torch.autograd.grad(x * 2, [x, u], allow_unused=True)
    assert gx.item() == 2.0 and gu is None
    gx, gu = torch.autograd.grad(x * 2, [x, u], materialize_grads=True)
    assert gu.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="^Expected allow_unused to be True or not passed when materialize_grads"):
        torch.autograd.grad(x * 2, [x, u], allow_unused=False, materialize_grads=True)


def test_grad_input_not_requiring_grad(torch):
    x = torch.tensor(1.0, requires_grad=True)
    c = torch.tensor(1.0)
    with pytest.raises(RuntimeError) as e:
        torch.autograd.grad(x * c, [c])
    assert str(e.value) == "One of the differentiated Tensors does not require grad"


def test_grad_frees_graph_unless_retained(torch):
    x = torch.tensor(2.0, requires_grad=True)
    y = x * x
    torch.autograd.grad(y, x, retain_graph=True)
    torch.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="^Trying to backward through the graph a second time"):
        torch.autograd.grad(y, x)


# ------------------------------------------------------------------ higher order

def _nth_derivatives(torch, f, x0, n):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    out = f(x)
    values = []
    for _ in range(n):
        (out,) = torch.autograd.grad(out, x, create_graph=True)
        values.append(out.item())
    return values


def test_fourth_derivative_of_power(torch):
    assert _nth_derivatives(torch, lambda x: x ** 4, 1.5, 4) == pytest.approx(
        [4 * 1.5 ** 3, 12 * 1.5 ** 2, 24 * 1.5, 24.0])


def test_fourth_derivative_of_exp_and_tanh(torch):
    assert _nth_derivatives(torch, lambda x: (2 * x).exp(), 0.3, 4) == pytest.approx(
        [2 ** k * math.exp(0.6) for k in range(1, 5)])
    t = math.tanh(0.4)
    d1 = 1 - t * t
    d2 = -2 * t * d1
    d3 = -2 * d1 * d1 - 2 * t * d2
    assert _nth_derivatives(torch, lambda x: x.tanh(), 0.4, 3) == pytest.approx([d1, d2, d3])


def test_third_derivative_of_sin_written_with_exp(torch):
    # sin x = (e^{ix} - e^{-ix}) / 2i is not real; use sinh x = (e^x - e^-x)/2, whose derivatives alternate
    f = lambda x: (x.exp() - (-x).exp()) / 2  # noqa: E731
    vals = _nth_derivatives(torch, f, 0.7, 4)
    assert vals == pytest.approx([math.cosh(0.7), math.sinh(0.7), math.cosh(0.7), math.sinh(0.7)])


def test_third_derivative_of_quotient_and_log(torch):
    vals = _nth_derivatives(torch, lambda x: (x * x).log() / x, 2.0, 3)
    # f = 2 ln x / x
    x = 2.0
    assert vals == pytest.approx([2 * (1 - math.log(x)) / x ** 2, 2 * (2 * math.log(x) - 3) / x ** 3,
                                  2 * (11 - 6 * math.log(x)) / x ** 4])


def test_mixed_second_derivatives(torch):
    x = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    f = x * x * y + (x * y).exp()
    gx, gy = torch.autograd.grad(f, [x, y], create_graph=True)
    (gxy,) = torch.autograd.grad(gx, y)
    assert gxy.item() == pytest.approx(2 * 1.5 + math.exp(-0.75) * (1 + 1.5 * -0.5))


def test_hessian_vector_product_with_matmul(torch):
    a = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    x = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
    f = (x @ a @ x) / 2
    (g,) = torch.autograd.grad(f, x, create_graph=True)
    (hv,) = torch.autograd.grad(g, x, grad_outputs=torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert hv.tolist() == [2.0, 1.0]


# ------------------------------------------------------------------ retain_grad and non-leaf .grad

def test_non_leaf_grad_is_none_with_warning(torch):
    x = torch.ones(2, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning) as rec:
        g = y.grad
    assert g is None
    assert _before_triggered(rec[0].message) == NONLEAF_WARNING


def test_retain_grad(torch):
    x = torch.ones(2, requires_grad=True)
    y = x * 2
    assert y.retains_grad is False and x.retains_grad is False
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward(retain_graph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad.tolist() == [4.0, 4.0]
    (y * y).sum().backward()
    assert y.grad.tolist() == [8.0, 8.0]
    x.retain_grad()  # no-op on a leaf
    assert x.retains_grad is False


def test_retain_grad_sees_hook_modified_gradient(torch):
    x = torch.ones(2, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert y.grad.tolist() == [10.0, 10.0]
    assert x.grad.tolist() == [20.0, 20.0]


def test_retain_grad_without_requires_grad(torch):
    with pytest.raises(RuntimeError) as e:
        torch.ones(2).retain_grad()
    assert str(e.value) == "can't retain_grad on Tensor that has requires_grad=False"


# ------------------------------------------------------------------ hooks

def test_hook_observes(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    y = x * 3
    y.register_hook(lambda g: seen.append(g.tolist()))
    (y * y).sum().backward()
    assert seen == [[6.0, 12.0]]
    assert x.grad.tolist() == [18.0, 36.0]


def test_hook_replaces_gradient_on_leaf_and_non_leaf(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 2)
    y = x * 3
    y.register_hook(lambda g: g + 1)
    y.sum().backward()
    assert x.grad.tolist() == [12.0, 12.0]


def test_hook_handle_remove(torch):
    x = torch.tensor([1.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 100)
    (x * 1).sum().backward()
    assert x.grad.item() == 100.0
    h.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert x.grad.item() == 1.0


def test_hooks_run_in_registration_order(torch):
    x = torch.tensor([1.0], requires_grad=True)
    order = []
    x.register_hook(lambda g: order.append(1) or g * 2)
    x.register_hook(lambda g: order.append(2) or g + 1)
    (x * 1).sum().backward()
    assert order == [1, 2] and x.grad.item() == 3.0


def test_hook_on_tensor_without_grad(torch):
    with pytest.raises(RuntimeError) as e:
        torch.ones(2).register_hook(lambda g: g)
    assert str(e.value) == "cannot register a hook on a tensor that doesn't require gradient"


# ------------------------------------------------------------------ .data, detach, clone, zero_

def test_data_shares_storage_and_is_untracked(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert d.requires_grad is False and d.is_leaf and d.grad_fn is None
    d[0] = 5.0
    assert x.tolist()[0] == 5.0
    v = x._version
    d.mul_(2)  # .data has its own version counter: autograd does not see the change
    assert x._version == v
    assert x.tolist() == [10.0, 4.0]


def test_data_setter(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.data = torch.tensor([3.0, 4.0])
    assert x.tolist() == [3.0, 4.0] and x.requires_grad


def test_detach_shares_memory_and_version(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    v = y._version
    d.add_(1)
    assert y.tolist() == [3.0, 5.0]
    assert y._version == v + 1


def test_detach_inplace(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


def test_clone_is_tracked_and_copies(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.grad_fn.name() == "CloneBackward0"
    with torch.no_grad():
        c.add_(1)
    assert x.tolist() == [1.0, 2.0]
    (c * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_zero_grad_in_place(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    g = x.grad
    x.grad.zero_()
    assert g.tolist() == [0.0, 0.0]
    (x * 3).sum().backward()
    assert x.grad is g and g.tolist() == [3.0, 3.0]


def test_grad_can_be_assigned_and_deleted(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.grad = torch.tensor([5.0, 5.0])
    (x * 1).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    del x.grad
    assert x.grad is None


# ------------------------------------------------------------------ legacy Variable

def test_variable_returns_a_tensor(torch):
    from_variable = torch.autograd.Variable(torch.ones(2, 2), requires_grad=True)
    assert type(from_variable) is torch.Tensor
    assert from_variable.requires_grad and from_variable.is_leaf
    assert repr(from_variable) == "tensor([[1., 1.],\n        [1., 1.]], requires_grad=True)"
    assert isinstance(torch.ones(1), torch.autograd.Variable)


def test_variable_volatile_warns(torch):
    with pytest.warns(UserWarning) as rec:
        v = torch.autograd.Variable(torch.ones(2), volatile=True)
    assert str(rec[0].message) == "volatile was removed and now has no effect. Use `with torch.no_grad():` instead."
    assert not v.requires_grad
