"""Tensor basics users rely on: creation, dtypes and torch's type promotion, conversions, the
printing of grad_fn, and torch's errors for shapes, dtypes and conversions. Runs on tapegrad and
on torch (the specification)."""
import re
import warnings

import numpy as np
import pytest

# Known failures of tapegrad, by test name: strict xfail on the tapegrad run of the `torch` fixture
# (tests/conftest.py), which runs each test on tapegrad and on torch.
XFAIL: dict[str, str] = {
    "test_no_numpy_warnings_leak": "under simplefilter('error') NumPy's RuntimeWarning from a forward op (log(0), "
                                   "0/0) surfaces: tapegrad silences them with a module warnings filter, which the "
                                   "user's filter overrides; np.errstate per op would cost ~1-2 us per op",
    "test_uint8_plus_out_of_range_scalar": "NumPy 2 raises OverflowError for uint8 + 300; torch wraps the scalar",
}


def raises(exc_type, text, fn):
    """fn() raises exc_type whose message is exactly `text`."""
    with pytest.raises(exc_type) as e:
        fn()
    assert type(e.value) is exc_type
    assert str(e.value).split(" (Triggered internally at")[0] == text


# ------------------------------------------------------------------ creation

def test_tensor_infers_dtype(torch):
    assert torch.tensor([1.0, 2.0]).dtype == torch.float32
    assert torch.tensor([1, 2]).dtype == torch.int64
    assert torch.tensor([True]).dtype == torch.bool
    assert torch.tensor(np.array([1.0])).dtype == torch.float64
    assert torch.tensor([1, 2.5]).dtype == torch.float32
    assert torch.tensor(3).shape == torch.Size([])
    assert torch.tensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert torch.tensor([]).shape == (0,) and torch.tensor([]).dtype == torch.float32


def test_dtype_aliases(torch):
    assert torch.float is torch.float32 and torch.double is torch.float64
    assert torch.long is torch.int64 and torch.int is torch.int32
    assert torch.half is torch.float16 and torch.short is torch.int16
    assert str(torch.float32) == "torch.float32"
    assert torch.float32.is_floating_point and not torch.int64.is_floating_point


def test_factories(torch):
    assert torch.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert torch.ones((2,), dtype=torch.int32).dtype == torch.int32
    assert torch.full((2,), 7).dtype == torch.int64
    assert torch.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert torch.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert torch.arange(5).dtype == torch.int64 and torch.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert torch.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert torch.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert torch.empty(3, 2).shape == (3, 2)
    x = torch.ones(2, 3, dtype=torch.float64)
    assert torch.zeros_like(x).dtype == torch.float64 and torch.ones_like(x).shape == (2, 3)
    assert torch.full_like(x, 3).tolist() == [[3.0] * 3] * 2
    assert torch.ones(2, requires_grad=True).requires_grad


def test_from_numpy_shares_memory(torch):
    a = np.zeros(3, dtype=np.float32)
    t = torch.from_numpy(a)
    a[0] = 5
    assert t.tolist()[0] == 5.0
    t.add_(1)
    assert a.tolist() == [6.0, 1.0, 1.0]
    assert torch.as_tensor(a).dtype == torch.float32


def test_tensor_of_tensor_warns(torch):
    x = torch.ones(2)
    with pytest.warns(UserWarning) as rec:
        y = torch.tensor(x)
    assert str(rec[0].message) == (
        "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
        "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).")
    y.add_(1)
    assert x.tolist() == [1.0, 1.0]


def test_requires_grad_only_for_floats(torch):
    raises(RuntimeError, "Only Tensors of floating point and complex dtype can require gradients",
           lambda: torch.tensor([1, 2], requires_grad=True))
    t = torch.tensor([1, 2])

    def set_attr():
        t.requires_grad = True
    raises(RuntimeError, "only Tensors of floating point and complex dtype can require gradients", set_attr)
    raises(RuntimeError, "only Tensors of floating point dtype can require gradients", lambda: t.requires_grad_())


def test_requires_grad_of_non_leaf(torch):
    y = torch.ones(2, requires_grad=True) * 2

    def off():
        y.requires_grad = False
    raises(RuntimeError, "you can only change requires_grad flags of leaf variables. If you want to use a computed "
           "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().", off)


# ------------------------------------------------------------------ type promotion

@pytest.mark.parametrize("a,b,expected", [
    ("int64", "float32", "float32"), ("int32", "int64", "int64"), ("float32", "float64", "float64"),
    ("uint8", "int8", "int16"), ("bool", "int32", "int32"), ("float16", "float32", "float32"),
    ("bool", "bool", "bool"), ("uint8", "float16", "float16"),
])
def test_tensor_tensor_promotion(torch, a, b, expected):
    x = torch.ones(2, dtype=getattr(torch, a))
    y = torch.ones(2, dtype=getattr(torch, b))
    assert (x + y).dtype == getattr(torch, expected)
    assert torch.result_type(x, y) == getattr(torch, expected)


def test_scalar_and_zero_dim_promotion(torch):
    i = torch.tensor([1, 2])
    f = torch.tensor([1.0, 2.0])
    assert (i + 1).dtype == torch.int64
    assert (i + 1.5).dtype == torch.float32
    assert (i * True).dtype == torch.int64
    assert (f + 2).dtype == torch.float32
    assert (f.half() + 1.0).dtype == torch.float16
    assert (f + torch.tensor(1.0, dtype=torch.float64)).dtype == torch.float32  # 0-dim does not win
    assert (i + torch.tensor(1.0, dtype=torch.float64)).dtype == torch.float64  # but a new category does
    assert (torch.tensor(1, dtype=torch.int32) + torch.tensor(1)).dtype == torch.int64
    assert (i / 2).dtype == torch.float32
    assert (i // 2).dtype == torch.int64


def test_uint8_plus_out_of_range_scalar(torch):
    r = torch.tensor([1], dtype=torch.uint8) + 300
    assert r.dtype == torch.uint8 and r.tolist() == [45]


def test_comparison_gives_bool(torch):
    assert (torch.ones(2) < 2).dtype == torch.bool


# ------------------------------------------------------------------ conversions

def test_conversions(torch):
    x = torch.tensor([1.5, -2.5])
    assert x.double().dtype == torch.float64 and x.long().tolist() == [1, -2]
    assert x.int().dtype == torch.int32 and x.bool().tolist() == [True, True]
    assert x.half().dtype == torch.float16 and x.to(torch.float64).dtype == torch.float64
    assert x.float() is x
    assert x.to("cpu") is x and x.cpu() is x
    assert x.type() == "torch.FloatTensor" and x.double().type() == "torch.DoubleTensor"
    assert x.type(torch.float64).dtype == torch.float64
    assert str(x.device) == "cpu"


def test_python_scalar_conversions(torch):
    t = torch.tensor([3.5])
    assert t.item() == 3.5 and float(t) == 3.5 and int(t) == 3 and bool(t)
    assert [0, 1, 2][torch.tensor(1)] == 1
    assert len(torch.ones(4, 2)) == 4
    assert [r.tolist() for r in torch.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    assert 2 in torch.tensor([1, 2]) and 5 not in torch.tensor([1, 2])
    a = torch.ones(2)
    assert hash(a) == id(a) and {a: 1}[a] == 1
    assert np.asarray(torch.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_conversion_errors(torch):
    t = torch.ones(3)
    raises(RuntimeError, "a Tensor with 3 elements cannot be converted to Scalar", t.item)
    raises(ValueError, "only one element tensors can be converted to Python scalars", lambda: float(t))
    raises(RuntimeError, "Boolean value of Tensor with more than one value is ambiguous", lambda: bool(t))
    raises(TypeError, "len() of a 0-d tensor", lambda: len(torch.tensor(1.0)))
    raises(TypeError, "iteration over a 0-d tensor", lambda: iter(torch.tensor(1.0)))


def test_numpy_of_tensor_requiring_grad(torch):
    x = torch.ones(2, requires_grad=True)
    raises(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
           x.numpy)
    raises(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
           (x * 2).numpy)
    assert x.detach().numpy().tolist() == [1.0, 1.0]


def test_numpy_shares_memory(torch):
    x = torch.zeros(2)
    a = x.numpy()
    a[1] = 3
    assert x.tolist() == [0.0, 3.0]


# ------------------------------------------------------------------ printing grad_fn

def test_print_suffixes(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert str(x) == "tensor([1., 2.], requires_grad=True)"
    assert str(x.double() * 1) == "tensor([1., 2.], dtype=torch.float64, grad_fn=<MulBackward0>)"
    assert str(x.double()) == "tensor([1., 2.], dtype=torch.float64, grad_fn=<ToCopyBackward0>)"
    assert str(x.t() if x.dim() > 1 else x.view(2, 1).t()) == "tensor([[1., 2.]], grad_fn=<TBackward0>)"
    assert str((x * x).mean()) == "tensor(2.5000, grad_fn=<MeanBackward0>)"
    assert str(x.view(2)) == "tensor([1., 2.], grad_fn=<ViewBackward0>)"
    assert str(x ** 2) == "tensor([1., 4.], grad_fn=<PowBackward0>)"
    assert str(x / 2) == "tensor([0.5000, 1.0000], grad_fn=<DivBackward0>)"
    assert str(-x) == "tensor([-1., -2.], grad_fn=<NegBackward0>)"
    assert str(x - 1) == "tensor([0., 1.], grad_fn=<SubBackward0>)"
    assert str(x.clone()) == "tensor([1., 2.], grad_fn=<CloneBackward0>)"


def test_print_grad_fn_object(torch):
    x = torch.ones(2, requires_grad=True)
    assert re.fullmatch(r"<AddBackward0 object at 0x[0-9a-f]+>", str((x + x).grad_fn))
    assert re.fullmatch(r"<SumBackward0 object at 0x[0-9a-f]+>", repr(x.sum().grad_fn))


# ------------------------------------------------------------------ shape and dtype errors

def test_broadcast_mismatch(torch):
    raises(RuntimeError, "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0",
           lambda: torch.ones(3) + torch.ones(4))
    raises(RuntimeError, "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 1",
           lambda: torch.ones(2, 3) * torch.ones(3, 2))
    x = torch.ones(3, requires_grad=True)
    raises(RuntimeError, "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0",
           lambda: x * torch.ones(4))


def test_matmul_shape_errors(torch):
    raises(RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
           lambda: torch.ones(2, 3) @ torch.ones(4, 5))
    raises(RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
           lambda: torch.ones(2, 3).mm(torch.ones(4, 5)))
    raises(RuntimeError, "size mismatch, got input (2), mat (2x3), vec (4)",
           lambda: torch.ones(2, 3) @ torch.ones(4))
    raises(RuntimeError, "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
           "elements, but got 3 and 4 elements respectively", lambda: torch.ones(3) @ torch.ones(4))


def test_matmul_dtype_mismatch(torch):
    raises(RuntimeError, "expected m1 and m2 to have the same dtype, but got: float != double",
           lambda: torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64))
    raises(RuntimeError, "dot : expected both vectors to have same dtype, but found Float and Double",
           lambda: torch.ones(3).dot(torch.ones(3, dtype=torch.float64)))


def test_shape_errors(torch):
    raises(RuntimeError, "shape '[4]' is invalid for input of size 6", lambda: torch.ones(2, 3).view(4))
    raises(IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
           lambda: torch.ones(3).sum(1))
    raises(IndexError, "index 5 is out of bounds for dimension 0 with size 3", lambda: torch.ones(3)[5])
    raises(ValueError, "expected sequence of length 2 at dim 1 (got 1)", lambda: torch.tensor([[1, 2], [3]]))
    raises(RuntimeError, "stack expects each tensor to be equal size, but got [3] at entry 0 and [4] at entry 1",
           lambda: torch.stack([torch.ones(3), torch.ones(4)]))


def test_mean_of_integers(torch):
    raises(RuntimeError, "mean(): could not infer output dtype. Input dtype must be either a floating point or "
           "complex dtype. Got: Long", lambda: torch.tensor([1, 2]).mean())


def test_no_numpy_warnings_leak(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.tensor([1.0, 0.0]).log().tolist()[1] == float("-inf")
        assert torch.tensor([0.0]).div(torch.tensor([0.0])).isnan().all()
