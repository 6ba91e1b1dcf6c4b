"""Learning-rate schedulers: the lr (and momentum) sequences equal torch's float for float."""
import math
import warnings

import pytest

import tapegrad as tg
from tapegrad import optim
from tapegrad.optim import lr_scheduler as ls

STEPS = 25


def _lambda(epoch):
    return 0.95 ** epoch


def _mult(epoch):
    return 0.9 if epoch % 2 else 1.05


# (name, kwargs, optimizer name, optimizer kwargs)
SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5), "SGD", dict(lr=0.1)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3), "SGD", dict(lr=0.1)),
    ("ExponentialLR", dict(gamma=0.9), "SGD", dict(lr=0.1)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001), "SGD", dict(lr=0.1)),
    ("CosineAnnealingLR", dict(T_max=10), "Adam", dict(lr=0.3)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2, eta_min=0.01), "SGD", dict(lr=0.1)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3), "SGD", dict(lr=0.1)),
    ("LambdaLR", dict(lr_lambda=_lambda), "SGD", dict(lr=0.1)),
    ("MultiplicativeLR", dict(lr_lambda=_mult), "SGD", dict(lr=0.1)),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=7), "SGD", dict(lr=0.1)),
    ("LinearLR", dict(), "Adam", dict(lr=0.01)),
    ("ConstantLR", dict(factor=0.3, total_iters=4), "SGD", dict(lr=0.1)),
    ("PolynomialLR", dict(total_iters=8, power=2.0), "SGD", dict(lr=0.1)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=STEPS + 1), "SGD", dict(lr=0.1, momentum=0.9)),
    ("OneCycleLR", dict(max_lr=[0.5], epochs=3, steps_per_epoch=9, three_phase=True, anneal_strategy="linear"),
     "Adam", dict(lr=0.1)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4), "SGD", dict(lr=0.1, momentum=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2"),
     "SGD", dict(lr=0.1, momentum=0.9)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9), "Adam", dict(lr=0.1)),
]


def _ids(case):
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items() if k != "lr_lambda")


def _make(lib, optim_mod, sched_mod, case, groups=2):
    name, kwargs, opt_name, opt_kwargs = case
    params = [{"params": [lib.ones(2, requires_grad=True)]}]
    if groups == 2:
        params.append({"params": [lib.ones(1, requires_grad=True)], "lr": opt_kwargs["lr"] * 2})
    opt = getattr(optim_mod, opt_name)(params, **opt_kwargs)
    kwargs = dict(kwargs)
    if groups == 2 and name == "OneCycleLR" and isinstance(kwargs["max_lr"], list):
        kwargs["max_lr"] = kwargs["max_lr"] * 2
    return opt, getattr(sched_mod, name)(opt, **kwargs)


def _snapshot(opt, sched):
    out = [tuple(g["lr"] for g in opt.param_groups), tuple(sched.get_last_lr())]
    out.append(tuple(g.get("momentum", g.get("betas")) for g in opt.param_groups))
    return out


@pytest.mark.parametrize("case", SCHEDULERS, ids=_ids)
def test_sequence_matches_torch(case):
    torch = pytest.importorskip("torch")
    o1, s1 = _make(tg, optim, ls, case)
    o2, s2 = _make(torch, torch.optim, torch.optim.lr_scheduler, case)
    assert _snapshot(o1, s1) == _snapshot(o2, s2)
    for _ in range(STEPS):
        o1.step(), o2.step()
        s1.step(), s2.step()
        assert _snapshot(o1, s1) == _snapshot(o2, s2)
    ours, theirs = s1.state_dict(), s2.state_dict()
    assert list(ours) == list(theirs)
    for key in theirs:
        if key not in ("lr_lambdas", "_scale_fn_custom"):
            assert ours[key] == theirs[key], key


@pytest.mark.parametrize("name,kwargs", [
    ("StepLR", dict(step_size=3, gamma=0.5)), ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)), ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("LinearLR", dict(start_factor=0.25, total_iters=7)), ("ConstantLR", dict(factor=0.3, total_iters=4)),
    ("PolynomialLR", dict(total_iters=8, power=2.0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2)), ("CosineAnnealingWarmRestarts", dict(T_0=4)),
])
def test_closed_form_with_explicit_epoch_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    results = []
    for lib, om, sm in ((tg, optim, ls), (torch, torch.optim, torch.optim.lr_scheduler)):
        opt = om.SGD([lib.ones(1, requires_grad=True)], lr=0.1)
        sched = getattr(sm, name)(opt, **kwargs)
        seq = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in [3, 1, 7.5 if name.startswith("CosineAnnealingW") else 7, 12, 0, 20]:
                opt.step()
                sched.step(epoch)
                seq.append(opt.param_groups[0]["lr"])
        results.append(seq)
    assert results[0] == results[1]


def test_epoch_argument_warns_deprecation():
    opt = optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1)
    sched = ls.StepLR(opt, 2)
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        sched.step(3)


def test_sequential_and_chained_match_torch():
    torch = pytest.importorskip("torch")
    seqs = []
    for lib, om, sm in ((tg, optim, ls), (torch, torch.optim, torch.optim.lr_scheduler)):
        opt = om.SGD([lib.ones(1, requires_grad=True)], lr=0.1)
        warm = sm.LinearLR(opt, start_factor=0.1, total_iters=4)
        cos = sm.CosineAnnealingLR(opt, T_max=10, eta_min=1e-3)
        seq = sm.SequentialLR(opt, schedulers=[warm, cos], milestones=[4])
        opt2 = om.SGD([lib.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
        chained = sm.ChainedScheduler([sm.ExponentialLR(opt2, 0.9), sm.StepLR(opt2, 3, 0.5)])
        out = [(opt.param_groups[0]["lr"], seq.get_last_lr(), opt2.param_groups[0]["lr"], chained.get_last_lr())]
        for _ in range(STEPS):
            opt.step(), opt2.step()
            seq.step(), chained.step()
            out.append((opt.param_groups[0]["lr"], seq.get_last_lr(), opt2.param_groups[0]["lr"],
                        chained.get_last_lr()))
        seqs.append(out)
    assert seqs[0] == seqs[1]


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    metrics = [1.0, 0.9, 0.91, 0.92, 0.93, 0.89, 0.95, 0.96, 0.97, 0.98, 0.99, 0.5, 0.6, 0.6, 0.6, 0.6]
    results = []
    for lib, om, sm in ((tg, optim, ls), (torch, torch.optim, torch.optim.lr_scheduler)):
        opt = om.SGD([lib.ones(1, requires_grad=True)], lr=0.1)
        sched = sm.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=0.01)
        opt_max = om.SGD([lib.ones(1, requires_grad=True)], lr=0.1)
        sched_max = sm.ReduceLROnPlateau(opt_max, mode="max", threshold_mode="abs", threshold=0.05, patience=1)
        seq = []
        for m in metrics:
            sched.step(m)
            sched_max.step(lib.tensor(m))
            seq.append((sched.get_last_lr(), sched_max.get_last_lr(), sched.num_bad_epochs, sched.best))
        results.append((seq, list(sched.state_dict())))
    assert results[0] == results[1]


def test_order_warning_text_and_trigger():
    p = tg.ones(1, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    sched = ls.StepLR(opt, 1)
    with pytest.warns(UserWarning) as record:
        sched.step()
    assert str(record[0].message) == (
        "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 and later, you should "
        "call them in the opposite order: `optimizer.step()` before `lr_scheduler.step()`.  Failure to do this will "
        "result in PyTorch skipping the first value of the learning rate schedule. See more details at "
        "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # only the first scheduler step is checked
        opt2 = optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1)
        sched2 = ls.ExponentialLR(opt2, 0.5)
        opt2.step()
        sched2.step()
        assert sched2.get_last_lr() == [0.05]


def test_overridden_step_warning():
    opt = optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1)
    sched = ls.StepLR(opt, 1)
    opt.step = lambda closure=None: None
    with pytest.warns(UserWarning, match="Seems like `optimizer.step\\(\\)` has been overridden"):
        sched.step()


def test_get_lr_outside_step_warns():
    opt = optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1)
    sched = ls.StepLR(opt, 1)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_state_dict_round_trip_and_initial_lr():
    opt = optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1)
    sched = ls.StepLR(opt, 2, gamma=0.5)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    for _ in range(5):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 5
    opt2 = optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1)
    sched2 = ls.StepLR(opt2, 2, gamma=0.5)
    sched2.load_state_dict(state)
    assert sched2.last_epoch == 5 and sched2.get_last_lr() == sched.get_last_lr()
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups\\[0\\]"):
        ls.StepLR(optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1), 2, last_epoch=3)


def test_constructor_errors():
    opt = optim.SGD([tg.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="^list is not an Optimizer$"):
        ls.StepLR([], 1)
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1."):
        ls.ConstantLR(opt, factor=2)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        ls.OneCycleLR(opt, 0.1)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        ls.CyclicLR(optim.Adagrad([tg.ones(1, requires_grad=True)]), 0.01, 0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        ls.ReduceLROnPlateau(opt, factor=1.0)
    sched = ls.OneCycleLR(opt, 0.1, total_steps=2)
    opt.step(), sched.step(), opt.step(), sched.step()
    with pytest.raises(ValueError, match="Tried to step 3 times. The specified number of total steps is 2"):
        sched.step()
    assert math.isclose(opt.param_groups[0]["max_lr"], 0.1)
