"""Anomaly detection: torch's detect_anomaly / set_detect_anomaly and the checks the engine runs."""
from __future__ import annotations

import os
import traceback
import warnings
from typing import Any

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]

_enabled = False
_check_nan = True

_ENTER_WARNING = ("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                  "enabled for debugging.")


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection checks backward outputs for NaN."""
    return _check_nan


def _set(mode: bool, check_nan: bool) -> None:
    global _enabled, _check_nan
    _enabled, _check_nan = mode, check_nan


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = (_enabled, _check_nan)
        self.check_nan = check_nan
        warnings.warn(_ENTER_WARNING, UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self.prev = (_enabled, _check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc: Any) -> None:
        _set(*self.prev)

    def __call__(self, func):
        import functools

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off; also a context manager restoring the previous mode."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = (_enabled, _check_nan)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _set(*self.prev)


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def record_forward_trace(node: Any) -> None:
    """Remember where a node was created (called only while anomaly mode is on).

    The innermost frames inside tapegrad itself are dropped, so the trace ends at the user's
    line that ran the op, as torch's (whose ops run in C++) does.
    """
    frames = traceback.extract_stack()
    while frames and frames[-1].filename.startswith(_PACKAGE_DIR):
        frames.pop()
    node._anomaly = frames


def report_failure(node: Any, exc: BaseException) -> None:
    """Warn with the forward trace of the node whose backward failed (torch's text)."""
    frames = node._anomaly
    if frames:
        msg = (f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
               f"{''.join(traceback.format_list(frames))} (Triggered internally at "
               "/pytorch/torch/csrc/autograd/python_anomaly_mode.cpp:122.)")
    else:
        msg = (f"Error detected in {node.name()}. No forward pass information available. Enable detect anomaly "
               "during forward pass for more information. (Triggered internally at "
               "/pytorch/torch/csrc/autograd/python_anomaly_mode.cpp:100.)")
    warnings.warn(msg, UserWarning, stacklevel=3)


def check_nan_outputs(node: Any, outputs: Any) -> None:
    """Raise torch's error if the node returned NaN gradients."""
    if not _check_nan or outputs is None:
        return
    import numpy as np
    for i, g in enumerate(outputs):
        if g is not None and np.isnan(g._data).any():
            report_failure(node, RuntimeError())
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
