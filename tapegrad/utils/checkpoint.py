"""torch.utils.checkpoint: trade compute for memory by recomputing activations in backward.

Note [Checkpointing without reentrant backward]
`checkpoint(fn, *args, use_reentrant=False)` runs `fn` under saved_tensors_hooks whose pack
hook keeps only a small handle instead of each tensor the ops save for backward, so the
activations inside `fn` are freed as soon as the forward moves on. When backward first needs
one of them, the unpack hook runs `fn` again on the same inputs (with the generator state of
the first run, so random ops draw the same numbers) and collects the tensors that run saves,
in the same order; each handle then resolves to its recomputed tensor. The graph is the one
the first run recorded, so gradients are exactly those without checkpointing.

The reentrant variant (the default when `use_reentrant` is not given, as in torch) is a
custom Function: its forward runs `fn` under no_grad, and its backward reruns `fn` with grad
and calls backward on the result from inside the outer backward.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterable, Iterator

from .. import random as _random
from ..autograd.engine import is_checkpoint_valid
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.graph import saved_tensors_hooks
from ..ops import _registry as R

__all__ = ["set_checkpoint_early_stop", "set_checkpoint_debug_enabled",
           "checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "check_backward_validity",
           "detach_variable", "noop_context_fn"]

_CHECKPOINT_WARNING = (
    "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch 2.9, calling "
    "checkpoint without use_reentrant will raise an exception. use_reentrant=False is recommended, but if you need to "
    "preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
    "differences between the two variants.")
_SEQUENTIAL_WARNING = (
    "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. In version "
    "2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is recommended, but if you "
    "need to preserve the current default behavior, you can pass use_reentrant=True. Refer to docs for more details "
    "on the differences between the two variants.")
_DEBUG_TIP = ("\nTip: To see a more detailed error message, either pass `debug=True` to\n"
              "`torch.utils.checkpoint.checkpoint(...)` or wrap the code block\n"
              "with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to\n"
              "enable checkpoint\u2011debug mode globally.\n")


class CheckpointError(RuntimeError):
    """The recomputation did not save the same tensors as the original forward."""


def noop_context_fn() -> tuple:
    """The default `context_fn`: no extra context for the forward or the recomputation."""
    return _NullContext(), _NullContext()


class _NullContext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def check_backward_validity(inputs: Iterable[Any]) -> None:
    """Warn (as torch) when no tensor input requires grad: the checkpoint would give no gradient."""
    if not any(isinstance(inp, R.Tensor) and inp._requires_grad for inp in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=3)


def detach_variable(inputs: tuple) -> tuple:
    """Detached copies of the tensors in `inputs`, keeping their requires_grad flags."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for inp in inputs:
        if not isinstance(inp, R.Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp._requires_grad
        out.append(x)
    return tuple(out)


_overrides = {"early_stop": None, "debug": None}  # set by the two context managers below


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool) -> Iterator[None]:
    """Within it, non-reentrant checkpoints made stop (or not) their recomputation as soon as every needed
    tensor is recomputed, whatever their `early_stop` argument; it matters when forward runs."""
    prev = _overrides["early_stop"]
    _overrides["early_stop"] = enable
    try:
        yield
    finally:
        _overrides["early_stop"] = prev


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None) -> Iterator[None]:
    """Within it, checkpoint's `debug` is `enabled` whatever is passed (None: what is passed)."""
    prev = _overrides["debug"]
    _overrides["debug"] = enabled
    try:
        yield
    finally:
        _overrides["debug"] = prev


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable[[], tuple] = noop_context_fn, determinism_check: str = "default",
               debug: bool = False, early_stop: bool = True, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)`, with the activations inside it recomputed in backward instead of kept.

    `preserve_rng_state=True` (a keyword) makes the recomputation draw the same random numbers.
    """
    if use_reentrant is None:
        warnings.warn(_CHECKPOINT_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got " + str(determinism_check))
    if _overrides["early_stop"] is not None:
        early_stop = _overrides["early_stop"]
    return _checkpoint_with_hooks(function, args, kwargs, preserve, context_fn, determinism_check == "default",
                                  early_stop)


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run a sequence of modules/functions in `segments` chunks, checkpointing all but the last."""
    if use_reentrant is None:
        warnings.warn(_SEQUENTIAL_WARNING, UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and callable(functions.children):
        functions = list(functions.children())
    else:
        functions = list(functions)
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(_run_range(functions, start, end), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return _run_range(functions, end + 1, len(functions) - 1)(input)


def _run_range(functions: list, start: int, end: int) -> Callable:
    def forward(input: Any) -> Any:
        for j in range(start, end + 1):
            input = functions[j](input)
        return input
    return forward


# ---------------------------------------------------------------------------------------
# reentrant variant

class CheckpointFunction(Function):
    """The reentrant checkpoint: forward without a graph, backward reruns the function with one."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_rng_state = _random.get_rng_state()
        ctx.inputs = []
        ctx.tensor_indices = []
        tensors = []
        for i, arg in enumerate(args):
            if isinstance(arg, R.Tensor):
                tensors.append(arg)
                ctx.tensor_indices.append(i)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(arg)
        ctx.save_for_backward(*tensors)
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        from ..autograd import backward as autograd_backward
        if not is_checkpoint_valid():
            raise RuntimeError("When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or "
                               "passing an `inputs` parameter to .backward(). To resolve this error, you can either "
                               "set use_reentrant=False, or call .backward() without passing the `inputs` argument.")
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        detached = detach_variable(tuple(inputs))
        with _random.fork_rng(enabled=ctx.preserve_rng_state):
            if ctx.preserve_rng_state:
                _random.set_rng_state(ctx.fwd_rng_state)
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, R.Tensor):
            outputs = (outputs,)
        with_grad = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, R.Tensor) and o._requires_grad]
        if not with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd_backward([o for o, _ in with_grad], [g for _, g in with_grad])
        return (None, None) + tuple(inp._grad if isinstance(inp, R.Tensor) else None for inp in detached)


# ---------------------------------------------------------------------------------------
# variant with saved-tensor hooks (Note [Checkpointing without reentrant backward])

class _StopRecomputation(Exception):
    """Raised inside the recomputation once every tensor the graph needs has been saved again."""


class _Frame:
    """One checkpointed call: what to rerun and the tensors its rerun produced."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, rng_state: Any, context_fn: Callable,
                 check: bool, early_stop: bool) -> None:
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.rng_state = rng_state
        self.context_fn = context_fn
        self.check = check
        self.early_stop = early_stop
        self.metadata: list = []        # (shape, dtype) of each tensor saved by the first run
        self.recomputed: dict = {}      # handle index -> tensor, until unpacked

    def pack(self, tensor: Any) -> int:
        self.metadata.append((tuple(tensor._data.shape), tensor._data.dtype))
        return len(self.metadata) - 1

    def unpack(self, index: int) -> Any:
        if index not in self.recomputed:
            self.recompute()
        return self.recomputed.pop(index)

    def recompute(self) -> None:
        found: list = []
        wanted = len(self.metadata)

        def pack(tensor: Any) -> None:
            if len(found) >= wanted:
                raise CheckpointError("torch.utils.checkpoint: trying to save more tensors during recomputation than "
                                      "during the original forward pass.\n" + _DEBUG_TIP)
            found.append(tensor.detach())
            if self.early_stop and len(found) == wanted:
                raise _StopRecomputation

        def unpack(_: Any) -> Any:
            raise CheckpointError("torch.utils.checkpoint: a tensor saved during recomputation was unpacked.")

        _, recompute_context = self.context_fn()
        with _random.fork_rng(enabled=self.rng_state is not None):
            if self.rng_state is not None:
                _random.set_rng_state(self.rng_state)
            try:
                with enable_grad(), recompute_context, saved_tensors_hooks(pack, unpack):
                    self.function(*self.args, **self.kwargs)
            except _StopRecomputation:
                pass
        if len(found) != wanted:
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the original forward and "
                f"recomputation.\nNumber of tensors saved during forward: {wanted}\nNumber of tensors saved during "
                f"recomputation: {len(found)}.\n" + _DEBUG_TIP)
        if self.check:
            _check_metadata(self.metadata, found)
        self.recomputed = dict(enumerate(found))


def _check_metadata(metadata: list, found: list) -> None:
    mismatched = ""
    for idx, ((shape, dtype), t) in enumerate(zip(metadata, found)):
        if (tuple(t._data.shape), t._data.dtype) != (shape, dtype):
            mismatched += (f"tensor at position {idx}:\nsaved metadata: {_meta_text(shape, dtype)}\n"
                           f"recomputed metadata: {_meta_text(t._data.shape, t._data.dtype)}\n")
    if mismatched:
        raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have different "
                              f"metadata than during the forward pass.\n{mismatched}.\n" + _DEBUG_TIP)


def _meta_text(shape: tuple, dtype: Any) -> str:
    from .. import _dtype as D
    from .._size import Size
    return f"{{'shape': {Size(shape)}, 'dtype': {D.from_numpy(dtype)}, 'device': device(type='cpu')}}"


def _checkpoint_with_hooks(function: Callable, args: tuple, kwargs: dict, preserve: bool, context_fn: Callable,
                           check: bool, early_stop: bool) -> Any:
    rng_state = _random.get_rng_state() if preserve else None
    frame = _Frame(function, args, kwargs, rng_state, context_fn, check, early_stop)
    forward_context, _ = context_fn()
    with forward_context, saved_tensors_hooks(frame.pack, frame.unpack):
        return function(*args, **kwargs)
