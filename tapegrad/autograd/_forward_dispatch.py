"""Forward-mode AD inside dispatch: the tangents of an op's outputs from its inputs' tangents.

Note [Forward-mode formulas]
An op-table entry may give, per differentiable input, a jvp formula (`defop(..., jvps=...)`)
written with tapegrad ops. It names what it needs as the backward formulas do: `<input>_t` for
that input's tangent, forward parameters by name, `result` (a tuple for several outputs),
`<param>_shape` / `<param>_dtype`. It returns the output's tangent (a tuple per differentiable
output for multi-output ops); the tangent of an output is the sum over the inputs that carry a
tangent, broadcast to the output's shape and cast to its dtype here, not in formulas. For an
input without a formula the tangent is derived from the backward formula (`_generic_jvp`): the
backward formulas are linear in `grad`, so with a dummy `u` requiring grad,
    d/du sum_i <vjp_i(u), v_i> = J v,
one reverse pass through the (already differentiable) backward formula. Correct for every op
that has a double backward, and slower than an explicit formula.
Two shorthands cover most entries: 'linear' (the op is linear in that input: its tangent is
the op itself applied with the tangent in the input's place: views, reductions, mm, mul...)
and 'pointwise' (an elementwise op whose backward formula multiplies `grad` elementwise by the
local derivative: the same formula with the tangent as `grad` is the jvp, broadcasting included).

Note [Nested forward levels]
Tangents live on the Tensor, in `_fw_grads`: a dict from level id to tangent. Levels are
ordered (an older level has a smaller id). While the tangent of level L is computed, only the
levels older than L are visible, so the formula's ops propagate those levels' tangents (which
gives the mixed second-order terms), and the tangent of level L itself never carries a level-L
tangent. This is functorch's ordering of transforms, written with dicts instead of wrappers;
it makes jvp(jvp(f)) and jacfwd(jacfwd(f)) correct. Because formulas are tapegrad ops recorded
by the tape when grad mode is on, reverse-over-forward works too; and because a saved output
keeps its tangents (SavedTensor.fw), backward formulas run on dual tensors give
forward-over-reverse (Hessian-vector products).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..ops import _registry as R
from .._vmap_state import VM as _VM
from ._forward_state import FW
from .grad_mode import _state


def tangent_at(t: Any, level: int) -> Any:
    """The tangent of `t` at level id `level`, or None."""
    fw = getattr(t, "_fw_grads", None)
    if not fw:
        return None
    return fw.get(level)


def set_tangent(t: Any, level: int, tangent: Any) -> None:
    """Give `t` the tangent `tangent` at level id `level` (None removes it)."""
    fw = getattr(t, "_fw_grads", None)
    if fw is None:
        if tangent is None:
            return
        fw = t._fw_grads = {}
    if tangent is None:
        fw.pop(level, None)
    else:
        fw[level] = tangent


def _levels_present(op: R.OpDef, args: tuple, visible: tuple) -> list:
    """The visible levels at which some differentiable input has a tangent, oldest first."""
    if op.list_input:
        candidates = args[op.input_idx[0]]
    else:
        candidates = [args[i] for i in op.input_idx]
    if len(visible) == 1:  # the common case: one level
        level = visible[0]
        for a in candidates:
            fw = getattr(a, "_fw_grads", None)
            if fw and level in fw:
                return [level]
        return []
    found: set = set()
    for a in candidates:
        fw = getattr(a, "_fw_grads", None)
        if fw:
            found.update(level for level in fw if level in visible)
    return sorted(found)


def dispatch_dual(op: R.OpDef, args: tuple) -> Any:
    """Run the op with forward AD off, then add each visible level's output tangents."""
    visible = FW.visible
    FW.active = False
    try:
        out = R.dispatch(op, args)
    finally:
        FW.active = True
    if not op.differentiable:
        return out
    if len(visible) == 1 and op.outputs == 1 and op.differentiable_outputs != 0 and not op.list_input:
        return _dual_one_output(op, args, out, visible)
    levels = _levels_present(op, args, visible)
    if not levels:
        return out
    multi = op.outputs != 1
    outs = list(out) if multi else [out]
    ndiff = op.differentiable_outputs if op.differentiable_outputs >= 0 else len(outs)
    ndiff = min(ndiff, len(outs))
    result = tuple(outs) if multi else out
    for level in levels:
        lower = visible[:visible.index(level)]  # Note [Nested forward levels]
        FW.visible = lower
        FW.active = bool(lower)
        try:
            tangents = _output_tangents(op, args, result, outs, ndiff, level)
            for k in range(ndiff):
                _attach(outs[k], tangents[k], level)
        finally:
            FW.visible = visible
            FW.active = True
    node = outs[0]._grad_fn
    if node is not None and node._ctx is not None:
        _keep_for_backward(op, node, outs[:ndiff])
    return out


def _dual_one_output(op: R.OpDef, args: tuple, out: Any, visible: tuple) -> Any:
    """dispatch_dual's common case: one output, one forward level (the same result, fewer steps)."""
    level = visible[0]
    FW.visible = ()
    FW.active = False
    try:
        total = _sum_over_inputs(op, args, out, [out], 1, level, False)
    finally:
        FW.visible = visible
        FW.active = True
    if total is None:
        return out
    _attach(out, total, level)
    node = out._grad_fn
    if node is not None and node._ctx is not None:
        _keep_for_backward(op, node, [out])
    return out


def _attach(o: Any, t: Any, level: int) -> None:
    """Give output `o` the tangent `t` at `level`, fitted to its shape, dtype (and batch levels)."""
    if t is None or o._data.dtype.kind not in "fc":
        return
    if t._data.shape != o._data.shape or t._data.dtype != o._data.dtype:
        t = _fit(t, o)
    if _VM.active:
        t = _spread(t, o)
    fw = getattr(o, "_fw_grads", None)
    if fw is None:
        o._fw_grads = {level: t}
    else:
        fw[level] = t


def _spread(t: Any, o: Any) -> Any:
    """Under vmap: tangent `t` with at least its output's batch levels (Note [Forward mode under vmap]
    in func/_vmap.py)."""
    from ..func._vmap import full_like_levels
    return full_like_levels(t, o)


def _fit(t: Any, o: Any) -> Any:
    """A tangent broadcast to its output's shape and cast to its dtype."""
    if t._data.shape != o._data.shape:
        t = t.expand(o._data.shape)
    if t._data.dtype != o._data.dtype:
        t = t.to(o.dtype)
    return t


def _keep_for_backward(op: R.OpDef, node: Any, outs: list) -> None:
    """Let saved outputs carry their tangents into backward formulas (forward-over-reverse)."""
    if getattr(node, "_op", None) is not op:
        return
    entry = node._ctx[op.nparams]
    if entry.__class__ is R.SavedTensor:
        entry.fw = getattr(outs[0], "_fw_grads", None)
    elif entry.__class__ is tuple:
        for e, o in zip(entry, outs):
            if e.__class__ is R.SavedTensor:
                e.fw = getattr(o, "_fw_grads", None)


# ---------------------------------------------------------------------------------------
# the tangents of one level

def _context_value(op: R.OpDef, name: str, args: tuple, result: Any) -> Any:
    """What a formula parameter `name` stands for (Note [Formula arguments])."""
    slot = _slot(op, name, "")
    return _value(slot, None, args, result)


def _slot(op: R.OpDef, name: str, tangent_name: str) -> Any:
    """Where a formula argument comes from: -1 the tangent, -2 the result, i >= 0 the i-th
    argument, ('shape' | 'dtype', i) the i-th argument's metadata."""
    if name == tangent_name:
        return -1
    if name == "result":
        return -2
    names = op.param_names
    if name in names:
        return names.index(name)
    pname, _, what = name.rpartition("_")
    if pname in names and what in ("shape", "dtype"):
        return (what, names.index(pname))
    raise TypeError(f"{op.name}: formula argument {name!r} is not a parameter, 'result' or <param>_shape/_dtype")


def _value(slot: Any, t: Any, args: tuple, result: Any) -> Any:
    if slot.__class__ is int:
        return t if slot == -1 else result if slot == -2 else args[slot]
    what, i = slot
    x = args[i]
    if isinstance(x, (list, tuple)):
        return [e._data.shape if what == "shape" else e.dtype for e in x]
    return x._data.shape if what == "shape" else x.dtype


def _plans(op: R.OpDef) -> tuple:
    """Per input: ('linear', None, ()), ('formula', fn, slots) or ('generic', None, ()), memoised."""
    plans = op.__dict__.get("_jvp_plans")
    if plans is not None:
        return plans
    out = []
    for j, name in enumerate(op.inputs):
        f = op.jvp_formulas[j]
        if f is None:
            out.append(("generic", None, ()))
        elif f == "linear":
            out.append(("linear", None, ()))
        elif f == "pointwise":
            names = ["grad" if k < 0 else op.ctx_names[k] for k in op.formula_args[j]]
            out.append(("formula", op.formulas[j], tuple(_slot(op, n, "grad") for n in names)))
        else:
            out.append(("formula", f, tuple(_slot(op, n, name + "_t") for n in op.jvp_arg_names[j])))
    op._jvp_plans = plans = tuple(out)
    return plans


def _add(total: list, contribution: Any, multi: bool) -> None:
    if not multi:
        if contribution is not None:
            total[0] = contribution if total[0] is None else total[0] + contribution
        return
    for k, c in enumerate(contribution):
        if c is None or k >= len(total):
            continue
        total[k] = c if total[k] is None else total[k] + c


def _output_tangents(op: R.OpDef, args: tuple, result: Any, outs: list, ndiff: int, level: int) -> list:
    multi = op.outputs != 1 and op.differentiable_outputs != 1
    total: list = [None] * ndiff
    plans = _plans(op)
    if op.list_input:
        seq = args[op.input_idx[0]]
        tangents = [tangent_at(x, level) for x in seq]
        kind, fn, slots = plans[0]
        if kind == "generic":
            pairs = [(k, t) for k, t in enumerate(tangents) if t is not None]
            _add(total, _generic_jvp(op, args, result, outs, ndiff, pairs), True)
            return total
        filled = [t if t is not None else _zeros_like(x) for t, x in zip(tangents, seq)]
        if kind == "linear":
            new_args = list(args)
            new_args[op.input_idx[0]] = filled
            _add(total, R.dispatch(op, tuple(new_args)), multi)
        else:
            _add(total, fn(*[_value(s, filled, args, result) for s in slots]), multi)
        return total
    t = _sum_over_inputs(op, args, result, outs, ndiff, level, multi)
    return t if multi else [t]


def _sum_over_inputs(op: R.OpDef, args: tuple, result: Any, outs: list, ndiff: int, level: int, multi: bool) -> Any:
    """The output tangent (a list of them if `multi`): the sum over the inputs with a tangent at `level`
    of their contributions (formula, linear, or derived from the backward formula)."""
    plans = op.__dict__.get("_jvp_plans") or _plans(op)
    total: Any = [None] * ndiff if multi else None
    generic = None
    for j, i in enumerate(op.input_idx):
        fw = getattr(args[i], "_fw_grads", None)
        if not fw:
            continue
        t = fw.get(level)
        if t is None:
            continue
        kind, fn, slots = plans[j]
        if kind == "formula":
            c = fn(*[_value(s, t, args, result) for s in slots])
        elif kind == "linear":
            new_args = list(args)
            new_args[i] = t
            c = R.dispatch(op, tuple(new_args))
        else:
            generic = (generic or []) + [(j, t)]
            continue
        if multi:
            _add(total, c, True)
        elif c is not None:
            total = c if total is None else total + c
    if generic:
        g = _generic_jvp(op, args, result, outs, ndiff, generic)
        if multi:
            _add(total, g, True)
        else:
            total = g[0] if total is None else total + g[0]
    return total


def _zeros_like(t: Any) -> Any:
    return R._make(np.zeros(t._data.shape, t._data.dtype), False, None, 0)


def _detached(v: Any) -> Any:
    """A graph-free alias of a tensor that keeps its tangents (lists and tuples elementwise)."""
    if isinstance(v, R.Tensor):
        d = R._make(v._data, False, None, v._output_nr, v._version_counter)
        fw = getattr(v, "_fw_grads", None)
        if fw:
            d._fw_grads = fw
        return d
    if isinstance(v, (list, tuple)) and v and any(isinstance(x, R.Tensor) for x in v):
        return type(v)(_detached(x) for x in v) if type(v) in (list, tuple) else tuple(_detached(x) for x in v)
    return v


def _any_requires_grad(values: Sequence[Any]) -> bool:
    for v in values:
        if isinstance(v, R.Tensor):
            if v._requires_grad:
                return True
        elif isinstance(v, (list, tuple)) and _any_requires_grad(v):
            return True
    return False


def _generic_jvp(op: R.OpDef, args: tuple, result: Any, outs: list, ndiff: int, pairs: list) -> tuple:
    """J v from the backward formulas (Note [Forward-mode formulas]); one tangent per output."""
    from . import grad as autograd_grad
    tangents = [t for _, t in pairs]
    need_graph = _state.enabled and _any_requires_grad(list(args) + tangents + list(outs))
    if not need_graph:
        args = tuple(_detached(a) for a in args)
        result = _detached(result)
    us = []
    batched = _VM.active
    if batched:  # one dummy per batch element, and a backward at the physical level (func/_vmap.py)
        from ..func import _vmap
    for o in outs[:ndiff]:
        kind = o._data.dtype.kind
        if batched:
            us.append(_vmap.per_sample_zeros(o, kind in "fc"))
        else:
            us.append(R._make(np.zeros(o._data.shape, o._data.dtype), kind in "fc", None, 0))
    grad_arg = us[0] if op.differentiable_outputs == 1 or op.outputs == 1 else tuple(us)
    prev = _state.enabled
    _state.enabled = True
    try:
        s = None
        for j, v in pairs:
            formula = op.formulas[0] if op.list_input else op.formulas[j]
            if formula is None:
                raise RuntimeError(f"Trying to use forward AD with {op.name} that does not support it because it has "
                                   f"not been implemented yet.")
            slots = op.formula_args[0] if op.list_input else op.formula_args[j]
            names = ["grad" if k < 0 else op.ctx_names[k] for k in slots]
            values = [grad_arg if n in ("grad", "grads") else _context_value(op, n, args, result) for n in names]
            g = formula(*values)
            if op.list_input:
                g = g[j]
                shape = args[op.input_idx[0]][j]._data.shape
            else:
                shape = args[op.input_idx[j]]._data.shape
            if g is None:
                continue
            if g._data.shape != shape:
                g = g.sum_to_size(shape)
            term = (g * v).sum()
            s = term if s is None else s + term
        live = [u for u in us if u._requires_grad]
        if s is None or not s._requires_grad or not live:
            return tuple(_zeros_like(o) for o in outs[:ndiff])
        if batched:
            with _vmap.masked(_vmap.top_level()):
                seed = R._make(np.ones_like(s._data), False, None, 0)
                jv = autograd_grad(s, live, seed, allow_unused=True, retain_graph=True, create_graph=need_graph)
            jv = [g if g is None else _vmap.mark_result(g, _vmap.levels_of(u)) for g, u in zip(jv, live)]
        else:
            jv = autograd_grad(s, live, allow_unused=True, retain_graph=True, create_graph=need_graph)
    finally:
        _state.enabled = prev
    it = iter(jv)
    out = []
    for u, o in zip(us, outs[:ndiff]):
        g = next(it) if u._requires_grad else None
        out.append(g if g is not None else _zeros_like(o))
    return tuple(out)


# ---------------------------------------------------------------------------------------
# hook point for custom autograd Functions

def custom_function_jvp(jvp: Callable, ctx: Any, inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
    """Attach tangents to a custom Function's outputs from its static `jvp(ctx, *input_tangents)`.

    For each visible level at which some tensor input has a tangent, `jvp` gets one tangent per
    forward input (None for inputs without one) and returns one tangent per output (or a single
    tensor for one output); levels are processed oldest first as in Note [Nested forward levels].
    """
    if not FW.active:
        return
    visible = FW.visible
    found = sorted({lv for x in inputs if isinstance(x, R.Tensor) for lv in (getattr(x, "_fw_grads", None) or ())
                    if lv in visible})
    for level in found:
        FW.set_visible(tuple(v for v in visible if v < level))
        try:
            tangents = [tangent_at(x, level) if isinstance(x, R.Tensor) else None for x in inputs]
            res = jvp(ctx, *tangents)
            res = res if isinstance(res, (tuple, list)) else (res,)
            for o, t in zip(outputs, res):
                if isinstance(o, R.Tensor) and t is not None and o._data.dtype.kind in "fc":
                    set_tangent(o, level, _fit(t, o))
        finally:
            FW.set_visible(visible)


def inplace_tangents(self: Any, out: Any) -> None:
    """After an in-place op wrote `out` into `self`: self (and its base) take out's tangents."""
    fw = getattr(out, "_fw_grads", None)
    old = getattr(self, "_fw_grads", None)
    if not fw and not old:
        return
    visible = FW.visible
    levels = sorted(lv for lv in set(fw or ()) | set(old or ()) if lv in visible)
    new = dict(old or {})  # a copy: the old dict may be saved with the old value for backward
    for level in levels:
        t = fw.get(level) if fw else None
        if t is None:
            # the op dropped self's dependence on its old value (e.g. fill_ with a constant)
            t = _zeros_like(self)
        FW.set_visible(tuple(v for v in visible if v < level))
        try:
            base = self._base
            if base is not None and self._view_fn is not None:
                from ..ops._inplace import view_scatter
                base_t = tangent_at(base, level)
                if base_t is None:
                    base_t = _zeros_like(base)
                new_base_t = view_scatter(base_t, t, self._view_fn)
                base_fw = dict(getattr(base, "_fw_grads", None) or {})
                base_fw[level] = new_base_t
                base._fw_grads = base_fw
                t = self._view_fn(new_base_t)
        finally:
            FW.set_visible(visible)
        new[level] = t
    self._fw_grads = new
