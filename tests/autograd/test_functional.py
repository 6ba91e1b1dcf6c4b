"""torch.autograd.functional: results, nesting, requires_grad and strict-mode errors as torch's."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3,))
B = RNG.standard_normal((2, 3))
C = RNG.standard_normal(())
M = RNG.standard_normal((3, 3))


def _t(T, a, requires_grad=False):
    return T.tensor(a, requires_grad=requires_grad)


def f_exp(x):
    return x.exp() * 2


def f_two_in(x, y):
    return (x * y).sum(0)


def f_two_out(x):
    return x.sin(), (x ** 2).sum()


def f_scalar(x):
    return (x ** 3).sum() + (x.sin() * x).sum()


def f_scalar2(x, y):
    return (x * y.sum(0)).pow(2).sum() + y.tanh().sum()


def f_linear(x):
    return x * 3.0


def f_const(x):
    return x.detach() * 2


def f_partial(x, y):
    return x * 2


# each case: (name, builder(T) -> result); builders use only the torch-compatible API
CASES = [
    ("jacobian/tensor", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, A))),
    ("jacobian/2d", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, B))),
    ("jacobian/0d", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, C))),
    ("jacobian/tuple_in", lambda T: T.autograd.functional.jacobian(f_two_in, (_t(T, B), _t(T, B[0])))),
    ("jacobian/tuple_out", lambda T: T.autograd.functional.jacobian(f_two_out, _t(T, A))),
    ("jacobian/tuple_in_1", lambda T: T.autograd.functional.jacobian(f_exp, (_t(T, A),))),
    ("jacobian/tuple_both", lambda T: T.autograd.functional.jacobian(lambda x, y: (x * y, y.sum()),
                                                                       (_t(T, A), _t(T, A)))),
    ("jacobian/create_graph", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, A, True), create_graph=True)),
    ("jacobian/vectorize", lambda T: T.autograd.functional.jacobian(f_two_in, (_t(T, B), _t(T, B[0])),
                                                                      vectorize=True)),
    ("jacobian/forward_vectorize", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, A), vectorize=True,
                                                                              strategy="forward-mode")),
    ("jacobian/independent", lambda T: T.autograd.functional.jacobian(f_partial, (_t(T, A), _t(T, A)))),
    ("jacobian/const_out", lambda T: T.autograd.functional.jacobian(f_const, _t(T, A))),
    ("jacobian/strict_indep", lambda T: T.autograd.functional.jacobian(f_partial, (_t(T, A), _t(T, A)),
                                                                         strict=True)),
    ("jacobian/strict_const", lambda T: T.autograd.functional.jacobian(f_const, _t(T, A), strict=True)),
    ("jacobian/strict_vectorize", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, A), strict=True,
                                                                             vectorize=True)),
    ("jacobian/forward_novec", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, A), strategy="forward-mode")),
    ("jacobian/forward_cg", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, A), strategy="forward-mode",
                                                                       create_graph=True)),
    ("jacobian/bad_strategy", lambda T: T.autograd.functional.jacobian(f_exp, _t(T, A), strategy="x")),
    ("jacobian/bad_input", lambda T: T.autograd.functional.jacobian(f_exp, (_t(T, A), 3))),
    ("jacobian/bad_input_single", lambda T: T.autograd.functional.jacobian(f_exp, [1.0])),
    ("jacobian/bad_output", lambda T: T.autograd.functional.jacobian(lambda x: 3, _t(T, A))),
    ("jacobian/strict_cg_linear", lambda T: T.autograd.functional.jacobian(f_linear, _t(T, A), strict=True,
                                                                             create_graph=True)),
    ("hessian/tensor", lambda T: T.autograd.functional.hessian(f_scalar, _t(T, A))),
    ("hessian/2d", lambda T: T.autograd.functional.hessian(f_scalar, _t(T, B))),
    ("hessian/tuple", lambda T: T.autograd.functional.hessian(f_scalar2, (_t(T, A), _t(T, B)))),
    ("hessian/tuple_1", lambda T: T.autograd.functional.hessian(f_scalar, (_t(T, A),))),
    ("hessian/create_graph", lambda T: T.autograd.functional.hessian(f_scalar, _t(T, A, True), create_graph=True)),
    ("hessian/vectorize", lambda T: T.autograd.functional.hessian(f_scalar, _t(T, A), vectorize=True)),
    ("hessian/forward", lambda T: T.autograd.functional.hessian(f_scalar, _t(T, A), vectorize=True,
                                                                  outer_jacobian_strategy="forward-mode")),
    ("hessian/forward_tuple", lambda T: T.autograd.functional.hessian(f_scalar2, (_t(T, A), _t(T, B)), vectorize=True,
                                                                        outer_jacobian_strategy="forward-mode")),
    ("jacobian/forward_tuple_both", lambda T: T.autograd.functional.jacobian(lambda x, y: (x * y, y.sum()),
                                                                               (_t(T, A), _t(T, A)), vectorize=True,
                                                                               strategy="forward-mode")),
    ("hessian/linear", lambda T: T.autograd.functional.hessian(lambda x: (x * 2).sum(), _t(T, A))),
    ("hessian/strict_linear", lambda T: T.autograd.functional.hessian(lambda x: (x * 2).sum(), _t(T, A),
                                                                        strict=True)),
    ("hessian/not_scalar", lambda T: T.autograd.functional.hessian(f_exp, _t(T, A))),
    ("hessian/tuple_out", lambda T: T.autograd.functional.hessian(lambda x: (x.sum(),), _t(T, A))),
    ("hessian/bad_strategy", lambda T: T.autograd.functional.hessian(f_scalar, _t(T, A),
                                                                       outer_jacobian_strategy="y")),
    ("vjp/tensor", lambda T: T.autograd.functional.vjp(f_exp, _t(T, A), _t(T, A[::-1].copy()))),
    ("vjp/scalar_nov", lambda T: T.autograd.functional.vjp(f_scalar, _t(T, A))),
    ("vjp/tuple", lambda T: T.autograd.functional.vjp(f_two_out, _t(T, A), (_t(T, A), _t(T, C)))),
    ("vjp/tuple_in", lambda T: T.autograd.functional.vjp(f_two_in, (_t(T, B), _t(T, B[0])), _t(T, A))),
    ("vjp/create_graph", lambda T: T.autograd.functional.vjp(f_exp, _t(T, A, True), _t(T, A), create_graph=True)),
    ("vjp/nov_error", lambda T: T.autograd.functional.vjp(f_exp, _t(T, A))),
    ("vjp/bad_v_size", lambda T: T.autograd.functional.vjp(f_exp, _t(T, A), _t(T, B))),
    ("vjp/bad_v_len", lambda T: T.autograd.functional.vjp(f_two_out, _t(T, A), (_t(T, A),))),
    ("vjp/bad_v_entry", lambda T: T.autograd.functional.vjp(f_two_out, _t(T, A), (_t(T, A), _t(T, A)))),
    ("vjp/bad_v_single", lambda T: T.autograd.functional.vjp(f_exp, _t(T, A), (_t(T, A), _t(T, A)))),
    ("vjp/bad_v_type", lambda T: T.autograd.functional.vjp(f_exp, _t(T, A), (_t(T, A), 2))),
    ("vjp/independent", lambda T: T.autograd.functional.vjp(f_partial, (_t(T, A), _t(T, A)), _t(T, A))),
    ("vjp/strict_independent", lambda T: T.autograd.functional.vjp(f_partial, (_t(T, A), _t(T, A)), _t(T, A),
                                                                     strict=True)),
    ("vjp/strict_const", lambda T: T.autograd.functional.vjp(f_const, _t(T, A), _t(T, A), strict=True)),
    ("jvp/tensor", lambda T: T.autograd.functional.jvp(f_exp, _t(T, A), _t(T, A[::-1].copy()))),
    ("jvp/tuple", lambda T: T.autograd.functional.jvp(f_two_in, (_t(T, B), _t(T, B[0])), (_t(T, B), _t(T, A)))),
    ("jvp/tuple_out", lambda T: T.autograd.functional.jvp(f_two_out, _t(T, A), _t(T, A))),
    ("jvp/scalar_in_nov", lambda T: T.autograd.functional.jvp(f_exp, _t(T, C))),
    ("jvp/nov_error", lambda T: T.autograd.functional.jvp(f_exp, _t(T, A))),
    ("jvp/create_graph", lambda T: T.autograd.functional.jvp(f_exp, _t(T, A, True), _t(T, A), create_graph=True)),
    ("jvp/independent", lambda T: T.autograd.functional.jvp(f_partial, (_t(T, A), _t(T, A)), (_t(T, A), _t(T, A)))),
    ("jvp/strict_const", lambda T: T.autograd.functional.jvp(f_const, _t(T, A), _t(T, A), strict=True)),
    ("jvp/strict_linear", lambda T: T.autograd.functional.jvp(f_linear, _t(T, A), _t(T, A), strict=True)),
    ("vhp/tensor", lambda T: T.autograd.functional.vhp(f_scalar, _t(T, A), _t(T, A))),
    ("vhp/tuple", lambda T: T.autograd.functional.vhp(f_scalar2, (_t(T, A), _t(T, B)), (_t(T, A), _t(T, B)))),
    ("vhp/create_graph", lambda T: T.autograd.functional.vhp(f_scalar, _t(T, A, True), _t(T, A), create_graph=True)),
    ("vhp/not_scalar", lambda T: T.autograd.functional.vhp(f_exp, _t(T, A), _t(T, A))),
    ("vhp/tuple_out", lambda T: T.autograd.functional.vhp(lambda x: (x.sum(),), _t(T, A), _t(T, A))),
    ("vhp/nov", lambda T: T.autograd.functional.vhp(f_scalar, _t(T, A))),
    ("vhp/linear", lambda T: T.autograd.functional.vhp(lambda x: (x * 2).sum(), _t(T, A), _t(T, A))),
    ("vhp/strict_linear", lambda T: T.autograd.functional.vhp(lambda x: (x * 2).sum(), _t(T, A), _t(T, A),
                                                                strict=True)),
    ("hvp/tensor", lambda T: T.autograd.functional.hvp(f_scalar, _t(T, A), _t(T, A))),
    ("hvp/tuple", lambda T: T.autograd.functional.hvp(f_scalar2, (_t(T, A), _t(T, B)), (_t(T, A), _t(T, B)))),
    ("hvp/create_graph", lambda T: T.autograd.functional.hvp(f_scalar, _t(T, A, True), _t(T, A), create_graph=True)),
    ("hvp/scalar_nov", lambda T: T.autograd.functional.hvp(f_scalar, _t(T, C))),
    ("hvp/not_scalar", lambda T: T.autograd.functional.hvp(f_exp, _t(T, A), _t(T, A))),
    ("hvp/linear", lambda T: T.autograd.functional.hvp(lambda x: (x * 2).sum(), _t(T, A), _t(T, A))),
    ("hvp/strict_linear", lambda T: T.autograd.functional.hvp(lambda x: (x * 2).sum(), _t(T, A), _t(T, A),
                                                                strict=True)),
    ("hvp/strict_quadratic_cg", lambda T: T.autograd.functional.hvp(lambda x: (x * x).sum(), _t(T, A), _t(T, A),
                                                                      strict=True, create_graph=True)),
]


KNOWN_DIFFERENCES: set = set()  # names whose results are compared detached


def _finish_detach(value):
    if isinstance(value, (tuple, list)):
        return tuple(_finish_detach(v) for v in value)
    return value.detach()


def _run(T, build):
    try:
        return "ok", build(T)
    except Exception as exc:  # compared with torch's
        return "error", (type(exc).__name__, str(exc).replace("torch.", "").replace("tapegrad.", "")
                         .replace("_tensor.Tensor", "Tensor"))


def _structure(value):
    """Nesting (tuple or list), shapes, dtypes and requires_grad (values compared separately)."""
    if isinstance(value, (tuple, list)):
        return type(value).__name__, tuple(_structure(v) for v in value)
    return (tuple(value.shape), str(value.dtype).split(".")[-1], value.requires_grad)


def _values(value):
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _values(v)]
    return [value.detach().numpy()]


@pytest.mark.parametrize("name,build", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, build):
    kind_t, expected = _run(torch, build)
    kind_g, got = _run(tapegrad, build)
    assert kind_g == kind_t, (got, expected)
    if kind_t == "error":
        assert got == expected
        return
    if name in KNOWN_DIFFERENCES:
        got, expected = _finish_detach(got), _finish_detach(expected)
    assert _structure(got) == _structure(expected)
    for g, e in zip(_values(got), _values(expected)):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_create_graph_result_is_differentiable_wrt_inputs():
    x = tapegrad.tensor(A, requires_grad=True)
    h = tapegrad.autograd.functional.hessian(lambda t: (t ** 4).sum(), x, create_graph=True)
    h.sum().backward()
    tx = torch.tensor(A, requires_grad=True)
    torch.autograd.functional.hessian(lambda t: (t ** 4).sum(), tx, create_graph=True).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_without_create_graph_inputs_are_not_touched():
    x = tapegrad.tensor(A, requires_grad=True)
    out, v = tapegrad.autograd.functional.vjp(f_exp, x, tapegrad.ones(3))
    assert x.grad is None and not out.requires_grad and not v.requires_grad


def test_grad_mode_off_outside_is_respected():
    with tapegrad.no_grad():
        jac = tapegrad.autograd.functional.jacobian(f_exp, tapegrad.tensor(A))
    assert not jac.requires_grad and tapegrad.is_grad_enabled()
