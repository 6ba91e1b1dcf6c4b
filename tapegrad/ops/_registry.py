"""The op table: `defop` declares an op once; `dispatch` runs it and records it for autograd.

An entry holds the forward on arrays, one derivative formula per differentiable input written
with tapegrad operations on Tensors (so create_graph differentiates them again), torch's names
(function, method, grad_fn class), how result dtypes are found, and sample inputs for the tests.

Note [Formula arguments]
A formula names what it needs by its parameter names: `grad` (the output's gradient; `grads`
for ops with several outputs), any forward parameter by its name (`self`, `other`, `dim`...),
`result` (the forward output), and `<param>_shape` / `<param>_dtype` for an input's metadata.
The entry saves for backward exactly the tensors that the formulas of the inputs needing a
gradient name, so memory holds no more than the formulas need.

Note [Gradient layout]
A weight used as `w.t()` (nn.Linear) gets its gradient through TBackward0; computing that
gradient as (grad.t() @ x).t() instead of x.t() @ grad makes it contiguous once transposed
back, so `.grad` has the weight's own layout and the optimizer's updates run on contiguous
memory (torch's mm_mat2_backward does the same). `<param>_transposed` tells a formula.

"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np

from .. import _dtype as D
from ..autograd.grad_mode import _state  # noqa: F401  (R._state is read by other modules)
from ..autograd.graph import FREED_MESSAGE, Node, PackedSavedTensor

from ._promotion import compute_dtype  # noqa: F401  (R.compute_dtype, likewise)
from ._saved import SavedTensor, version_error  # noqa: F401

REQUIRED = inspect.Parameter.empty

# Filled by defop: public functions (torch.xxx), Tensor methods, and every entry by name.
FUNCTIONS: dict[str, Callable] = {}
METHODS: dict[str, Callable] = {}
OPS: dict[str, "OpDef"] = {}

Tensor: Any = None  # set by tapegrad._tensor once the class exists (import order)
_make: Any = None   # tapegrad._tensor.make(data, requires_grad, grad_fn, output_nr)


class OpDef:
    """One entry of the op table."""

    def __init__(self, name: str, forward: Callable, *, node: str | None, grads: dict[str, Callable] | None,
                 promote: str, tensors: Sequence[str] | None, inputs: Sequence[str] | None,
                 outputs: int, differentiable_outputs: int, view: bool, list_input: bool,
                 scalar_edges: bool, samples: Callable | None, return_type: Any,
                 differentiable: bool, nondeterministic_samples: bool, float_output: bool,
                 promote_on: Sequence[str] | None = None, jvps: dict[str, Callable] | None = None) -> None:
        self.name = name
        self.forward = forward
        sig = inspect.signature(forward)
        params = list(sig.parameters.values())
        self.param_names = tuple(p.name for p in params)
        self.defaults = tuple(p.default for p in params)
        self.nparams = len(params)
        self.grads = dict(grads or {})
        self.differentiable = differentiable and bool(self.grads) or (differentiable and outputs > 1)
        # which params may hold tensors (arrays go to forward), and which get gradients
        self.inputs = tuple(inputs) if inputs is not None else tuple(self.grads)
        tensor_names = tuple(tensors) if tensors is not None else self.inputs
        self.tensor_idx = tuple(self.param_names.index(n) for n in tensor_names)
        self.input_idx = tuple(self.param_names.index(n) for n in self.inputs)
        self.promote_idx = (tuple(self.param_names.index(n) for n in promote_on) if promote_on is not None
                            else self.tensor_idx)
        # ops the fast path of dispatch cannot take
        self.general = list_input or outputs != 1 or self.promote_idx != self.tensor_idx
        self.promote = promote
        self.outputs = outputs
        self.differentiable_outputs = differentiable_outputs
        self.view = view
        self.list_input = list_input
        self.scalar_edges = scalar_edges
        self.samples = samples
        self.return_type = return_type
        self.nondeterministic_samples = nondeterministic_samples
        self.float_output = float_output
        self.formulas = tuple(self.grads.get(n) for n in self.inputs)
        # forward mode: one tangent formula per input (Note [Forward-mode formulas] in
        # autograd/_forward_dispatch.py); inputs without one use the generic double-vjp rule
        self.jvps = dict(jvps or {})
        unknown = set(self.jvps) - set(self.inputs)
        if unknown:
            raise ValueError(f"op {name}: jvps for non-inputs {sorted(unknown)}")
        self.jvp_formulas = tuple(self.jvps.get(n) for n in self.inputs)
        bad = [n for n, f in self.jvps.items() if not callable(f) and f not in ("linear", "pointwise")]
        if bad:
            raise ValueError(f"op {name}: a jvp is a formula, 'linear' or 'pointwise' (inputs {bad})")
        self.jvp_arg_names = tuple(tuple(inspect.signature(f).parameters) if callable(f) else ()
                                   for f in self.jvp_formulas)
        # context slots: params..., result, then <param>_shape / <param>_dtype pseudo params
        self.ctx_names = list(self.param_names) + ["result"]
        self.formula_args = tuple(self._formula_arg_slots(f) for f in self.formulas)
        self.node_cls = type(node, (OpNode,), {"__slots__": (), "_op": self}) if node else None
        self._saved_slots_cache: dict[tuple, tuple] = {}
        self._save_plan_cache: dict[tuple, tuple] = {}

    def _formula_arg_slots(self, formula: Callable | None) -> tuple:
        if formula is None:
            return ()
        slots = []
        for pname in inspect.signature(formula).parameters:
            if pname in ("grad", "grads"):
                slots.append(-1)
                continue
            if pname not in self.ctx_names:
                self.ctx_names.append(pname)
            slots.append(self.ctx_names.index(pname))
        return tuple(slots)

    def saved_slots(self, needs: tuple) -> tuple:
        """Context slots the formulas of the inputs in `needs` use (memoised per mask)."""
        slots = self._saved_slots_cache.get(needs)
        if slots is None:
            wanted = set()
            for need, fslots in zip(needs, self.formula_args):
                if need:
                    wanted.update(s for s in fslots if s >= 0)
            slots = tuple(sorted(wanted))
            self._saved_slots_cache[needs] = slots
        return slots

    def save_plan(self, needs: tuple) -> tuple:
        """How to fill each needed context slot: (slot, kind, param index, metadata name)."""
        plan = self._save_plan_cache.get(needs)
        if plan is None:
            entries = []
            for s in self.saved_slots(needs):
                if s < self.nparams:
                    kind = _SAVE_TENSOR if (s in self.tensor_idx or self.list_input) else _SAVE_VALUE
                    entries.append((s, kind, s, None))
                elif s == self.nparams:
                    entries.append((s, _SAVE_RESULT, s, None))
                else:
                    pname, _, what = self.ctx_names[s].rpartition("_")
                    entries.append((s, _SAVE_META, self.param_names.index(pname), what))
            plan = self._save_plan_cache[needs] = tuple(entries)
        return plan

    def saved_attribute(self, node: "OpNode", name: str) -> Any:
        """`grad_fn._saved_<name>`: what the node saved under a forward parameter's name.

        torch's `<param>_sym_sizes` / `<param>_sym_numel` read the saved `<param>_shape`; a Python
        scalar saved in a tensor position reads as the 0-dim tensor torch wraps it in.
        """
        key, numel = name, False
        if name.endswith("_sym_sizes"):
            key = name[:-len("_sym_sizes")] + "_shape"
        elif name.endswith("_sym_numel"):
            key, numel = name[:-len("_sym_numel")] + "_shape", True
        slot = self.ctx_names.index(key) if key in self.ctx_names else -1
        if slot < 0 or not any(slot in fslots for fslots in self.formula_args):
            raise AttributeError(f"'{type(node).__name__}' object has no attribute '_saved_{name}'")
        node._check_not_freed()
        ctx = node._ctx
        if ctx is None:
            raise AttributeError(f"'{type(node).__name__}' object has no attribute '_saved_{name}'")
        value = node._unpack(slot, ctx)
        if value is _NOT_SAVED:
            raise AttributeError(f"'{type(node).__name__}' object has no attribute '_saved_{name}'")
        if key != name and value is not None:
            return int(np.prod(value)) if numel else tuple(value)
        if slot < self.nparams and slot in self.input_idx and value.__class__ in _WRAPPED_NUMBER:
            return _make(np.asarray(value, _WRAPPED_NUMBER[value.__class__]), False, None, 0)
        return value

    def __repr__(self) -> str:
        return f"<op {self.name}>"


# what _record puts into a context slot (OpDef.save_plan)
_SAVE_VALUE, _SAVE_TENSOR, _SAVE_RESULT, _SAVE_META = range(4)


class _NotSaved:
    __slots__ = ()


# the dtype torch gives a Python scalar it wraps as a tensor argument
_WRAPPED_NUMBER = {bool: np.bool_, int: np.int64, float: np.float64, complex: np.complex128}


_NOT_SAVED = _NotSaved()


def _forward_name(self: OpDef) -> str:
    node = self.node_cls.__name__ if self.node_cls else self.name
    base = node[:-len("Backward0")] if node.endswith("Backward0") else node.rsplit("Backward", 1)[0]
    return base


OpDef.forward_name = _forward_name


class OpNode(Node):
    """A node recorded by an op-table entry; the subclass per entry carries torch's name."""

    __slots__ = ("_nout",)

    @property
    def num_outputs(self) -> int:  # type: ignore[override]
        return 1 if self._op.outputs == 1 else self._nout

    def _unpack(self, slot: int, ctx: tuple) -> Any:
        """Value of a context slot as a formula sees it (tensors checked against their version)."""
        entry = ctx[slot]
        if entry.__class__ is SavedTensor or entry.__class__ is PackedSavedTensor:
            return entry.unpack(self)
        if entry.__class__ is list:
            return [e.unpack(self) if e.__class__ is SavedTensor or e.__class__ is PackedSavedTensor else e
                    for e in entry]
        if entry.__class__ is tuple and entry and entry[0].__class__ in (SavedTensor, PackedSavedTensor):
            return tuple(e.unpack(self) for e in entry)
        return entry

    def apply(self, grads: tuple) -> list:
        op = self._op
        ctx = self._ctx
        if ctx is None and self._freed:
            raise RuntimeError(FREED_MESSAGE)
        if op.differentiable_outputs == 1:
            grad = grads[0]
        else:
            grad = tuple(g if g is not None else _zeros_like_meta(m) for g, m in zip(grads, ctx[-1]))
        if op.list_input:
            return self._apply_list(grad, ctx)
        results = []
        unpacked: dict[int, Any] = {}
        for i, (node_edge, formula, slots) in enumerate(zip(self._next, op.formulas, op.formula_args)):
            if node_edge[0] is None:
                results.append(None)
                continue
            args = []
            for s in slots:
                if s < 0:
                    args.append(grad)
                else:
                    v = unpacked.get(s, _NOT_SAVED)
                    if v is _NOT_SAVED:
                        v = unpacked[s] = self._unpack(s, ctx)
                    args.append(v)
            g = formula(*args)
            if g is not None:
                shape, dt = self._meta[i]
                if g._data.shape != shape:
                    g = g.sum_to_size(shape)
                if g._data.dtype != dt:
                    g = g.to(D.from_numpy(dt))
            results.append(g)
        return results


    def _apply_list(self, grad: Any, ctx: Any) -> list:
        """Ops over a list of tensors (cat, stack): one formula returns a gradient per element."""
        op = self._op
        args = [grad if s < 0 else self._unpack(s, ctx) for s in op.formula_args[0]]
        grads = op.formulas[0](*args)
        results = []
        for (node, _), g, meta in zip(self._next, grads, self._meta):
            if node is None or g is None:
                results.append(None)
                continue
            shape, dt = meta
            if g._data.shape != shape:
                g = g.sum_to_size(shape)
            if g._data.dtype != dt:
                g = g.to(D.from_numpy(dt))
            results.append(g)
        return results


def _zeros_like_meta(meta: tuple) -> Any:
    shape, dt = meta
    return _make(np.zeros(shape, dt), False, None, 0)


def _make_callable(op: OpDef, name: str) -> Callable:
    n = op.nparams
    names = op.param_names
    defaults = op.defaults

    def bind(args: tuple, kwargs: dict) -> tuple:
        if len(args) > n:
            raise TypeError(f"{name}() takes {n} positional arguments but {len(args)} were given")
        values = list(args) + [REQUIRED] * (n - len(args))
        for k, v in kwargs.items():
            key = "self" if k == "input" and "input" not in names else k
            try:
                idx = names.index(key)
            except ValueError:
                raise TypeError(f"{name}() got an unexpected keyword argument '{k}'") from None
            if values[idx] is not REQUIRED and idx < len(args):
                raise TypeError(f"{name}() got multiple values for argument '{k}'")
            values[idx] = v
        for i, v in enumerate(values):
            if v is REQUIRED:
                if defaults[i] is REQUIRED:
                    raise TypeError(f"{name}() missing required argument '{names[i]}'")
                values[i] = defaults[i]
        return tuple(values)

    # calls that only leave trailing defaulted params out take a shortcut past bind
    first_default = n
    while first_default > 0 and defaults[first_default - 1] is not REQUIRED:
        first_default -= 1

    def fn(*args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != n:
            if not kwargs and first_default <= len(args) < n:
                args = args + defaults[len(args):]
            else:
                args = bind(args, kwargs)
        return dispatch(op, args)

    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = op.forward.__doc__
    fn.op = op  # type: ignore[attr-defined]
    op.callable_bind = bind
    return fn


def defop(name: str, forward: Callable, *, node: str | None = None, grads: dict[str, Callable] | None = None,
          promote: str = "none", tensors: Sequence[str] | None = None, inputs: Sequence[str] | None = None,
          function: str | Sequence[str] | None | bool = True, method: str | Sequence[str] | None | bool = True,
          outputs: int = 1, differentiable_outputs: int | None = None, view: bool = False,
          list_input: bool = False, scalar_edges: bool = False, samples: Callable | None = None,
          return_type: Any = None, differentiable: bool = True, nondeterministic_samples: bool = False,
          float_output: bool = False, inplace: str | Sequence[str] | None = None,
          promote_on: Sequence[str] | None = None, jvps: dict[str, Callable] | None = None,
          batch: Any = None) -> OpDef:
    """Declare an op: its forward on arrays, derivative formulas, torch's names, sample inputs.

    `forward`'s parameters are torch's (first one `self`); tensor parameters receive arrays.
    `grads` maps each differentiable input to its formula (see Note [Formula arguments]).
    `promote`: 'none' (dtype follows the arrays), 'common' (torch's result type of all tensor
    inputs and scalars), 'common_float' (same, integers to the default float), 'float' (unary,
    integers to the default float). `function`/`method`: public names (True: same as `name`).
    `inplace`: names of in-place methods (`add_`) running this op into self.
    `scalar_edges`: Python scalars in input positions still get a `(None, 0)` edge, as torch's
    wrapped numbers do. `promote_on`: the params whose dtypes decide the result type (default:
    all tensor params). `samples()` yields Sample inputs for the generated tests. `jvps` maps
    inputs to forward-mode formulas `(<input>_t, <params>..., result) -> output tangent`.
    `batch`: the vmap batching rule, a category ('pointwise', 'dim', ...) or a callable (see
    func/_batch_rules.py; entries without one get a category from there or the slow fallback).
    """
    if name in OPS:
        raise ValueError(f"op {name} declared twice")
    op = OpDef(name, forward, node=node, grads=grads, promote=promote, tensors=tensors, inputs=inputs,
               outputs=outputs, differentiable_outputs=differentiable_outputs if differentiable_outputs is not None
               else outputs, view=view, list_input=list_input, scalar_edges=scalar_edges, samples=samples,
               return_type=return_type, differentiable=differentiable,
               nondeterministic_samples=nondeterministic_samples, float_output=float_output,
               promote_on=promote_on, jvps=jvps)
    op.batch = batch  # vmap batching rule: a category name or a callable (func/_batch_rules.py)
    OPS[name] = op
    callable_ = _make_callable(op, name)
    op.callable = callable_
    for kind, spec, table in (("function", function, FUNCTIONS), ("method", method, METHODS)):
        if spec is True:
            spec = [name]
        elif spec in (None, False):
            spec = []
        elif isinstance(spec, str):
            spec = [spec]
        for public in spec:
            if public in table:
                raise ValueError(f"{kind} {public} declared twice")
            table[public] = callable_
    if inplace:
        from ._inplace import make_inplace
        for public in ([inplace] if isinstance(inplace, str) else inplace):
            if public in METHODS:
                raise ValueError(f"method {public} declared twice")
            METHODS[public] = make_inplace(op, public)
    return op


def public(name: str, *, method: bool | str = True, function: bool = True) -> Callable:
    """Register a hand-written public function (an overload selector or composite) by name."""
    def register(fn: Callable) -> Callable:
        if function:
            if name in FUNCTIONS:
                raise ValueError(f"function {name} declared twice")
            FUNCTIONS[name] = fn
        if method:
            mname = name if method is True else method
            if mname in METHODS:
                raise ValueError(f"method {mname} declared twice")
            METHODS[mname] = fn
        return fn
    return register


# dispatch and recording live in _dispatch.py (the hot path); re-exported here, where the ops find them
from ._dispatch import (_NONE_EDGE, _RESULT, _dispatch_general, _edge, _list_edges,  # noqa: E402,F401
                        _mark_view, _metadata, _record, _single_result, _translate_forward_error, dispatch)
