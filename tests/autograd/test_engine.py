"""The graph and the backward walk: requires_grad propagation, grad_fn/next_functions, leaves,
accumulation, freed graphs and the errors users meet. Each test runs on tapegrad and, when it is
installed, on torch (the specification), so a difference shows up as one of the two failing."""
import re

import numpy as np
import pytest

import tapegrad

# Known failures of tapegrad, by test name: strict xfail on the tapegrad run of the `torch` fixture
# (tests/conftest.py), which runs each test on tapegrad and on torch.
XFAIL: dict[str, str] = {}


FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they "
         "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
         "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
         "or if you need to access saved tensors after calling backward.")
ADDR = re.compile(r"^<(\w+) object at 0x[0-9a-f]+>$")


def test_requires_grad_propagates(torch):
    x = torch.ones(3, requires_grad=True)
    c = torch.ones(3)
    assert (x * c).requires_grad
    assert (c * c).requires_grad is False
    assert (c + x).sum().requires_grad
    assert x.is_leaf and c.is_leaf
    assert not (x * 2).is_leaf
    assert (c * 2).is_leaf  # no grad needed: the result is a leaf without grad_fn
    assert (c * 2).grad_fn is None


def test_grad_fn_names_and_next_functions(torch):
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    assert y.grad_fn.name() == "MulBackward0"
    assert type(y.grad_fn).__name__ == "MulBackward0"
    (acc, nr), (const, cnr) = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and nr == 0
    assert acc.name() == "torch::autograd::AccumulateGrad"
    assert const is None and cnr == 0
    assert acc.variable is x
    z = (y + 1).sum()
    assert z.grad_fn.name() == "SumBackward0"
    assert z.grad_fn.next_functions[0][0].name() == "AddBackward0"
    assert z.grad_fn.next_functions[0][0].next_functions[0][0] is y.grad_fn
    assert (1 - x).grad_fn.name() == "RsubBackward1"
    assert x.grad_fn is None


def test_grad_fn_repr(torch):
    x = torch.ones(2, requires_grad=True)
    m = ADDR.match(repr((x * x).grad_fn))
    assert m and m.group(1) == "MulBackward0"
    acc = (x * x).grad_fn.next_functions[0][0]
    assert ADDR.match(repr(acc)).group(1) == "AccumulateGrad"
    fn = (x * x).grad_fn
    assert str(fn) == repr(fn)


def test_tensor_repr_shows_grad_fn_and_requires_grad(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert repr((x * 2).sum()) == "tensor(6., grad_fn=<SumBackward0>)"
    assert repr((x * 2).detach()) == "tensor([2., 4.])"


def test_metadata_is_a_dict_kept_on_the_node(torch):
    x = torch.ones(2, requires_grad=True)
    y = x * 3
    assert y.grad_fn.metadata == {}
    y.grad_fn.metadata["tag"] = 1
    assert y.grad_fn.metadata == {"tag": 1}


def test_accumulate_grad_node_is_shared_per_leaf(torch):
    x = torch.ones(2, requires_grad=True)
    a, b = x * 2, x + 1
    assert a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]


def test_grad_accumulates_across_backward_calls(torch):
    p = torch.tensor(2.0, requires_grad=True)
    y = p ** 3
    y.backward(retain_graph=True)
    assert p.grad.item() == 12.0
    y.backward()
    assert p.grad.item() == 24.0
    (p * 1).backward()
    assert p.grad.item() == 25.0


def test_diamond_sums_each_path_once(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    b = a * a + a.exp() * a
    b.sum().backward()
    xv = np.array([1.0, 2.0], np.float32)
    expect = 3 * (2 * 3 * xv + np.exp(3 * xv) * (3 * xv) + np.exp(3 * xv))
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-5)


def test_same_input_twice(torch):
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, -4.0]


def test_broadcast_gradient_is_summed_to_input_shape(torch):
    x = torch.ones(3, 1, requires_grad=True)
    b = torch.ones(4, requires_grad=True)
    (x * b * torch.arange(12.0).reshape(3, 4)).sum().backward()
    assert x.grad.shape == (3, 1) and b.grad.shape == (4,)
    assert x.grad.flatten().tolist() == [6.0, 22.0, 38.0]
    assert b.grad.tolist() == [12.0, 15.0, 18.0, 21.0]


def test_grad_dtype_follows_input_dtype(torch):
    x = torch.ones(2, dtype=torch.float32, requires_grad=True)
    y = torch.ones(2, dtype=torch.float64, requires_grad=True)
    z = x * y
    assert z.dtype == torch.float64
    z.sum().backward()
    assert x.grad.dtype == torch.float32 and y.grad.dtype == torch.float64


def test_second_backward_through_freed_graph(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as e:
        y.backward()
    assert str(e.value) == FREED


def test_saved_attribute_after_free(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    assert torch.equal(y.grad_fn._saved_result, y)
    y.sum().backward()
    with pytest.raises(RuntimeError) as e:
        y.grad_fn._saved_result
    assert str(e.value) == FREED


def test_nodes_that_saved_nothing_can_run_again(torch):
    x = torch.ones(2, requires_grad=True)
    y = x + 2
    y.backward(torch.ones(2))
    y.backward(torch.ones(2))
    assert x.grad.tolist() == [2.0, 2.0]
    z = (x + 2).sum()
    z.backward()
    z.backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_retain_graph_keeps_saved_tensors(torch):
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 18.0


def test_implicit_gradient_of_non_scalar(torch):
    y = torch.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as e:
        y.backward()
    assert str(e.value) == "grad can be implicitly created only for scalar outputs"


def test_backward_without_grad_fn(torch):
    y = torch.ones(3).sum()
    with pytest.raises(RuntimeError) as e:
        y.backward()
    assert str(e.value) == "element 0 of tensors does not require grad and does not have a grad_fn"
    with torch.no_grad():
        z = (torch.ones(3, requires_grad=True) * 2).sum()
    with pytest.raises(RuntimeError, match="^element 0 of tensors does not require grad"):
        z.backward()
    w = torch.ones(1, requires_grad=True)
    with pytest.raises(RuntimeError, match="^element 1 of tensors does not require grad"):
        torch.autograd.backward([w.sum(), torch.ones(1).sum()])


def test_gradient_shape_mismatch(torch):
    y = torch.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as e:
        y.backward(torch.ones(2))
    assert str(e.value) == ("Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a "
                            "shape of torch.Size([3]).")


def test_backward_on_a_leaf_accumulates_into_itself(torch):
    x = torch.ones(2, requires_grad=True)
    x.backward(torch.tensor([1.0, 2.0]))
    assert x.grad.tolist() == [1.0, 2.0]


def test_gradients_of_unneeded_inputs_are_not_computed(torch):
    x = torch.ones(2, requires_grad=True)
    c = torch.ones(2)
    (x * c).sum().backward()
    assert c.grad is None


def test_multiple_roots(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    torch.autograd.backward([(x * 2).sum(), (x * x).sum()])
    assert x.grad.tolist() == [4.0, 6.0]


def test_graph_is_freed_when_outputs_go_away():
    torch = tapegrad  # torch's nodes cannot be weakly referenced
    import gc
    import weakref
    x = torch.ones(2, requires_grad=True)
    y = (x * 2).exp()
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_graph_nodes_are_freed_by_refcount_alone():
    """No reference cycles: the graph goes away without the cyclic collector (see DESIGN.md)."""
    torch = tapegrad
    import gc
    import weakref
    x = torch.ones(2, requires_grad=True)
    gc.disable()
    try:
        y = (x * 2).exp().sum()
        ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_long_chain_backward_has_no_recursion_limit(torch):
    x = torch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 20000, rel=1e-3)
