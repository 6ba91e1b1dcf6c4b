"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (thread-local flags).

Every op reads `_state.enabled` once; nothing else in the system keeps its own copy.
"""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "set_multithreading_enabled"]


class _GradState(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.inference = False


_state = _GradState()


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for autograd on this thread."""
    return _state.enabled


def is_inference_mode_enabled() -> bool:
    """Whether inference mode is on for this thread."""
    return _state.inference


class _DecoratorContextManager:
    """A context manager that also works as a decorator (on functions and generators)."""

    def __call__(self, func: Callable) -> Callable:
        if inspect.isclass(func):
            raise RuntimeError("Decorating classes is not supported.")
        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def generator_wrapper(*args: Any, **kwargs: Any):
                gen = func(*args, **kwargs)
                try:
                    with self.clone():
                        response = gen.send(None)
                    while True:
                        try:
                            request = yield response
                        except GeneratorExit:
                            with self.clone():
                                gen.close()
                            raise
                        except BaseException as exc:
                            with self.clone():
                                response = gen.throw(exc)
                        else:
                            with self.clone():
                                response = gen.send(request)
                except StopIteration as stop:
                    return stop.value
            return generator_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_DecoratorContextManager):
    """Context manager and decorator that turns off gradient recording."""

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = _state.enabled
        _state.enabled = False

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev


class enable_grad(_DecoratorContextManager):
    """Context manager and decorator that turns gradient recording on (inside no_grad)."""

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = _state.enabled
        _state.enabled = True

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev


class set_grad_enabled(_DecoratorContextManager):
    """Set gradient recording on or off; takes effect at once, and as a context manager restores it."""

    def __init__(self, mode: bool) -> None:
        self.prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __call__(self, func: Callable) -> Callable:
        _state.enabled = self.prev
        return super().__call__(func)

    def __enter__(self) -> None:
        _state.enabled = self.mode

    def __exit__(self, *exc: Any) -> None:
        _state.enabled = self.prev

    def clone(self) -> "set_grad_enabled":
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """Like no_grad, and tensors made inside are inference tensors (never recorded later)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode
        self.prev_enabled = True
        self.prev_inference = False

    def __new__(cls, mode: bool | Callable = True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # used as a bare decorator: @inference_mode

    def __enter__(self) -> None:
        self.prev_enabled, self.prev_inference = _state.enabled, _state.inference
        if self.mode:
            _state.enabled, _state.inference = False, True

    def __exit__(self, *exc: Any) -> None:
        _state.enabled, _state.inference = self.prev_enabled, self.prev_inference

    def clone(self) -> "inference_mode":
        return self.__class__(self.mode)


class set_multithreading_enabled(_DecoratorContextManager):
    """Accepted for torch compatibility: tapegrad's backward always runs on the calling thread."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None

    def clone(self) -> "set_multithreading_enabled":
        return self.__class__(self.mode)
