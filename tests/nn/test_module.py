"""nn.Module, Parameter, the containers and the linear layers, each scenario run on tapegrad and on
torch (the specification) and the outcomes compared: names, reprs, errors, values, gradients."""
import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad


@pytest.fixture
def real_torch():
    return pytest.importorskip("torch")


def both(real_torch, scenario):
    """(tapegrad's outcome, torch's outcome) of scenario(lib); an exception counts as (type name, text)."""
    def outcome(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return scenario(lib)
            except Exception as exc:  # the error is the outcome under comparison
                return (type(exc).__name__, str(exc))
    return outcome(tapegrad), outcome(real_torch)


def nested_model(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)
            self.register_buffer("count", torch.zeros(1, dtype=torch.int64))
            self.register_buffer("scratch", torch.ones(2), persistent=False)
            self.scale = nn.Parameter(torch.ones(()))

        def forward(self, x):
            return self.fc(x) * self.scale

    shared = nn.Linear(4, 4)
    torch.manual_seed(0)
    return nn.Sequential(OrderedDict([
        ("block", Block()),
        ("act", nn.Identity()),
        ("layers", nn.ModuleList([shared, nn.Linear(4, 2), shared])),
        ("heads", nn.ModuleDict({"b": nn.Linear(2, 1, bias=False), "a": nn.Flatten()})),
    ]))


# ------------------------------------------------------------------------------ Parameter
def test_parameter_repr_class_and_ops():
    nn = tapegrad.nn
    p = nn.Parameter(tapegrad.ones(2))
    assert repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert repr(nn.Parameter(tapegrad.ones(2), requires_grad=False)) == "Parameter containing:\ntensor([1., 1.])"
    assert repr(nn.Parameter()) == "Parameter containing:\ntensor([], requires_grad=True)"
    assert isinstance(p, tapegrad.Tensor) and p.is_leaf
    for out in (p * 2, p.detach(), p.data, p[0], p.view(2)):
        assert type(out) is tapegrad.Tensor
    assert type(copy.deepcopy(p)) is nn.Parameter
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is nn.Parameter and q.requires_grad and q.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        nn.Parameter(tapegrad.ones(2, dtype=tapegrad.int64))


def test_parameter_from_non_leaf_is_a_leaf_sharing_storage():
    x = tapegrad.ones(3, requires_grad=True) * 2
    p = tapegrad.nn.Parameter(x)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    x.data[0] = 5.0
    assert p[0].item() == 5.0


def test_buffer_marker(real_torch):
    def scenario(torch):
        m = torch.nn.Module()
        m.a = torch.nn.Buffer(torch.ones(2))
        m.b = torch.nn.Buffer(torch.ones(1), persistent=False)
        return list(m.state_dict()), [n for n, _ in m.named_buffers()]
    got, want = both(real_torch, scenario)
    assert got == want


# ------------------------------------------------------------------------------ registration
@pytest.mark.parametrize("case", [
    "assign_tensor_to_param", "unknown_attr", "bad_buffer", "dotted_param", "empty_buffer_name", "existing_attr",
    "module_not_module", "non_leaf_param", "assign_int_to_child", "assign_before_init", "forward_missing",
    "unexpected_kwarg", "buffer_wrong_type_assign",
])
def test_registration_errors(real_torch, case):
    def scenario(torch):
        nn = torch.nn
        lin = nn.Linear(2, 3)
        if case == "assign_tensor_to_param":
            lin.weight = torch.ones(3, 2)
        elif case == "unknown_attr":
            lin.foo
        elif case == "bad_buffer":
            lin.register_buffer("b", [1, 2])
        elif case == "dotted_param":
            lin.register_parameter("a.b", None)
        elif case == "empty_buffer_name":
            lin.register_buffer("", None)
        elif case == "existing_attr":
            lin.register_buffer("weight", torch.ones(1))
        elif case == "module_not_module":
            lin.add_module("x", 3)
        elif case == "non_leaf_param":
            lin.register_parameter("p", nn.Parameter(torch.ones(1)) * 1)
        elif case == "assign_int_to_child":
            s = nn.Sequential(nn.Linear(1, 1))
            setattr(s, "0", 3)
        elif case == "assign_before_init":
            class Bad(nn.Module):
                def __init__(self):
                    self.w = nn.Parameter(torch.ones(1))
            Bad()
        elif case == "forward_missing":
            nn.Module()(1)
        elif case == "unexpected_kwarg":
            nn.Module(foo=1)
        elif case == "buffer_wrong_type_assign":
            lin.register_buffer("buf", torch.ones(1))
            lin.buf = 3
        return "no error"
    got, want = both(real_torch, scenario)
    assert got == want


def test_attribute_routing_and_delattr(real_torch):
    def scenario(torch):
        nn = torch.nn
        m = nn.Module()
        m.w = nn.Parameter(torch.ones(1))
        m.w = None                         # stays a parameter slot
        m.sub = nn.Linear(1, 1)
        m.sub = nn.Parameter(torch.ones(2))  # becomes a parameter, no longer a module
        m.register_buffer("b", torch.ones(1), persistent=False)
        m.b = torch.zeros(1)               # stays non-persistent
        m.plain = 5
        out = (sorted(m._parameters), sorted(m._modules), sorted(m._buffers), sorted(m._non_persistent_buffers_set),
               list(m.state_dict()))
        del m.sub, m.b, m.plain
        names = [k for k in dir(m) if k in ("w", "sub", "b", "plain", "forward", "training")]
        return out + (sorted(m._parameters), sorted(m._buffers), names)
    got, want = both(real_torch, scenario)
    assert got == want


# ------------------------------------------------------------------------------ iteration
def test_named_members_match_torch(real_torch):
    def scenario(torch):
        m = nested_model(torch)
        return {
            "params": [(n, tuple(p.shape)) for n, p in m.named_parameters()],
            "params_dup": [n for n, _ in m.named_parameters(remove_duplicate=False)],
            "params_prefix": [n for n, _ in m.named_parameters(prefix="model", recurse=False)],
            "block_params": [n for n, _ in m.block.named_parameters(recurse=False)],
            "buffers": [n for n, _ in m.named_buffers()],
            "children": [n for n, _ in m.named_children()],
            "modules": [(n, type(x).__name__) for n, x in m.named_modules()],
            "modules_dup": [n for n, _ in m.named_modules(remove_duplicate=False)],
            "modules_prefix": [n for n, _ in m.named_modules(prefix="root")],
            "count": (len(list(m.parameters())), len(list(m.buffers())), len(list(m.modules()))),
            "state": [(k, tuple(v.shape), str(v.dtype)) for k, v in m.state_dict().items()],
            "metadata": list(m.state_dict()._metadata.items()),
        }
    got, want = both(real_torch, scenario)
    assert got == want


def test_get_submodule_parameter_buffer(real_torch):
    def scenario(torch):
        m = nested_model(torch)
        out = [type(m.get_submodule("layers.1")).__name__, tuple(m.get_parameter("block.fc.weight").shape),
               m.get_buffer("block.count").tolist(), m.get_submodule("") is m]
        for call in (lambda: m.get_submodule("nope.x"), lambda: m.get_parameter("block.count"),
                     lambda: m.get_buffer("block.fc.weight"), lambda: m.get_submodule("block.scale"),
                     lambda: m.get_parameter("block.zzz")):
            try:
                call()
            except AttributeError as exc:
                out.append(str(exc))
        return out
    got, want = both(real_torch, scenario)
    assert got == want


# ------------------------------------------------------------------------------ modes, grads, conversion
def test_train_eval_requires_grad_zero_grad_apply(real_torch):
    def scenario(torch):
        m = nested_model(torch)
        out = [m.training, m.eval() is m, [x.training for x in m.modules()]]
        m.train()
        out.append(all(x.training for x in m.modules()))
        m.requires_grad_(False)
        out.append([p.requires_grad for p in m.parameters()])
        m.requires_grad_()
        y = m.layers[1](m.layers[0](m.block(torch.ones(2, 3))))
        y.sum().backward()
        out.append([p.grad is None for p in m.parameters()])
        m.zero_grad(set_to_none=False)
        out.append([None if p.grad is None else float(p.grad.abs().sum()) for p in m.parameters()])
        m.zero_grad()
        out.append([p.grad is None for p in m.parameters()])
        seen = []
        m.apply(lambda mod: seen.append(type(mod).__name__))
        out.append(seen)
        try:
            m.train("yes")
        except ValueError as exc:
            out.append(str(exc))
        return out
    got, want = both(real_torch, scenario)
    assert got == want


def test_dtype_conversion_keeps_parameter_objects(real_torch):
    def scenario(torch):
        m = nested_model(torch)
        w = m.block.fc.weight
        m.block.fc.weight.grad = torch.ones(4, 3)
        m.double()
        out = [m.block.fc.weight is w, str(w.dtype), str(w.grad.dtype), str(m.block.count.dtype),
               type(m.block.fc.weight).__name__]
        m.to(torch.float32)
        out.append(str(w.dtype))
        m.to("cpu", dtype=torch.float64)
        out.append(str(w.dtype))
        m.float().half().float()
        out.append(str(w.dtype))
        out.append(m.cpu() is m)
        try:
            m.to(torch.int32)
        except TypeError as exc:
            out.append(str(exc))
        try:
            m.cuda()
        except Exception as exc:  # CPU-only builds refuse
            out.append(type(exc).__name__)
        return out
    got, want = both(real_torch, scenario)
    assert got == want


# ------------------------------------------------------------------------------ state dict
def test_state_dict_values_share_storage_and_keep_vars(real_torch):
    def scenario(torch):
        m = torch.nn.Linear(2, 2)
        sd = m.state_dict()
        with torch.no_grad():
            m.weight[0, 0] = 7.0
        kv = m.state_dict(keep_vars=True)
        pre = m.state_dict(prefix="net.")
        return (type(sd).__name__, sd["weight"][0, 0].item(), sd["weight"].requires_grad,
                type(sd["weight"]).__name__, kv["weight"] is m.weight, list(pre))
    got, want = both(real_torch, scenario)
    assert got == want


@pytest.mark.parametrize("case", ["ok", "missing", "unexpected", "size", "all", "not_strict", "not_mapping",
                                  "not_tensor", "assign", "nested"])
def test_load_state_dict_results_and_errors(real_torch, case):
    def scenario(torch):
        nn = torch.nn
        m = nn.Linear(2, 3)
        good = {"weight": torch.full((3, 2), 0.5), "bias": torch.zeros(3)}
        if case == "ok":
            r = m.load_state_dict(good)
            return repr(r), str(r), m.weight.sum().item(), r.missing_keys, r.unexpected_keys
        if case == "missing":
            return repr(m.load_state_dict({"weight": good["weight"]}))
        if case == "unexpected":
            return repr(m.load_state_dict(dict(good, extra=torch.ones(1))))
        if case == "size":
            return repr(m.load_state_dict({"weight": torch.ones(2, 2), "bias": torch.zeros(3)}))
        if case == "all":
            return repr(m.load_state_dict({"weight": torch.ones(2, 2), "extra": torch.ones(1), "x.y": 1}))
        if case == "not_strict":
            r = m.load_state_dict({"weight": good["weight"], "extra": torch.ones(1)}, strict=False)
            return repr(r), r.missing_keys, r.unexpected_keys
        if case == "not_mapping":
            return m.load_state_dict([1, 2])
        if case == "not_tensor":
            return m.load_state_dict({"weight": [1.0], "bias": torch.zeros(3)})
        if case == "assign":
            src = torch.full((3, 2), 2.0)
            w = m.weight
            m.load_state_dict(dict(good, weight=src), assign=True)
            return (m.weight is w, type(m.weight).__name__, m.weight.requires_grad, m.weight.sum().item())
        if case == "nested":
            a, b = nested_model(torch), nested_model(torch)
            with torch.no_grad():
                for p in a.parameters():
                    p.add_(1.0)
            r = b.load_state_dict(a.state_dict())
            bad = a.state_dict()
            del bad["layers.1.bias"]
            bad["layers.7.weight"] = torch.ones(1)
            try:
                b.load_state_dict(bad)
            except RuntimeError as exc:
                err = str(exc)
            same = all(bool((x == y).all()) for x, y in zip(a.parameters(), b.parameters()))
            return repr(r), same, err
    got, want = both(real_torch, scenario)
    assert got == want


def test_incompatible_keys_repr():
    from tapegrad.nn.modules.module import _IncompatibleKeys
    assert repr(_IncompatibleKeys([], [])) == "<All keys matched successfully>"
    assert repr(_IncompatibleKeys(["a"], ["b"])) == "_IncompatibleKeys(missing_keys=['a'], unexpected_keys=['b'])"


# ------------------------------------------------------------------------------ repr
def test_nested_repr_matches_torch(real_torch):
    def scenario(torch):
        nn = torch.nn

        class WithExtra(nn.Module):
            def extra_repr(self):
                return "alpha=1,\nbeta=2"

        m = nn.Sequential(
            nn.Linear(2, 3), nn.Sequential(nn.Identity(), nn.Linear(3, 1, bias=False)), nn.Flatten(),
            nn.Unflatten(1, (2, 2)), nn.Bilinear(2, 3, 4),
            nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.Identity(), nn.Identity(), nn.Linear(1, 1)]),
            nn.ModuleDict({"x": nn.Identity(), "y": WithExtra()}),
            nn.ParameterList([nn.Parameter(torch.ones(2, 3)), torch.ones(2, dtype=torch.float64), 3]),
            nn.ParameterDict({"b": torch.zeros(1), "a": nn.Parameter(torch.ones(2, 3))}),
            WithExtra(), nn.ModuleList(), nn.Sequential(),
        )
        m.add_module("none", None)
        return repr(m)
    got, want = both(real_torch, scenario)
    assert got == want


# ------------------------------------------------------------------------------ containers
def test_sequential_operations(real_torch):
    def scenario(torch):
        nn = torch.nn
        a, b, c = nn.Linear(1, 1), nn.Identity(), nn.Flatten()
        s = nn.Sequential(a, b, c)
        out = [len(s), s[0] is a, s[-1] is c, type(s[1:]).__name__, list(s[1:]._modules)]
        s.append(nn.Identity())
        s.insert(1, nn.Linear(1, 2))
        out.append(list(s._modules))
        del s[0]
        out.append([type(x).__name__ for x in s])
        out.append(list(s._modules))
        out.append(len(s + nn.Sequential(a)))
        s[0] = a
        out.append(s[0] is a)
        out.append(type(s.pop(1)).__name__)
        out.append([k for k in dir(s) if k.isdigit()])
        for bad in (lambda: s[10], lambda: s + 3, lambda: s.insert(20, a)):
            try:
                bad()
            except Exception as exc:
                out.append((type(exc).__name__, str(exc)))
        od = nn.Sequential(OrderedDict([("first", a), ("second", b)]))
        out.append(list(od._modules))
        x = torch.ones(1, 1, dtype=torch.float32)
        out.append(tuple(nn.Sequential(nn.Identity(), nn.Flatten(0))(x).shape))
        return out
    got, want = both(real_torch, scenario)
    assert got == want


def test_modulelist_moduledict_operations(real_torch):
    def scenario(torch):
        nn = torch.nn
        ml = nn.ModuleList([nn.Identity(), nn.Linear(1, 1)])
        ml.append(nn.Flatten())
        ml.extend([nn.Identity()])
        ml.insert(0, nn.Linear(2, 2))
        ml += [nn.Identity()]
        out = [len(ml), [type(x).__name__ for x in ml], type(ml[1:3]).__name__, len(ml + ml)]
        del ml[1]
        out.append(list(ml._modules))
        out.append(type(ml.pop(0)).__name__)
        for bad in (lambda: ml[9], lambda: ml.extend(3), lambda: ml(1)):
            try:
                bad()
            except Exception as exc:
                out.append((type(exc).__name__, str(exc)))
        md = nn.ModuleDict({"b": nn.Identity(), "a": nn.Linear(1, 1)})
        md.update([("c", nn.Flatten())])
        md["d"] = nn.Identity()
        out += [list(md.keys()), "a" in md, len(md), type(md.pop("a")).__name__, list(md)]
        for bad in (lambda: md.update(3), lambda: md.update([("x",)]), lambda: md.update([1])):
            try:
                bad()
            except Exception as exc:
                out.append((type(exc).__name__, str(exc)))
        md.clear()
        out.append(len(md))
        return out
    got, want = both(real_torch, scenario)
    assert got == want


def test_parameterlist_parameterdict(real_torch):
    def scenario(torch):
        nn = torch.nn
        pl = nn.ParameterList([torch.ones(2), nn.Parameter(torch.zeros(3))])
        pl.append(torch.ones(1))
        pl.extend([torch.ones(4)])
        out = [len(pl), [type(p).__name__ for p in pl], [n for n, _ in pl.named_parameters()], len(pl[1:])]
        pd = nn.ParameterDict({"z": torch.ones(1), "a": torch.ones(2)})
        pd["m"] = torch.zeros(3)
        pd.update(OrderedDict([("y", torch.ones(1)), ("b", torch.ones(1))]))
        out += [list(pd.keys()), [n for n, _ in pd.named_parameters()], type(pd["a"]).__name__, "a" in pd,
                len(pd), type(pd.pop("a")).__name__, list(pd), pd.get("nope", 5), pd.setdefault("q", None)]
        k, v = pd.popitem()
        out.append((k, v))
        for bad in (lambda: pl(1), lambda: pd(1), lambda: pl.extend(torch.ones(2)), lambda: pd[1]):
            try:
                bad()
            except Exception as exc:
                out.append((type(exc).__name__, str(exc)))
        return out
    got, want = both(real_torch, scenario)
    assert got == want


# ------------------------------------------------------------------------------ layers
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 5, 3), (0, 3), (2, 2, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_backward_matches_torch(real_torch, shape, bias):
    def scenario(torch):
        torch.manual_seed(0)
        lin = torch.nn.Linear(3, 2, bias=bias, dtype=torch.float64)
        x = torch.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 7.0, requires_grad=True)
        y = lin(x)
        g = torch.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))
        y.backward(g)
        grads = [p.grad.numpy() for p in lin.parameters()]
        return y.detach().numpy(), x.grad.numpy(), grads, y.grad_fn.name()
    (y, gx, gp, name), (y_t, gx_t, gp_t, name_t) = both(real_torch, scenario)
    np.testing.assert_allclose(y, y_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, gx_t, rtol=1e-12, atol=1e-12)
    for a, b in zip(gp, gp_t):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert name == name_t


@pytest.mark.parametrize("batch", [(4,), (2, 3), ()])
def test_bilinear_forward_backward_matches_torch(real_torch, batch):
    def scenario(torch):
        torch.manual_seed(1)
        layer = torch.nn.Bilinear(3, 2, 4, dtype=torch.float64)
        x1 = torch.randn(*batch, 3, dtype=torch.float64, requires_grad=True)
        x2 = torch.randn(*batch, 2, dtype=torch.float64, requires_grad=True)
        y = layer(x1, x2)
        (y * y).sum().backward()
        return (y.detach().numpy(), x1.grad.numpy(), x2.grad.numpy(), layer.weight.grad.numpy(),
                layer.bias.grad.numpy())
    got, want = both(real_torch, scenario)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_default_init_equals_torch_bitwise(real_torch):
    def scenario(torch):
        torch.manual_seed(0)
        lin = torch.nn.Linear(3, 2)
        big = torch.nn.Linear(37, 19)
        bil = torch.nn.Bilinear(5, 4, 3)
        return [p.detach().numpy().copy() for m in (lin, big, bil) for p in m.parameters()]
    got, want = both(real_torch, scenario)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_flatten_unflatten_identity(real_torch):
    def scenario(torch):
        nn = torch.nn
        x = torch.arange(24.0).reshape(2, 3, 4)
        out = [tuple(nn.Flatten()(x).shape), tuple(nn.Flatten(0, 1)(x).shape),
               tuple(nn.Unflatten(2, (2, 2))(x).shape), nn.Identity(3, foo=1)(x) is x]
        for bad in (lambda: nn.Unflatten(1, 3), lambda: nn.Unflatten(1, (2, 1.5)), lambda: nn.Unflatten(1.0, (2,))):
            try:
                bad()
            except TypeError as exc:
                out.append(str(exc))
        return out
    got, want = both(real_torch, scenario)
    assert got == want


# ------------------------------------------------------------------------------ hooks
def _hook_log(torch):
    nn = torch.nn
    torch.manual_seed(0)
    m = nn.Linear(3, 2).double()
    log = []

    def fmt(x):
        if x is None:
            return None
        if isinstance(x, tuple):
            return tuple(fmt(i) for i in x)
        return [round(v, 9) for v in x.detach().reshape(-1).tolist()]
    handles = [
        m.register_forward_pre_hook(lambda mod, args: log.append(("pre", fmt(args)))),
        m.register_forward_hook(lambda mod, args, out: log.append(("fwd", fmt(args), fmt(out)))),
        m.register_full_backward_pre_hook(lambda mod, go: log.append(("bpre", fmt(go)))),
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("bwd", fmt(gi), fmt(go)))),
    ]
    x = torch.arange(6.0).reshape(2, 3).double().requires_grad_()
    y = m(x)
    log.append(y.grad_fn.name())
    (y * torch.tensor([[1.0, 2.0], [3.0, 4.0]]).double()).sum().backward()
    log.append((fmt(x.grad), fmt(m.weight.grad)))
    y = m(torch.ones(1, 3).double())   # no input requires grad: hooks fire from the output
    y.sum().backward()
    for h in handles:
        h.remove()
    m(x).sum().backward()
    log.append(len(log))
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10,))
    x.grad = None
    m(x).sum().backward()
    log.append(fmt(x.grad))
    ident = nn.Identity()
    ident.register_forward_pre_hook(lambda mod, a, k: ((a[0] + 1,), k), with_kwargs=True)
    ident.register_forward_hook(lambda mod, a, k, o: o * 2, with_kwargs=True)
    ident.register_forward_pre_hook(lambda mod, a: log.append("first"), prepend=True)
    log.append(fmt(ident(torch.ones(2))))

    def boom(mod, a):
        raise ValueError("boom")
    failing = nn.Identity()
    failing.register_forward_pre_hook(boom)
    failing.register_forward_hook(lambda mod, a, o: log.append("always"), always_call=True)
    try:
        failing(torch.ones(1))
    except ValueError as exc:
        log.append(str(exc))
    return log


def test_hooks_fire_with_torchs_arguments(real_torch):
    got, want = both(real_torch, _hook_log)
    assert got == want


def test_removable_handle_context_manager():
    m = tapegrad.nn.Identity()
    calls = []
    with m.register_forward_hook(lambda mod, a, o: calls.append(1)):
        m(tapegrad.ones(1))
    m(tapegrad.ones(1))
    assert calls == [1]
    assert isinstance(m.register_forward_hook(lambda *a: None), tapegrad.utils.hooks.RemovableHandle)
