"""torch.func.functional_call: run a module with some parameters and buffers replaced."""
from __future__ import annotations

from typing import Any, Sequence

from ..ops import _registry as R


def _owner(module: Any, name: str) -> tuple:
    """(sub-module, attribute name) for a dotted name such as '0.weight'."""
    *path, leaf = name.split(".")
    owner = module
    for part in path:
        owner = getattr(owner, part)
    return owner, leaf


def _merge(dicts: Any) -> dict:
    if isinstance(dicts, dict):
        return dict(dicts)
    merged: dict = {}
    repeated: list = []
    for d in dicts:
        for k, v in d.items():
            if k in merged and k not in repeated:
                repeated.append(k)
            merged[k] = v
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
    return merged


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """Call `module(*args, **kwargs)` with its parameters/buffers named in the dict(s) replaced.

    The replacements are in place only during the call (the module is restored afterwards, even
    on error), so gradients flow to the tensors given, not to the module's own parameters. With
    `tie_weights`, a replacement for one name of a tied parameter applies to all its names.
    """
    values = _merge(parameter_and_buffer_dicts)
    params = dict(module.named_parameters(remove_duplicate=False))
    buffers = dict(module.named_buffers(remove_duplicate=False))
    known = {**params, **buffers}
    if tie_weights:
        by_id: dict = {}
        for name, t in known.items():
            by_id.setdefault(id(t), []).append(name)
        for names in by_id.values():
            given = [n for n in names if n in values]
            if given:
                for n in names:
                    if n not in values:
                        values[n] = values[given[0]]
                    elif values[n] is not values[given[0]]:
                        raise ValueError(f"functional_call got multiple values for keys {sorted(given)}, which are "
                                         "tied. Consider using tie_weights=False")
    if strict:
        missing = sorted(k for k in known if k not in values)
        unexpected = sorted(k for k in values if k not in known)
        if missing or unexpected:
            msg = "Error(s) in reparametrizing for {}:\n".format(type(module).__name__)
            if unexpected:
                msg += "\tUnexpected key(s): {}.\n".format(", ".join(repr(k) for k in unexpected))
            if missing:
                msg += "\tMissing key(s): {}.\n".format(", ".join(repr(k) for k in missing))
            raise RuntimeError(msg.rstrip("\n"))
    saved = []
    try:
        for name, value in values.items():
            owner, leaf = _owner(module, name)
            for table in ("_parameters", "_buffers"):
                slots = owner.__dict__.get(table)
                if slots is not None and leaf in slots:
                    saved.append((slots, leaf, slots[leaf]))
                    slots[leaf] = value
                    break
            else:
                saved.append((owner.__dict__, leaf, owner.__dict__.get(leaf, _MISSING)))
                owner.__dict__[leaf] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for table, leaf, old in reversed(saved):
            if old is _MISSING:
                table.pop(leaf, None)
            else:
                table[leaf] = old


_MISSING = object()
