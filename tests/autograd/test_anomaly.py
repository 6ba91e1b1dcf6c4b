"""Anomaly mode: torch's warnings, the forward traceback of the failing node, the NaN check."""
import warnings

import pytest

import tapegrad

torch = pytest.importorskip("torch")


def _divide(T, a, b):
    return a / b  # the forward line the traceback must show


def _run(T, check_nan=True):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        a = T.zeros(2, requires_grad=True)
        b = T.zeros(2, requires_grad=True)
        error = None
        with T.autograd.detect_anomaly(check_nan=check_nan):
            y = _divide(T, a, b)
            try:
                y.sum().backward()
            except RuntimeError as exc:
                error = str(exc)
    msgs = [str(x.message) for x in w if x.category is UserWarning]
    return msgs, error, _is_enabled(T)


def _is_enabled(T):
    return T.is_anomaly_enabled() if T is torch else T.autograd.anomaly_mode.is_anomaly_enabled()


def _check_nan(T):
    return T.is_anomaly_check_nan_enabled() if T is torch else T.autograd.anomaly_mode.is_anomaly_check_nan_enabled()


def _strip_suffix(msg):
    return msg.split(" (Triggered internally at")[0]


def test_nan_check_warning_and_error_match_torch():
    (got_w, got_e, got_on), (exp_w, exp_e, exp_on) = _run(tapegrad), _run(torch)
    assert got_e == exp_e == "Function 'DivBackward0' returned nan values in its 1th output."
    assert got_on is exp_on is False
    assert got_w[0] == exp_w[0]  # entering anomaly mode
    assert [_strip_suffix(m) for m in got_w[1:]] == [_strip_suffix(m) for m in exp_w[1:]]
    assert got_w[1].startswith("Error detected in DivBackward0. Traceback of forward call that caused the error:\n")
    assert "return a / b  # the forward line" in got_w[1]
    assert "tapegrad/ops" not in got_w[1] and "tapegrad/autograd" not in got_w[1]


def test_check_nan_false_lets_nan_through():
    msgs, error, _ = _run(tapegrad, check_nan=False)
    assert error is None and len(msgs) == 1


def test_set_detect_anomaly_modes():
    for T in (tapegrad, torch):
        with T.autograd.set_detect_anomaly(True, check_nan=False):
            assert _is_enabled(T)
            assert not _check_nan(T)
        assert not _is_enabled(T)
        assert _check_nan(T)


def test_no_forward_information_when_graph_built_outside():
    def run(T):
        a = T.zeros(2, requires_grad=True)
        y = a / a
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with T.autograd.detect_anomaly():
                with pytest.raises(RuntimeError):
                    y.sum().backward()
        return [_strip_suffix(str(x.message)) for x in w if x.category is UserWarning][1:]
    assert run(tapegrad) == run(torch)


def test_inplace_hint_changes_under_anomaly_mode():
    def run(T):
        x = T.ones(3, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with T.autograd.detect_anomaly():
                y = x.exp()
                y.add_(1)
                try:
                    y.sum().backward()
                except RuntimeError as exc:
                    return str(exc)
    assert run(tapegrad) == run(torch)


def test_decorator_form():
    @tapegrad.autograd.detect_anomaly()
    def inside():
        return _is_enabled(tapegrad)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert inside() is True
    assert _is_enabled(tapegrad) is False


def test_no_trace_recorded_when_off():
    y = tapegrad.ones(2, requires_grad=True) * 2
    assert y.grad_fn._anomaly is None
