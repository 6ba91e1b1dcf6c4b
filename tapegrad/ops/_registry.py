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
from ..autograd.grad_mode import _state
from ..autograd._forward_state import FW as _fw
from .._vmap_state import VM as _vm
from ..autograd import anomaly_mode as _anomaly
from ..autograd.graph import FREED_MESSAGE, Node, PackedSavedTensor, hooks_state as _hooks, pack_saved_tensor

from ._promotion import _cast_arrays, compute_dtype  # noqa: E402
from ._saved import SavedTensor, _save_input, version_error  # noqa: E402,F401

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


# ---------------------------------------------------------------------------------------
# dispatch: the hot path

def _edge(t: Any) -> tuple:
    fn = t._grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        return (t._get_accumulator(), 0)
    return (None, 0)


_NONE_EDGE = (None, 0)


_SCALAR_CATEGORY = {bool: 0, int: 1, float: 2, complex: 3}
_KIND_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def dispatch(op: OpDef, args: tuple) -> Any:
    """Run op's forward on the arrays of `args` and, when grad is on, record a node.

    The common case (one output; tensor inputs of one dtype, Python scalars that do not widen
    it) takes the fast path; anything else goes through `_dispatch_general`. While a forward-AD
    level is active, `_forward_dispatch.dispatch_dual` adds the outputs' tangents.
    """
    if _vm.active:
        return _dispatch_batched(op, args)
    if _fw.active:
        return _dispatch_dual(op, args)
    if op.general:
        return _dispatch_general(op, args)
    arrays = list(args)
    record = False
    dt = None
    mixed = False
    scalar_cat = -1
    for i in op.tensor_idx:
        a = args[i]
        if isinstance(a, Tensor):
            d = a._data
            arrays[i] = d
            if a._requires_grad:
                record = True
            if dt is None:
                dt = d.dtype
            elif d.dtype != dt:
                mixed = True
        else:
            c = _SCALAR_CATEGORY.get(a.__class__)
            if c is not None and c > scalar_cat:
                scalar_cat = c
    promote = op.promote
    target = None
    if promote != "none":
        if mixed or dt is None or scalar_cat > _KIND_CATEGORY[dt.kind] or \
                (promote != "common" and dt.kind not in "fc"):
            tdt = compute_dtype(op, args)
            _cast_arrays(op, arrays, tdt)
            target = tdt.numpy
        else:
            target = dt
    try:
        out = op.forward(*arrays)
    except ValueError as exc:
        raise _translate_forward_error(op, arrays, exc) from None
    if out.__class__ is not np.ndarray:
        out = np.asarray(out, dtype=None if op.float_output else target)
    return _single_result(op, args, out, record and _state.enabled)


def _single_result(op: OpDef, args: tuple, out: np.ndarray, record: bool) -> Any:
    """The output tensor of a one-output op: a view when the op is one, with its node when recorded."""
    if not record or not op.differentiable:
        result = _make(out, False, None, 0)
        if op.view:
            _mark_view(result, args, op)
        return result
    node = _record(op, args)
    result = _make(out, True, node, 0)
    if op.view:
        _mark_view(result, args, op)
    ctx = node._ctx
    if ctx is not None and ctx[op.nparams] is _RESULT:
        ctx[op.nparams] = (SavedTensor(None, out, result._version_counter, True, None, 0) if not _hooks.stack
                           else pack_saved_tensor(result, True, 0))
    return result


def _translate_forward_error(op: OpDef, arrays: list, exc: ValueError) -> Exception:
    """torch's message for a NumPy broadcasting failure; other errors pass through unchanged."""
    from .comparison import broadcast_shapes_or_raise
    shapes = [a.shape for i in op.tensor_idx for a in ([arrays[i]] if not op.list_input else arrays[i])
              if isinstance(a, np.ndarray)]
    out: tuple = ()
    try:
        for shape in shapes:
            out = broadcast_shapes_or_raise(out, shape)
    except RuntimeError as mismatch:
        return mismatch
    return exc


def _dispatch_general(op: OpDef, args: tuple) -> Any:
    """dispatch for list inputs, several outputs, or promotion over a subset of the inputs."""
    arrays = list(args)
    record = False
    grad_on = _state.enabled
    if op.list_input:
        i0 = op.tensor_idx[0]
        seq = args[i0]
        arrays[i0] = [t._data for t in seq]
        if grad_on:
            for t in seq:
                if t._requires_grad:
                    record = True
                    break
    else:
        for i in op.tensor_idx:
            a = args[i]
            if isinstance(a, Tensor):
                arrays[i] = a._data
                if grad_on and a._requires_grad:
                    record = True
    if op.promote != "none":
        target = compute_dtype(op, args)
        _cast_arrays(op, arrays, target)
    else:
        target = None
    try:
        out = op.forward(*arrays)
    except ValueError as exc:
        raise _translate_forward_error(op, arrays, exc) from None
    if op.outputs == 1:
        if out.__class__ is not np.ndarray:
            out = np.asarray(out, dtype=target.numpy if target is not None and not op.float_output else None)
        return _single_result(op, args, out, record)
    outs = tuple(o if o.__class__ is np.ndarray else np.asarray(o) for o in out)
    ndiff = op.differentiable_outputs if op.differentiable_outputs >= 0 else len(outs)
    if record and op.differentiable:
        node = _record(op, args)
        node._nout = ndiff
        results = [_make(o, i < ndiff, node if i < ndiff else None, i) for i, o in enumerate(outs)]
        ctx = node._ctx
        ctx[-1] = tuple((o.shape, o.dtype) for o in outs[:ndiff])
        if ctx[op.nparams] is _RESULT:
            ctx[op.nparams] = tuple(SavedTensor(None, r._data, r._version_counter, True, None, i)
                                    if not _hooks.stack else pack_saved_tensor(r, True, i)
                                    for i, r in enumerate(results))
    else:
        results = [_make(o, False, None, i) for i, o in enumerate(outs)]
    if op.view:
        for r in results:
            _mark_view(r, args, op, multi=True)
    return op.return_type(*results) if op.return_type is not None else tuple(results)


class _ResultMarker:
    __slots__ = ()


_RESULT = _ResultMarker()


def _record(op: OpDef, args: tuple) -> Node:
    """Create the node: input edges, input metadata, and what the needed formulas use.

    The context is a list with one slot per name in `op.ctx_names` plus a last slot for the
    output metadata of multi-output ops; the result slot is filled once the output exists.
    """
    if op.list_input:
        edges, meta, needs = _list_edges(args[op.input_idx[0]])
    else:
        edges = []
        meta = []
        need_list = []
        scalar_edges = op.scalar_edges
        for i in op.input_idx:
            t = args[i]
            if isinstance(t, Tensor):
                d = t._data
                if t._requires_grad:
                    fn = t._grad_fn
                    edges.append((fn, t._output_nr) if fn is not None else (t._get_accumulator(), 0))
                    need_list.append(True)
                else:
                    edges.append(_NONE_EDGE)
                    need_list.append(False)
                meta.append((d.shape, d.dtype))
            else:
                need_list.append(False)
                if scalar_edges:
                    edges.append(_NONE_EDGE)
                    meta.append(None)
        needs = tuple(need_list)
    plan = op.save_plan(needs)
    ctx = None
    saved_any = False
    if plan or op.outputs > 1:
        ctx = [None] * (len(op.ctx_names) + 1)
        for s, kind, index, what in plan:
            if kind == _SAVE_VALUE:
                ctx[s] = args[s]
            elif kind == _SAVE_TENSOR:
                v = args[s]
                if op.list_input and s == op.input_idx[0]:
                    ctx[s] = [_save_input(x) for x in v]
                else:
                    ctx[s] = _save_input(v)
                saved_any = True
            elif kind == _SAVE_RESULT:
                ctx[s] = _RESULT
                saved_any = True
            else:
                t = args[index]
                if op.list_input and isinstance(t, (list, tuple)):
                    ctx[s] = [_metadata(x._data, what) for x in t]
                else:
                    ctx[s] = _metadata(t._data, what)
    node = op.node_cls(tuple(edges), ctx, tuple(meta), saved_any)
    if _anomaly._enabled:
        _anomaly.record_forward_trace(node)
    return node


def _metadata(a: np.ndarray, what: str) -> Any:
    """`<param>_shape`, `<param>_dtype`, `<param>_transposed` (a matrix stored column-major, as
    the .t() of a contiguous one: see Note [Gradient layout])."""
    if what == "shape":
        return a.shape
    if what == "dtype":
        return D.from_numpy(a.dtype)
    return a.ndim == 2 and a.flags.f_contiguous and not a.flags.c_contiguous


def _list_edges(tensors: Sequence[Any]) -> tuple:
    """Edges, metadata and the needs mask for an op over a list of tensors (cat, stack)."""
    edges = []
    meta = []
    for t in tensors:
        edges.append(_edge(t) if t._requires_grad else _NONE_EDGE)
        meta.append((t._data.shape, t._data.dtype))
    return edges, meta, (any(e[0] is not None for e in edges),)


def _mark_view(result: Any, args: tuple, op: OpDef, multi: bool = False) -> None:
    """Make `result` a view of the first tensor argument (shared version counter and _base)."""
    src = args[op.tensor_idx[0]]
    if result._data.base is None and result._data.size:
        return  # NumPy had to copy (e.g. reshape of a non-contiguous array): not a view
    base = src._base if src._base is not None else src
    result._base = base
    result._version_counter = base._version_counter
    rest = args[1:]
    parent_fn = src._view_fn

    def view_fn(root: Any, _op: OpDef = op, _rest: tuple = rest, _parent: Any = parent_fn, _nr: int = result._output_nr):
        t = _parent(root) if _parent is not None else root
        out = dispatch(_op, (t,) + _rest)
        return out[_nr] if isinstance(out, tuple) else out

    result._view_fn = view_fn
    result._view_multi = multi or getattr(src, "_view_multi", False)  # views of split()'s outputs inherit it
    result._view_created_no_grad = not _state.enabled


# ---------------------------------------------------------------------------------------
# declaring entries

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


def _dispatch_dual(op: OpDef, args: tuple) -> Any:
    """dispatch with the outputs' forward-mode tangents (see autograd/_forward_dispatch.py)."""
    global _dispatch_dual
    from ..autograd._forward_dispatch import dispatch_dual
    _dispatch_dual = dispatch_dual  # imported on first use (import order), then called directly
    return dispatch_dual(op, args)


def _dispatch_batched(op: OpDef, args: tuple) -> Any:
    """dispatch while a vmap level is visible (see func/_vmap.py)."""
    global _dispatch_batched
    from ..func._vmap import batched_dispatch
    _dispatch_batched = batched_dispatch
    return batched_dispatch(op, args)
