"""torch.optim.Optimizer: parameter groups, per-parameter state, state dicts and step hooks.

Subclasses check their arguments and collect the parameters that have gradients; the update
itself is a plain function over lists of tensors (one per optimizer module) that works on the
NumPy arrays in place and bumps the tensors' version counters, as torch's in-place updates do.
"""
from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor, make
from ..autograd.grad_mode import enable_grad, set_grad_enabled
from ..autograd.graph import RemovableHandle

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks a default that every parameter group must give itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks: "OrderedDict[int, Callable]" = OrderedDict()
_global_optimizer_post_hooks: "OrderedDict[int, Callable]" = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Register hook(optimizer, args, kwargs) to run before every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Register hook(optimizer, args, kwargs) to run after every optimizer's step."""
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _typename(obj: Any) -> str:
    """torch.typename: 'torch.FloatTensor' for tensors, the qualified class name otherwise."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__qualname__
    if not isinstance(qualname, str) or not isinstance(module, str):
        module, qualname = type(obj).__module__, type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _use_grad_for_differentiable(step: Callable) -> Callable:
    """Run `step` with grad recording set to the optimizer's `differentiable` flag (off by default)."""

    @functools.wraps(step)
    def _use_grad(self: "Optimizer", *args: Any, **kwargs: Any) -> Any:
        with set_grad_enabled(bool(self.defaults.get("differentiable", False))):
            return step(self, *args, **kwargs)

    return _use_grad


def _scalar(x: Any) -> float:
    """A hyperparameter as a Python float (a one-element tensor lr is accepted, as in torch)."""
    return float(x.item()) if isinstance(x, Tensor) else x


def _state_scalar(value: float) -> Tensor:
    """A 0-dim float32 tensor, the type torch keeps `step` (and NAdam's mu_product) in."""
    return make(np.array(value, dtype=np.float32), False, None, 0)


def _zeros_like(p: Tensor) -> Tensor:
    """A zero state tensor shaped like the parameter `p`."""
    return make(np.zeros_like(p._data), False, None, 0)


def _real(a: np.ndarray) -> np.ndarray:
    """The array an update works on: a view of `a` that is at least 1-d (so NumPy returns arrays, not
    scalars, from 0-dim arithmetic), complex arrays as pairs of reals (torch's view_as_real)."""
    if a.ndim == 0:
        a = a.reshape(1)
    return a.view(a.real.dtype) if a.dtype.kind == "c" else a


def _bump(*tensors: Tensor) -> None:
    """Record an in-place update of each tensor (its version counter)."""
    for t in tensors:
        t._version_counter[0] += 1


def _lerp_(a: np.ndarray, end: np.ndarray, weight: float) -> None:
    """a.lerp_(end, weight) with torch's two-sided formula (the exact side depends on |weight|)."""
    w = a.dtype.type(weight)
    diff = np.subtract(end, a)
    if abs(w) < 0.5:
        diff *= w
        a += diff
    else:
        diff *= a.dtype.type(1) - w
        np.subtract(end, diff, out=a)


def _decayed_grad(param: np.ndarray, g: np.ndarray, *, maximize: bool, weight_decay: float, lr: float = 0.0,
                  decoupled: bool = False) -> np.ndarray:
    """The gradient an update uses: `g` negated when maximizing, then with weight decay applied, either
    added as weight_decay * param (a new array) or, when `decoupled`, by scaling `param` in place by
    1 - lr * weight_decay. Returns `g` itself when neither applies."""
    if maximize:
        g = np.negative(g)
    if weight_decay != 0:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            tmp = np.multiply(param, weight_decay, dtype=param.dtype)
            tmp += g
            g = tmp
    return g


def _addcmul_sq_(a: np.ndarray, g: np.ndarray, value: float) -> None:
    """a.addcmul_(g, g, value=value): a + value * g * g."""
    tmp = np.multiply(g, value, dtype=a.dtype)
    tmp *= g
    a += tmp


class Optimizer:
    """Base class of all optimizers: holds `param_groups` and per-parameter `state`.

    Args:
        params: an iterable of tensors, of (name, tensor) pairs, or of dicts defining parameter groups.
        defaults: default values of the optimization options, used by groups that do not set them.
    """

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ pickling and printing
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    _setstate_defaults: tuple = ()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for group in self.__dict__.get("param_groups", []):
            for key, value in self._setstate_defaults:
                group.setdefault(key, value)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------ step hooks
    @staticmethod
    def profile_hook_step(func: Callable) -> Callable:
        """Wrap a step function so the registered pre/post hooks run around it."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self = args[0]
            for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{func} must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {result}.")
            out = func(*args, **kwargs)
            self._optimizer_step_code()
            for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out

        wrapper.hooked = True  # type: ignore[attr-defined]
        return wrapper

    def _patch_step_function(self) -> None:
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = self.profile_hook_step(cls.step)  # type: ignore[method-assign]

    def _optimizer_step_code(self) -> None:
        """An entry point for profilers, called after every step (does nothing)."""

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Register hook(optimizer, args, kwargs) -> None or (args, kwargs), run before step()."""
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Register hook(optimizer, args, kwargs) -> None, run after step()."""
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def _register(self, hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Register hook(optimizer) to run before state_dict()."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Register hook(optimizer, state_dict) -> state_dict or None, run after state_dict()."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Register hook(optimizer, state_dict) -> state_dict or None, run before load_state_dict()."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Register hook(optimizer), run after load_state_dict()."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, with parameters replaced by their position across the groups."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        index_of: dict[int, int] = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param: Tensor, value: Tensor, param_id: int,
                                                  param_groups: list, key: Any = None) -> Tensor:
        """Loaded state tensors take the parameter's floating dtype; `step` keeps its own."""
        if key == "step":
            return value  # tapegrad keeps `step` as a float32 scalar whether fused/capturable or not
        if param.is_floating_point():
            return value.to(dtype=param.dtype)
        return value

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state produced by state_dict() of an optimizer with groups of the same sizes."""
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param: Tensor, value: Any, param_id: Any, key: Any = None) -> Any:
            if isinstance(value, Tensor):
                return self._process_value_according_to_param_policy(param, value, param_id,
                                                                     state_dict["param_groups"], key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v, k)
            else:
                state[k] = v
        new_groups = []
        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            new_groups.append(new_group)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ------------------------------------------------------------------ gradients and groups
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to None by default, else to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                    continue
                if g._grad_fn is not None:
                    g.detach_()
                else:
                    g._requires_grad = False
                g._data[...] = 0
                g._version_counter[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step (subclasses implement it)."""
        raise NotImplementedError

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones are taken from the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for item in params:
            if isinstance(item, tuple):
                names.append(item[0])
                tensors.append(item[1])
            else:
                tensors.append(item)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen: set = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ helpers for subclasses
    @staticmethod
    def _run_closure(closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _with_grads(group: dict[str, Any]) -> tuple[list[Tensor], list[Tensor]]:
        """The group's parameters that have a gradient, and those gradients."""
        params, grads = [], []
        for p in group["params"]:
            g = p._grad
            if g is not None:
                if getattr(g, "is_sparse", False):
                    raise RuntimeError("sparse gradients are not supported by tapegrad optimizers")
                params.append(p)
                grads.append(g)
        return params, grads

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        """Update one group's parameters that have gradients (`grads`); used by `_step_by_group`."""
        raise NotImplementedError

    def _lazy_state(self, params: list[Tensor], names: tuple[str, ...],
                    init: Callable[[Tensor], dict[str, Tensor]] | None = None) -> dict[str, list[Tensor]]:
        """The state entries `names` and "step" of every parameter in `params`, as name -> list in parameter
        order. A parameter without state (its first step) first gets `init(p)` or, by default, a float32
        `step` of 0 and a zero tensor shaped like the parameter for each of `names`, in that order."""
        lists: dict[str, list[Tensor]] = {name: [] for name in (*names, "step")}
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state.update(init(p) if init is not None else
                             {"step": _state_scalar(0.0), **{name: _zeros_like(p) for name in names}})
            for name, values in lists.items():
                values.append(state[name])
        return lists


_ARG_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def _check_args(**values: Any) -> None:
    """Raise torch's ValueError for the first out-of-range constructor argument, checked in the order given:
    `lr` >= 0 (a tensor lr must also have one element), `betas` both in [0, 1), `rho` in [0, 1], and every
    other name >= 0 ("Invalid <name> value: ...")."""
    for name, value in values.items():
        if name == "betas":
            for i in (0, 1):
                if not 0.0 <= value[i] < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {value[i]}")
        elif name == "rho":
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Invalid rho value: {value}")
        else:
            if name == "lr" and isinstance(value, Tensor) and value.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
            if not 0.0 <= value:
                raise ValueError(f"Invalid {_ARG_LABELS.get(name, name + ' value')}: {value}")


def _check_flags(differentiable: bool, fused: bool | None = None, foreach: bool | None = None) -> None:
    """torch's errors for `fused` combined with `differentiable` or `foreach`, then tapegrad's refusal of
    differentiable=True."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError("tapegrad optimizers do not support differentiable=True: the update works on "
                                  "the arrays in place and is not recorded by autograd")


def _step_by_group(self: Optimizer, closure: Callable[[], Any] | None = None) -> Any:
    """Perform a single optimization step; `closure` re-evaluates the model and returns the loss."""
    loss = self._run_closure(closure)
    for group in self.param_groups:
        params, grads = self._with_grads(group)
        self._update_group(group, params, grads)
    return loss


# the `step` of optimizers that update group by group (`step = _step_by_group` in the class body)
_step_by_group.__name__ = "step"
_step_by_group = _use_grad_for_differentiable(_step_by_group)
