"""Hooks: saved_tensors_hooks/save_on_cpu, Node hooks, post-accumulate hooks, grad_fn._saved_*, as torch."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")

X = np.array([0.5, -1.5, 2.0])
W = np.array([1.5, 2.5, -0.5])


def both(fn):
    out = []
    for T in (tapegrad, torch):
        try:
            out.append(fn(T))
        except Exception as exc:
            out.append(("error", type(exc).__name__, str(exc)))
    return out


def _np(t):
    return None if t is None else np.round(t.detach().numpy(), 10).tolist()


def _desc(t):
    return (tuple(t.shape), t.requires_grad, t.grad_fn.name() if t.grad_fn is not None else None, t._version)


# --- saved_tensors_hooks -------------------------------------------------------------

def test_pack_and_unpack_calls_match_torch():
    def run(T):
        log = []

        def pack(t):
            log.append(("pack", _desc(t), T.is_grad_enabled()))
            return ("P", t)

        def unpack(p):
            log.append(("unpack", p[0], T.is_grad_enabled()))
            return p[1]

        x = T.tensor(X, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(pack, unpack):
            a = x * x
            b = a.exp()
            c = b.sum()
            d = T.pow(a, 2)
            e = T.tensor(W) * x  # only the constant is saved
        log.append("forward done")
        res = b.grad_fn._saved_result
        log.append(("saved_result", res is b, _np(res)))
        log.append(("saved_self is x", a.grad_fn._saved_self is x))
        (c + d.sum() + e.sum()).backward()
        return log, _np(x.grad)
    got, expected = both(run)
    assert got == expected


def test_hooks_skip_version_check_and_unpack_result_is_used():
    def run(T):
        x = T.tensor(X, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            a = x * 1
            b = a * a
        a.add_(1)
        b.sum().backward()
        g1 = _np(x.grad)
        y0 = T.ones(3, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: None, lambda p: T.full((3,), 5.0)):
            y = y0 * y0
        y.sum().backward()
        return g1, _np(y0.grad)
    got, expected = both(run)
    assert got == expected


def test_unpack_must_return_tensor():
    def run(T):
        x = T.ones(3, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: None, lambda p: 3):
            y = x * x
        y.sum().backward()
    got, expected = both(run)
    assert got == expected and got[0] == "error"


def test_nested_hooks_use_innermost_and_no_grad_saves_nothing():
    def run(T):
        log = []
        x = T.tensor(X, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: ("outer", t), lambda p: (log.append(p[0]), p[1])[1]):
            with T.autograd.graph.saved_tensors_hooks(lambda t: ("inner", t), lambda p: (log.append(p[0]), p[1])[1]):
                y = x * x
            with T.no_grad():
                z = x * x
            w = x.sin()
        (y.sum() + w.sum()).backward()
        return log, z.grad_fn
    got, expected = both(run)
    assert got == expected


def test_custom_function_saves_through_hooks():
    def run(T):
        log = []

        class Sv(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(x, y)
                return y

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                log.append((y.grad_fn is not None, x.requires_grad))
                return g * y

        x = T.tensor(X, requires_grad=True)
        with T.autograd.graph.saved_tensors_hooks(lambda t: (log.append(_desc(t)), t)[1], lambda t: t):
            y = Sv.apply(x)
        y.sum().backward()
        return log, _np(x.grad)
    got, expected = both(run)
    assert got == expected


def test_save_on_cpu_and_disable():
    def run(T):
        x = T.tensor(X, requires_grad=True)
        with T.autograd.graph.save_on_cpu(pin_memory=False):
            y = (x * x).exp().sum()
        y.backward()
        with T.autograd.graph.disable_saved_tensors_hooks("hooks are off here"):
            try:
                with T.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
            except RuntimeError as exc:
                msg = str(exc)
        return _np(x.grad), msg
    got, expected = both(run)
    assert got == expected


def test_hooks_cost_nothing_after_exit():
    from tapegrad.autograd.graph import hooks_state
    with tapegrad.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        assert len(hooks_state.stack) == 1
    assert hooks_state.stack == []


# --- Node hooks -------------------------------------------------------------------------

def test_node_hooks_arguments_and_replacement():
    def run(T):
        log = []
        x = T.tensor(X, requires_grad=True)
        w = T.tensor(W, requires_grad=True)
        y = x * w
        z = y.exp().sum()
        y.grad_fn.register_prehook(lambda go: (log.append(("pre", [_np(g) for g in go])), (go[0] * 2,))[1])
        h = y.grad_fn.register_hook(lambda gi, go: log.append(("post", [_np(g) for g in gi], [_np(g) for g in go])))
        y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[1] * 0))
        z.backward(retain_graph=True)
        first = (_np(x.grad), _np(w.grad))
        h.remove()
        x.grad = None
        z.backward()
        return log, first, _np(x.grad), isinstance(y.grad_fn, T.autograd.graph.Node), y.grad_fn.metadata
    got, expected = both(run)
    assert got == expected


def test_accumulate_grad_node_hooks():
    def run(T):
        log = []
        x = T.tensor(X, requires_grad=True)
        y = (x * 2).sum()
        acc = y.grad_fn.next_functions[0][0].next_functions[0][0]
        acc.register_prehook(lambda go: log.append(("pre", [_np(g) for g in go])))
        acc.register_hook(lambda gi, go: log.append(("post", gi, [_np(g) for g in go])))
        y.backward()
        return log, acc.name()
    got, expected = both(run)
    assert got == expected


def test_post_accumulate_grad_hook():
    def run(T):
        log = []
        x = T.tensor(X, requires_grad=True)
        h = x.register_post_accumulate_grad_hook(lambda t: log.append(("post", t is x, _np(t.grad))))
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        h.remove()
        (x * 3).sum().backward()
        try:
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        except RuntimeError as exc:
            log.append(str(exc))
        try:
            T.tensor(X).register_post_accumulate_grad_hook(lambda t: None)
        except RuntimeError as exc:
            log.append(str(exc))
        return log
    got, expected = both(run)
    assert got == expected


# --- grad_fn._saved_* -------------------------------------------------------------------------

SAVED = [
    ("mul", lambda T, x, w: x * w, ["self", "other", "alpha"]),
    ("mul_scalar", lambda T, x, w: x * 2, ["other", "self"]),
    ("pow_scalar", lambda T, x, w: x ** 3, ["self", "exponent", "result"]),
    ("pow_tensor", lambda T, x, w: T.pow(x, w), ["self", "exponent", "result"]),
    ("exp", lambda T, x, w: x.exp(), ["result", "self"]),
    ("sum", lambda T, x, w: x.sum(), ["self_sym_sizes", "self"]),
    ("sum_dim", lambda T, x, w: x.sum(0), ["keepdim", "self_sym_sizes"]),
    ("mean", lambda T, x, w: x.mean(), ["self_sym_sizes", "self_sym_numel", "self"]),
]


def _saved_view(v):
    if hasattr(v, "detach"):
        return ("tensor", _np(v), str(v.dtype), v.grad_fn.name() if v.grad_fn is not None else None)
    return v


@pytest.mark.parametrize("case", SAVED, ids=[c[0] for c in SAVED])
def test_saved_attributes(case):
    _, build, names = case

    def run(T):
        x = T.tensor(np.abs(X) + 0.5, requires_grad=True)
        w = T.tensor(W, requires_grad=True)
        y = build(T, x, w)
        out = []
        for n in names:
            try:
                v = getattr(y.grad_fn, "_saved_" + n)
                out.append((n, "is input" if v is x or v is w else _saved_view(v)))
            except AttributeError as exc:
                out.append((n, "AttributeError", str(exc)))
        y.sum().backward()
        try:
            getattr(y.grad_fn, "_saved_" + names[0])
        except RuntimeError as exc:
            out.append(("freed", str(exc)))
        return out
    got, expected = both(run)
    assert got == expected


def test_increment_version():
    for T in (tapegrad, torch):
        t = T.ones(2)
        T.autograd.graph.increment_version(t)
        assert t._version == 1
        x = T.ones(2, requires_grad=True)
        y = x * 1
        z = y * y
        T.autograd.graph.increment_version(y)
        with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
            z.sum().backward()
