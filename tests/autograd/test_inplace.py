"""In-place operations: version counters, torch's errors (modified saved tensor, leaf, views),
and correct gradients through in-place ops on non-leaf tensors and their views (CopySlices).
Runs on tapegrad and on torch."""
import numpy as np
import pytest

# Known failures of tapegrad, by test name: strict xfail on the tapegrad run of the `torch` fixture
# (tests/conftest.py), which runs each test on tapegrad and on torch.
XFAIL: dict[str, str] = {}


HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")


def modified(desc, now, expected):
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"{desc} is at version {now}; expected version {expected} instead. {HINT}")


# ------------------------------------------------------------------ version counters

def test_version_counter_bumps(torch):
    x = torch.zeros(3)
    assert x._version == 0
    x.add_(1)
    x.mul_(2)
    assert x._version == 2
    x += 1
    assert x._version == 3
    x[0] = 5.0
    assert x._version == 4
    assert x.tolist() == [5.0, 3.0, 3.0]


def test_views_share_the_version_counter(torch):
    x = torch.zeros(2, 3)
    v = x.view(6)
    t = x.t()
    v.add_(1)
    assert x._version == v._version == t._version == 1
    assert x.sum().item() == 6.0
    t.mul_(2)
    assert x._version == 2 and x.sum().item() == 12.0


def test_out_of_place_ops_do_not_bump(torch):
    x = torch.zeros(3)
    y = x + 1
    z = x.clone()
    assert x._version == 0 and y._version == 0 and z._version == 0


# ------------------------------------------------------------------ the modified-saved-tensor error

def test_modified_result_of_exp(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    z = y * 2
    y.add_(1)
    with pytest.raises(RuntimeError) as e:
        z.sum().backward()
    assert str(e.value) == modified("[torch.FloatTensor [3]], which is output 0 of Exp,", 1, 0)


def test_modified_result_of_sigmoid_in_place_on_itself(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = (x * 1).sigmoid()
    b.mul_(2)
    with pytest.raises(RuntimeError) as e:
        b.sum().backward()
    assert str(e.value) == modified("[torch.FloatTensor [3]], which is output 0 of Sigmoid,", 1, 0)


def test_modified_input_names_its_current_producer(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 1
    b = a * a
    a.add_(1)
    with pytest.raises(RuntimeError) as e:
        b.sum().backward()
    assert str(e.value) == modified("[torch.FloatTensor [3]], which is output 0 of Add,", 1, 0)


def test_modified_leaf_input_under_no_grad(torch):
    w = torch.tensor([[1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    y = (w * w).sum()
    with torch.no_grad():
        w.mul_(3)
        w.add_(1)
    with pytest.raises(RuntimeError) as e:
        y.backward()
    assert str(e.value) == modified("[torch.DoubleTensor [1, 2]]", 2, 0)


def test_modification_of_an_unsaved_tensor_is_fine(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    b = a + 2  # add saves nothing
    a.mul_(5)
    b.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


# ------------------------------------------------------------------ leaf and view errors

LEAF = "a leaf Variable that requires grad is being used in an in-place operation."


def test_inplace_on_leaf_requiring_grad(torch):
    w = torch.ones(3, requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.exp_()):
        with pytest.raises(RuntimeError) as e:
            op()
        assert str(e.value) == LEAF
    with pytest.raises(RuntimeError) as e:
        w -= 0.1 * torch.ones(3)
    assert str(e.value) == LEAF
    assert w._version == 0


def test_inplace_on_view_of_leaf(torch):
    w = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        w[0] = 5
    assert str(e.value) == "a view of a leaf Variable that requires grad is being used in an in-place operation."


def test_leaf_update_under_no_grad_is_allowed(torch):
    w = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    with torch.no_grad():
        w -= 0.5 * w.grad
    assert w.tolist() == [0.0, 0.0, 0.0]
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_inplace_on_output_of_multi_view_op(torch):
    x = torch.ones(2, 3, requires_grad=True) * 1
    a, b = x.unbind(0)
    with pytest.raises(RuntimeError) as e:
        a.mul_(2)
    assert str(e.value) == (
        "Output 0 of Unbind is a view and is being modified inplace. This view is the output of a function that "
        "returns multiple views. Such functions do not allow the output views to be modified inplace. You should "
        "replace the inplace operation by an out-of-place one.")


def test_view_made_in_no_grad_modified_with_grad(torch):
    x = torch.ones(3, requires_grad=True) * 1
    with torch.no_grad():
        v = x.view(3)
    with pytest.raises(RuntimeError, match="^A view was created in no_grad mode and is being modified inplace"):
        v.mul_(2)


def test_dtype_changing_inplace(torch):
    t = torch.tensor([1, 2])
    with pytest.raises(RuntimeError) as e:
        t.add_(0.5)
    assert str(e.value) == "result type Float can't be cast to the desired output type Long"


# ------------------------------------------------------------------ gradients through in-place ops

def test_inplace_on_non_leaf_gradient(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.mul_(x)  # y = 2 x^2; the formula for x uses the old y
    y.add_(1)
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0, 12.0]


def test_inplace_op_reading_itself_is_caught(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.mul_(y)  # saves y, which it then overwrites
    with pytest.raises(RuntimeError, match="^one of the variables needed for gradient computation has been mod"):
        y.sum().backward()


def test_inplace_exp_uses_the_new_result(torch):
    x = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)
    y = x * 1
    y.exp_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]))


def test_augmented_assignment_keeps_identity(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y0 = y
    y += x
    y *= 3
    assert y is y0 and y._version == 2
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_inplace_on_view_of_non_leaf_copyslices(torch):
    x = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a = x * 1
    v = a[1:3]
    v.mul_(torch.tensor([10.0, 100.0]))
    assert a.grad_fn.name() == "torch::autograd::CopySlices" and type(a.grad_fn).__name__ == "CopySlices"
    assert a.tolist() == [1.0, 20.0, 300.0, 4.0]
    assert a._version == v._version == 1
    (a * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 20.0, 300.0, 4.0]


def test_setitem_on_non_leaf_is_differentiable_both_ways(torch):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    s = torch.tensor(5.0, requires_grad=True)
    a = x * 2
    a[1] = s * s
    assert a.grad_fn.name() == "torch::autograd::CopySlices"
    (a * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 6.0]
    assert s.grad.item() == 20.0


def test_inplace_on_view_then_use_view(torch):
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a = x.clone()
    row = a[0]
    row.add_(1)
    (row * row).sum().backward()
    assert x.grad.tolist() == [[4.0, 6.0], [0.0, 0.0]]


def test_inplace_on_view_of_tensor_without_grad_makes_base_require_grad(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    base = torch.zeros(3)
    base[1:] = x * 2
    assert base.requires_grad and base.grad_fn.name() == "torch::autograd::CopySlices"
    base.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_masked_fill_and_copy_inplace_gradients(torch):
    x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 1
    y.masked_fill_(y < 0, 0.0)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
    src = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = torch.zeros(3, requires_grad=True) * 1
    d.copy_(src * 3)
    d.sum().backward()
    assert src.grad.tolist() == [3.0, 3.0, 3.0]
