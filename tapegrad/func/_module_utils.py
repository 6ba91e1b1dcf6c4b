"""torch.func's helpers around modules and transforms: stack_module_state (model ensembling with
vmap), replace_all_batch_norm_modules_, functionalize and debug_unwrap."""
from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from ..ops import _registry as R

__all__ = ["stack_module_state", "replace_all_batch_norm_modules_", "functionalize", "debug_unwrap"]


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, buffers) of same-class models, each entry stacked along a new first dim: new leaves
    (requiring grad where the models' parameters do) for `vmap(functional_call)` over an ensemble."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if len({type(m) for m in models}) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    stack = R.FUNCTIONS["stack"]

    def stacked(named: list[dict]) -> dict[str, Any]:
        out = {}
        for name in named[0]:
            t = stack([d[name].detach() for d in named])
            out[name] = t.requires_grad_() if named[0][name].requires_grad else t
        return out
    params = stacked([dict(m.named_parameters()) for m in models])
    buffers = stacked([dict(m.named_buffers()) for m in models])
    return params, buffers


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Make every batch norm module under `root` use batch statistics only (no running stats), so that it
    can run under vmap; in place, returns `root`."""
    from ..nn.modules.batchnorm import _BatchNorm
    for module in root.modules():
        if isinstance(module, _BatchNorm):
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root


_REMOVE_HELP = ("functionalize(f, remove='mutations'): received invalid argument for remove={}. Valid options are:\n"
                "     remove='mutations': all inplace and out= operators will be removed from the program, and "
                "replaced with their out-of-place equivalents.\n"
                "     remove='mutations_and_views': In addition to the above, all aliasing operators {{view}} will be "
                "replaced with their non-aliasing counterparts, {{view}}_copy.\n")


def functionalize(func: Callable, *, remove: str = "mutations") -> Callable:
    """`func` as a program without mutations. tapegrad runs eagerly and traces nothing, so the result is
    `func` itself: the values, and the mutations of inputs that functionalize writes back, are the same."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(_REMOVE_HELP.format(remove))

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)
    return wrapped


def debug_unwrap(tensor: Any, *, recurse: bool = True) -> Any:
    """The whole tensor behind a batched tensor inside vmap (batch dims included); other tensors as they are."""
    from ._vmap import BatchedTensor, physical_data
    if not isinstance(tensor, R.Tensor) or tensor.__class__ is not BatchedTensor:
        return tensor
    return R._make(physical_data(tensor), False, None, 0, tensor._version_counter)
