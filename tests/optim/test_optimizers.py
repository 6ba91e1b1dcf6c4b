"""Optimizers: step-for-step equality with torch over 20 steps, and the Optimizer base behaviours."""
import pickle

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import optim

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.05)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.3, centered=True, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.01)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True)),
]
SHAPES = [(3, 4), (5,), ()]
STEPS = 20


def _ids(config):
    name, kwargs = config
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def _tolerances(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_matches_torch_step_for_step(config, dtype):
    torch = pytest.importorskip("torch")
    name, kwargs = config
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [tg.tensor(a, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    opt_ours = getattr(optim, name)(ours, **kwargs)
    opt_theirs = getattr(torch.optim, name)(theirs, **kwargs)
    tol = _tolerances(dtype)
    for step in range(STEPS):
        for i, (p, q) in enumerate(zip(ours, theirs)):
            if i == 1 and step % 7 == 3:  # a parameter without a gradient is skipped
                p.grad, q.grad = None, None
                continue
            g = rng.standard_normal(SHAPES[i]).astype(dtype)
            p.grad, q.grad = tg.tensor(g), torch.tensor(g)
        opt_ours.step()
        opt_theirs.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), **tol, err_msg=f"step {step}")
            st, sq = opt_ours.state[p], opt_theirs.state[q]
            assert set(st) == set(sq)
            for key in sq:
                a, b = st[key], sq[key]
                assert isinstance(a, tg.Tensor)
                assert str(a.dtype) == str(b.dtype), key
                np.testing.assert_allclose(a.numpy(), b.numpy(), **tol, err_msg=f"{key} at step {step}")
    sd_ours, sd_theirs = opt_ours.state_dict(), opt_theirs.state_dict()
    assert sd_ours["param_groups"] == sd_theirs["param_groups"]
    assert list(sd_ours["state"]) == list(sd_theirs["state"])


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                                  "RAdam"])
def test_repr_and_defaults_match_torch(name):
    torch = pytest.importorskip("torch")
    ours = getattr(optim, name)([tg.ones(2, requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)])
    assert repr(ours) == repr(theirs)
    assert ours.defaults == theirs.defaults


ERROR_CASES = [
    ("SGD", dict(lr=-1), "Invalid learning rate: -1"),
    ("SGD", dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    ("SGD", dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", dict(eps=-1e-3), "Invalid epsilon value: -0.001"),
    ("Adam", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(betas=(0, 0.9)), "betas must be either both floats or both Tensors"),
    ("RMSprop", dict(alpha=-1), "Invalid alpha value: -1"),
    ("Adagrad", dict(lr_decay=-1), "Invalid lr_decay value: -1"),
    ("Adagrad", dict(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("NAdam", dict(momentum_decay=-1), "Invalid momentum_decay value: -1"),
]


@pytest.mark.parametrize("name,kwargs,message", ERROR_CASES)
def test_argument_errors(name, kwargs, message):
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)([tg.ones(2, requires_grad=True)], **kwargs)
    assert str(ours.value) == message


def test_parameter_list_errors():
    p = tg.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match="^optimizer got an empty parameter list$"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="^can't optimize a non-leaf Tensor$"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError) as e:
        optim.SGD(p, lr=0.1)
    assert str(e.value) == ("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got torch.FloatTensor")
    with pytest.raises(TypeError, match="^optimizer can only optimize Tensors, but one of the params is float$"):
        optim.SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter group$"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="^param_group must be a dict, but got <class 'list'>$"):
        optim.SGD([p], lr=0.1).add_param_group([p])
    with pytest.raises(TypeError, match="ordering of tensors in sets will change between runs"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_required_lr_in_custom_optimizer():
    from tapegrad.optim.optimizer import required
    p = tg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        optim.Optimizer([p], {"lr": required})
    assert repr(required) == "<required parameter>"


def test_param_groups_fill_defaults_and_add_param_group():
    a, b, c = (tg.ones(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["momentum"] == 0.9
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    named = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_zero_grad():
    p = tg.ones(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = tg.ones(3)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_step_is_in_place_not_recorded_and_versioned():
    p = tg.ones(3, requires_grad=True)
    data_before = p._data
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    v = p._version
    opt.step()
    assert p._data is data_before  # updated in place
    assert p._version > v
    assert p.grad_fn is None and p.is_leaf and p.requires_grad
    assert opt.state[p]["exp_avg"]._version == 1


def test_closure_runs_with_grad_and_returns_loss():
    p = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss

    with tg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    assert p.tolist() == [0.0, 0.0]


def test_step_hooks():
    p = tg.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    g = optim.optimizer.register_optimizer_step_post_hook(lambda o, a, k: calls.append(("global",)))
    p.grad = tg.ones(2)
    opt.step()
    assert calls == [("pre", True), ("post", True), ("global",)]
    h1.remove(), h2.remove(), g.remove()
    opt.step()
    assert len(calls) == 3


def test_load_state_dict_resumes_exactly():
    rng = np.random.default_rng(1)
    init = rng.standard_normal(4)
    grads = [rng.standard_normal(4) for _ in range(10)]

    def run(split):
        p = tg.tensor(init, requires_grad=True)
        opt = optim.Adam([p], lr=0.1, amsgrad=True)
        for i, g in enumerate(grads):
            if i == split:
                saved = pickle.loads(pickle.dumps(opt.state_dict()))
                p = tg.tensor(p.detach().numpy().copy(), requires_grad=True)
                opt = optim.Adam([p], lr=0.5)
                opt.load_state_dict(saved)
            p.grad = tg.tensor(g)
            opt.step()
        return p.detach().numpy(), opt

    straight, _ = run(-1)
    resumed, opt = run(5)
    np.testing.assert_array_equal(straight, resumed)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["amsgrad"] is True


def test_load_state_dict_errors_and_dtype_cast():
    p = tg.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = tg.ones(2)
    opt.step()
    other = optim.SGD([tg.ones(2, requires_grad=True), tg.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(opt.state_dict())
    two = optim.SGD([{"params": [tg.ones(1, requires_grad=True)]}, {"params": [tg.ones(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two.load_state_dict(opt.state_dict())
    q = tg.ones(2, dtype=tg.float64, requires_grad=True)
    opt64 = optim.SGD([q], lr=0.1, momentum=0.9)
    opt64.load_state_dict(opt.state_dict())
    assert opt64.state[q]["momentum_buffer"].dtype == tg.float64


def test_state_dict_layout_matches_torch():
    torch = pytest.importorskip("torch")
    sds = []
    for lib, mod in ((tg, optim), (torch, torch.optim)):
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        opt = mod.Adam([{"params": [a]}, {"params": [b], "lr": 0.1}])
        a.grad = lib.ones(2)
        opt.step()
        sds.append(opt.state_dict())
    ours, theirs = sds
    assert ours["param_groups"] == theirs["param_groups"]
    assert list(ours["state"]) == list(theirs["state"]) == [0]
    assert list(ours["state"][0]) == list(theirs["state"][0])
    assert ours["state"][0]["step"].item() == theirs["state"][0]["step"].item() == 1.0
    assert str(ours["state"][0]["step"].dtype) == "torch.float32"


def test_lr_as_tensor_and_complex_params():
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([p], lr=tg.tensor(0.5))
    p.grad = tg.tensor([1.0, 1.0])
    opt.step()
    assert p.tolist() == [0.5, 1.5]
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.SGD([p], lr=tg.tensor([0.1, 0.2]))


def test_complex_adam_matches_torch():
    torch = pytest.importorskip("torch")
    init = np.array([1 + 2j, -0.5 + 0.25j])
    grads = [np.array([0.3 - 1j, 2 + 0.5j]) * (k + 1) for k in range(5)]
    p, q = tg.tensor(init, requires_grad=True), torch.tensor(init, requires_grad=True)
    o1, o2 = optim.Adam([p], lr=0.1), torch.optim.Adam([q], lr=0.1)
    for g in grads:
        p.grad, q.grad = tg.tensor(g), torch.tensor(g)
        o1.step(), o2.step()
    np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-12)


def test_differentiable_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.Adam([tg.ones(2, requires_grad=True)], differentiable=True)


def test_trains_a_tiny_regression():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((64, 3)))
    w_true = tg.tensor([[1.0], [-2.0], [0.5]], dtype=tg.float64)
    y = x @ w_true
    w = tg.zeros(3, 1, dtype=tg.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-4
