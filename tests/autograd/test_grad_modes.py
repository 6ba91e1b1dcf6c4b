"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode as context managers and
decorators, and their thread-locality. Runs on tapegrad and on torch."""
import threading

import pytest

# Known failures of tapegrad, by test name: strict xfail on the tapegrad run of the `torch` fixture
# (tests/conftest.py), which runs each test on tapegrad and on torch.
XFAIL: dict[str, str] = {}


def test_no_grad_context(torch):
    x = torch.ones(2, requires_grad=True)
    assert torch.is_grad_enabled()
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        y = x * 2
        assert not y.requires_grad and y.grad_fn is None
    assert torch.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_restores_after_exception(torch):
    with pytest.raises(ValueError):
        with torch.no_grad():
            raise ValueError
    assert torch.is_grad_enabled()


def test_enable_grad_inside_no_grad(torch):
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        with torch.enable_grad():
            assert torch.is_grad_enabled()
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad


def test_nested_no_grad(torch):
    with torch.no_grad():
        with torch.no_grad():
            pass
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


def test_set_grad_enabled_as_function_and_context(torch):
    x = torch.ones(2, requires_grad=True)
    torch.set_grad_enabled(False)
    try:
        assert not torch.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)
    with torch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()
    with torch.no_grad():
        with torch.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not torch.is_grad_enabled()


def test_decorators(torch):
    x = torch.ones(2, requires_grad=True)

    @torch.no_grad()
    def off():
        return x * 2, torch.is_grad_enabled()

    @torch.enable_grad()
    def on():
        return x * 2

    @torch.set_grad_enabled(False)
    def off2():
        return torch.is_grad_enabled()

    y, enabled = off()
    assert not y.requires_grad and not enabled
    assert torch.is_grad_enabled()
    with torch.no_grad():
        assert on().requires_grad
    assert off2() is False and torch.is_grad_enabled()
    assert off.__name__ == "off"


def test_no_grad_decorates_generators(torch):
    @torch.no_grad()
    def gen():
        for _ in range(2):
            yield torch.is_grad_enabled()

    assert list(gen()) == [False, False]
    assert torch.is_grad_enabled()


def test_inference_mode(torch):
    x = torch.ones(2, requires_grad=True)
    assert not torch.is_inference_mode_enabled()
    with torch.inference_mode():
        assert torch.is_inference_mode_enabled() and not torch.is_grad_enabled()
        y = x * 2
        assert not y.requires_grad
        assert y.is_inference()
    assert not torch.is_inference_mode_enabled() and torch.is_grad_enabled()
    assert not x.is_inference()
    with torch.inference_mode(False):
        assert not torch.is_inference_mode_enabled()
        assert torch.is_grad_enabled()


def test_inference_mode_decorator(torch):
    @torch.inference_mode()
    def f():
        return torch.is_inference_mode_enabled()

    @torch.inference_mode
    def g():
        return torch.is_inference_mode_enabled()

    assert f() and g()
    assert not torch.is_inference_mode_enabled()


def test_inference_tensor_cannot_be_modified_outside(torch):
    with torch.inference_mode():
        y = torch.ones(2)
    with pytest.raises(RuntimeError) as e:
        y.add_(1)
    assert str(e.value) == (
        "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a "
        "normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details.")


def test_grad_mode_is_thread_local(torch):
    seen = {}

    def worker():
        x = torch.ones(2, requires_grad=True)
        seen["enabled"] = torch.is_grad_enabled()
        seen["requires_grad"] = (x * 2).requires_grad

    with torch.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not torch.is_grad_enabled()
    assert seen == {"enabled": True, "requires_grad": True}


def test_no_grad_in_a_thread_does_not_leak_to_main(torch):
    started, release = threading.Event(), threading.Event()

    def worker():
        with torch.no_grad():
            started.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    started.wait(5)
    try:
        assert torch.is_grad_enabled()
        assert (torch.ones(1, requires_grad=True) * 2).requires_grad
    finally:
        release.set()
        t.join()


def test_backward_runs_with_grad_mode_unchanged(torch):
    x = torch.ones(2, requires_grad=True)
    y = (x * 2).sum()
    with torch.no_grad():
        y.backward()  # backward works under no_grad, and leaves the mode as it was
        assert not torch.is_grad_enabled()
    assert x.grad.tolist() == [2.0, 2.0]
