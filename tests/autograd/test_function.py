"""Custom autograd.Function: apply, ctx, node, errors, double backward, as torch."""
import warnings

import numpy as np
import pytest

import tapegrad
from tapegrad.autograd.function import once_differentiable as tg_once

torch = pytest.importorskip("torch")


def make_classes(T, once):
    """The same custom Functions written against `T` (torch or tapegrad)."""

    class MyFn(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.k * x.sign().abs(), None

    class Sq(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class OnceSq(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @once
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    class SC(T.autograd.Function):
        @staticmethod
        def forward(x, k=2.0):
            return x.exp() * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out, None

    class Multi(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 7, x * 3

        @staticmethod
        def backward(ctx, g1, g2, g3):
            assert g2 is None
            return g1 * 2 + g3 * 3

    class NoMat(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return (g1 * 2 if g1 is not None else 0) + (g2 * 3 if g2 is not None else 0)

    class SortND(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            s, i = x.sort()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(i)
            return s, i

        @staticmethod
        def backward(ctx, gs, gi):
            (i,) = ctx.saved_tensors
            return T.zeros_like(gs).scatter(0, i, gs)

    class Dirty(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Ident(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    def bad(name, grads):
        def backward(ctx, g):
            return grads(g)
        return type(name, (T.autograd.Function,), {
            "forward": staticmethod(lambda ctx, *a: a[0] * 2),
            "backward": staticmethod(backward)})

    return dict(MyFn=MyFn, Sq=Sq, OnceSq=OnceSq, SC=SC, Multi=Multi, NoMat=NoMat, SortND=SortND, Dirty=Dirty,
                Ident=Ident, F2=bad("F2", lambda g: g), F2c=bad("F2c", lambda g: (g, g, g)),
                F2b=bad("F2b", lambda g: (g, g, None)), F3=bad("F3", lambda g: T.ones(5)),
                F4=bad("F4", lambda g: T.ones(3, 2)), F6=bad("F6", lambda g: (g, g)),
                F7=bad("F7", lambda g: 3), Dt=bad("Dt", lambda g: g.double()))


LIBS = {"torch": (torch, make_classes(torch, torch.autograd.function.once_differentiable)),
        "tapegrad": (tapegrad, make_classes(tapegrad, tg_once))}

X = np.array([0.5, -1.5, 2.0])


def scenario(name):
    """Run one scenario on both libraries; return comparable observations."""
    out = {}
    for lib, (T, F) in LIBS.items():
        try:
            out[lib] = SCENARIOS[name](T, F)
        except Exception as exc:
            out[lib] = ("error", type(exc).__name__, str(exc))
    return out["tapegrad"], out["torch"]


def _np(t):
    return None if t is None else t.detach().numpy().tolist()


def s_basic(T, F):
    x = T.tensor(X, requires_grad=True)
    y = F["MyFn"].apply(x, 2.0)
    node = y.grad_fn
    info = (type(node).__name__, node.name(), isinstance(node, T.autograd.graph.Node), node.k,
            node.needs_input_grad, len(node.next_functions), type(node.next_functions[0][0]).__name__,
            y.requires_grad, y.is_leaf)
    y.sum().backward()
    try:
        node.saved_tensors
        freed = None
    except RuntimeError as exc:
        freed = str(exc)
    return info, _np(x.grad), freed, node.k


def s_no_graph(T, F):
    x = T.tensor(X, requires_grad=True)
    with T.no_grad():
        a = F["MyFn"].apply(x, 2.0)
    b = F["MyFn"].apply(T.tensor(X), 2.0)
    return a.grad_fn, a.requires_grad, b.grad_fn, b.requires_grad


def s_double_backward(T, F):
    x = T.tensor(X, requires_grad=True)
    (g,) = T.autograd.grad(F["Sq"].apply(x).sum(), x, create_graph=True)
    g2 = T.autograd.grad((g * g).sum(), x)[0]
    return _np(g), g.grad_fn.name(), _np(g2)


def s_once(T, F):
    x = T.tensor(X, requires_grad=True)
    y = F["OnceSq"].apply(x)
    v = T.ones(3, requires_grad=True)
    (g,) = T.autograd.grad(y, x, v, create_graph=True)
    info = (_np(g), g.requires_grad, g.grad_fn.name(), len(g.grad_fn.next_functions))
    g.sum().backward()
    return info


def s_once_plain(T, F):
    x = T.tensor(X, requires_grad=True)
    (g,) = T.autograd.grad(F["OnceSq"].apply(x).sum(), x, create_graph=True)
    return _np(g), g.requires_grad


def s_setup_context(T, F):
    x = T.tensor(X, requires_grad=True)
    y = F["SC"].apply(x, k=3.0)
    y.sum().backward()
    z = F["SC"].apply(x)
    return _np(y), _np(x.grad), y.grad_fn.name(), y.grad_fn.k, z.grad_fn.k, y.grad_fn.needs_input_grad


def s_multi(T, F):
    x = T.tensor(X, requires_grad=True)
    a, k, c = F["Multi"].apply(x)
    info = (k, a.output_nr, c.output_nr, a.grad_fn is c.grad_fn)
    a.sum().backward()
    return info, _np(x.grad)


def s_no_materialize(T, F):
    x = T.tensor(X, requires_grad=True)
    a, b = F["NoMat"].apply(x)
    b.sum().backward()
    return _np(x.grad)


def s_non_differentiable(T, F):
    x = T.tensor(X, requires_grad=True)
    s, i = F["SortND"].apply(x)
    (s * T.tensor([1.0, 2.0, 3.0], dtype=T.float64)).sum().backward()
    return i.requires_grad, i.grad_fn, s.grad_fn.name(), _np(x.grad)


def s_dirty(T, F):
    a = T.tensor(X, requires_grad=True)
    c = a.clone()
    d = F["Dirty"].apply(c)
    info = (d is c, c.grad_fn.name(), c._version)
    d.sum().backward()
    e = T.tensor(X)
    f = F["Dirty"].apply(e)
    return info, _np(a.grad), f is e, f.grad_fn, _np(e)


def s_dirty_leaf(T, F):
    return F["Dirty"].apply(T.tensor(X, requires_grad=True))


def s_identity(T, F):
    a = T.tensor(X, requires_grad=True)
    b = F["Ident"].apply(a)
    a2 = T.tensor(X)
    b2 = F["Ident"].apply(a2)
    with T.no_grad():
        b3 = F["Ident"].apply(a)
    return (b is a, b.grad_fn.name(), b._base is a, b2 is a2, b2._base is a2, b2.requires_grad, b3 is a,
            b3._base is None, b3.requires_grad)


def s_saved_modified(T, F):
    a = T.tensor(X, requires_grad=True)
    c = a * 1
    y = F["Sq"].apply(c)
    c.add_(1)
    y.sum().backward()


def s_saved_output_modified(T, F):
    a = T.tensor(X, requires_grad=True)
    y = F["SC"].apply(a)
    y.mul_(2)
    y.sum().backward()


def s_backward_twice(T, F):
    x = T.tensor(X, requires_grad=True)
    y = F["Sq"].apply(x).sum()
    y.backward()
    y.backward()


def _err(name):
    def run(T, F):
        x = T.tensor(X[:2], requires_grad=True)
        if name in ("F2", "F2b", "F2c", "F6"):
            y = F[name].apply(x, 3 if name == "F6" else T.ones(2))
        else:
            y = F[name].apply(x)
        y.sum().backward()
        return _np(x.grad), str(x.grad.dtype)
    return run


def s_broadcast_grad(T, F):
    x = T.tensor(X[:2], requires_grad=True)
    F["F4"].apply(x).sum().backward()
    return _np(x.grad)


def s_scalar_input_grad(T, F):
    Five = type("F5", (T.autograd.Function,), {
        "forward": staticmethod(lambda ctx, x: x * 2),
        "backward": staticmethod(lambda ctx, g: T.ones(1, 1, dtype=T.float64))})
    x = T.tensor(1.0, requires_grad=True)
    Five.apply(x).backward()
    return _np(x.grad), str(x.grad.dtype)


def s_hooks_on_node(T, F):
    x = T.tensor(X, requires_grad=True)
    y = F["Sq"].apply(x)
    seen = []
    y.grad_fn.register_prehook(lambda go: seen.append(("pre", [_np(g) for g in go])))
    y.grad_fn.register_hook(lambda gi, go: seen.append(("post", [_np(g) for g in gi], [_np(g) for g in go])))
    y.sum().backward()
    return seen


def s_save_non_tensor(T, F):
    Bad = type("SvBad", (T.autograd.Function,), {
        "forward": staticmethod(lambda ctx, x: (ctx.save_for_backward(x, 3), x * 2)[1]),
        "backward": staticmethod(lambda ctx, g: g)})
    Bad.apply(T.tensor(X, requires_grad=True))


def s_not_implemented(T, F):
    NoBw = type("NoBw", (T.autograd.Function,), {"forward": staticmethod(lambda ctx, x: x * 2)})
    NoBw.apply(T.tensor(X, requires_grad=True)).sum().backward()


def s_vjp_alias(T, F):
    V = type("V", (T.autograd.Function,), {"forward": staticmethod(lambda ctx, x: x * 2),
                                           "vjp": staticmethod(lambda ctx, g: g * 2)})
    x = T.tensor(X, requires_grad=True)
    V.apply(x).sum().backward()
    return _np(x.grad)


def s_legacy(T, F):
    class Legacy(T.autograd.Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            return g
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            Legacy()(T.tensor(X))
        except RuntimeError as exc:
            return [(x.category.__name__, str(x.message).split("'")[0]) for x in w], str(exc)


SCENARIOS = {name[2:]: fn for name, fn in list(globals().items()) if name.startswith("s_")}
SCENARIOS.update({f"error_{n}": _err(n) for n in ("F2", "F2b", "F2c", "F3", "F6", "F7", "Dt")})


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_matches_torch(name):
    got, expected = scenario(name)
    assert got == expected


def test_needs_input_grad_and_attribute_access():
    seen = {}

    class F(tapegrad.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            seen["needs"] = ctx.needs_input_grad
            ctx.anything = [1, 2]
            return x * y * k

        @staticmethod
        def backward(ctx, g):
            return g, None, None

    out = F.apply(tapegrad.ones(2, requires_grad=True), tapegrad.ones(2), 3)
    assert seen["needs"] == (True, False, False)
    assert out.grad_fn.anything == [1, 2]
    assert not hasattr(out.grad_fn, "materialize_grads")
    assert len(out.grad_fn.next_functions) == 2  # tensor inputs only


def test_jvp_static_method_is_kept():
    class F(tapegrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

        @staticmethod
        def jvp(ctx, t):
            return t * 2

    assert F.jvp(None, 3) == 6
    assert tapegrad.autograd.Function.vjp is tapegrad.autograd.Function.backward


def test_anomaly_mode_records_custom_function_trace():
    class F(tapegrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom")

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with tapegrad.autograd.detect_anomaly():
            y = F.apply(tapegrad.ones(2, requires_grad=True))
            with pytest.raises(ValueError, match="boom"):
                y.sum().backward()
    msgs = [str(x.message) for x in w]
    assert any(m.startswith("Error detected in FBackward. Traceback of forward call") and "F.apply" in m
               for m in msgs)


def test_custom_function_jvp_in_forward_mode():
    """Forward mode through a custom Function uses its jvp (the forward sees no tangents), and a
    Function without jvp raises torch's error."""
    import tapegrad as tg
    fwAD = tg.autograd.forward_ad

    class Square(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        def backward(ctx, g):
            return 2 * ctx.x * g

        @staticmethod
        def jvp(ctx, x_t):
            return 2 * ctx.x * x_t * 10  # deliberately not the true derivative: proves jvp is used

    class NoJvp(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        def backward(ctx, g):
            return g * 3

    with fwAD.dual_level():
        dual = fwAD.make_dual(tg.tensor([1.0, 2.0]), tg.ones(2))
        assert fwAD.unpack_dual(Square.apply(dual)).tangent.tolist() == [20.0, 40.0]
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            NoJvp.apply(dual)


def test_node_repr_names_torch_module():
    """A custom Function's node prints as torch's does: `<torch.autograd.function.<Name>Backward object at ...>`."""
    classes = {}
    for T in (tapegrad, torch):
        class Double(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        y = Double.apply(T.ones(2, requires_grad=True))
        classes[T] = repr(y.grad_fn).split(" at 0x")[0]
    assert classes[tapegrad] == classes[torch] == "<torch.autograd.function.DoubleBackward object"
