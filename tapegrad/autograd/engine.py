"""The backward engine: one iterative walk over the graph (no recursion).

Dependencies are counted first, so each Node runs once, with the sum of the gradients that
reach it, after every Node that feeds it has run. Leaves receive gradients through their
AccumulateGrad node; `autograd.grad` captures gradients at its inputs' edges instead.
"""
from __future__ import annotations

import threading
from typing import Any, Sequence

from .anomaly_mode import check_nan_outputs, is_anomaly_enabled, report_failure
from .grad_mode import _state
from .accumulate import accumulate_into_leaf, run_leaf_hooks
from .graph import AccumulateGrad, Node


class _Task(threading.local):
    capturing = False  # whether the innermost running backward captures gradients (autograd.grad)
    current = None     # the innermost running backward: (deps, targets), see will_execute


def will_execute(node: Node) -> bool:
    """Whether the innermost running backward runs `node` (torch's _will_engine_execute_node)."""
    current = _task.current
    if current is None:
        return False
    deps, targets = current
    return node in deps and (targets is None or node in targets)


def current_backward() -> Any:
    """A token of the innermost running backward (None outside one): equal within one pass."""
    return _task.current


_task = _Task()


def is_checkpoint_valid() -> bool:
    """torch.autograd._is_checkpoint_valid: False inside a backward that only captures gradients
    (autograd.grad, backward(inputs=...)), where a reentrant checkpoint cannot accumulate."""
    return not _task.capturing


def _collect(roots: Sequence[Node]) -> dict[Node, int]:
    """Number of edges entering each node reachable from the roots."""
    deps: dict[Node, int] = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        node = stack.pop()
        for nxt, _ in node._next:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    for r in roots:
        deps.setdefault(r, 0)
    return deps


def _needed(deps: dict[Node, int], targets: set[Node]) -> set[Node]:
    """Nodes from which some target is reachable (only those need to run)."""
    children = {}
    for node in deps:
        children[node] = [n for n, _ in node._next if n is not None]
    needed: set[Node] = set()
    state: dict[Node, int] = {}
    for start in deps:
        if start in state:
            continue
        stack = [(start, 0)]
        while stack:
            node, i = stack.pop()
            kids = children[node]
            if i == 0:
                if node in state:
                    continue
                state[node] = 1
            if i < len(kids):
                stack.append((node, i + 1))
                kid = kids[i]
                if kid not in state:
                    stack.append((kid, 0))
                continue
            if node in targets or any(k in needed for k in kids):
                needed.add(node)
            state[node] = 2
    return needed


def _call_tensor_pre_hooks(node: Node, grads: list) -> list:
    hooks = node._tensor_pre_hooks
    for nr, table in hooks.items():
        if nr >= len(grads) or grads[nr] is None:
            continue
        retain = None
        for fn in list(table.values()):
            if getattr(fn, "_is_retain_grad", False):
                retain = fn
                continue
            new = fn(grads[nr])
            if new is not None:
                grads[nr] = new
        if retain is not None:
            retain(grads[nr])
    return grads


def run_backward(roots: Sequence[tuple[Node, int]], root_grads: Sequence[Any], *, keep_graph: bool,
                 create_graph: bool, capture: Sequence[tuple[Node, int]] | None = None,
                 accumulate: bool = True) -> list | None:
    """Propagate `root_grads` from the root edges through the graph.

    With `capture`, gradients arriving at those edges are returned (in order); leaves are
    then accumulated into only if `accumulate` and their AccumulateGrad is a capture point.
    """
    root_nodes = []
    buffers: dict[Node, list] = {}
    for (node, nr), g in zip(roots, root_grads):
        if node is None:
            continue
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.num_outputs
            root_nodes.append(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    deps = _collect(root_nodes)
    targets = None
    captured: dict[tuple[Node, int], Any] = {}
    capture_nodes: set[Node] = set()
    if capture is not None:
        capture_nodes = {n for n, _ in capture if n is not None}
        targets = _needed(deps, capture_nodes)
    ready = [n for n in root_nodes if deps[n] == 0]
    prev_enabled = _state.enabled
    _state.enabled = create_graph
    anomaly = is_anomaly_enabled()
    skip_leaves = capture is not None and not accumulate
    prev_capturing = _task.capturing
    prev_current = _task.current
    _task.capturing = capture is not None
    _task.current = (deps, targets)
    try:
        while ready:
            node = ready.pop()
            grads = buffers.pop(node, None)
            outputs = None
            if grads is not None and (targets is None or node in targets):
                if node._tensor_pre_hooks:
                    grads = _call_tensor_pre_hooks(node, grads)
                if node._pre_hooks:
                    for fn in list(node._pre_hooks.values()):
                        new = fn(tuple(grads))
                        if new is not None:
                            grads = list(new)
                if capture_nodes and node in capture_nodes:
                    if node.__class__ is AccumulateGrad and grads[0] is not None and node.variable._hooks:
                        grads[0] = run_leaf_hooks(node.variable, grads[0])  # captured as hooked, as torch
                    for i, g in enumerate(grads):
                        if g is not None and (node, i) not in captured:
                            captured[(node, i)] = g
                if node.__class__ is AccumulateGrad:
                    if not skip_leaves and grads[0] is not None:
                        accumulate_into_leaf(node.variable, grads[0])
                        if node._post_hooks:
                            for fn in list(node._post_hooks.values()):
                                fn((), tuple(grads))
                    continue
                if anomaly:
                    try:
                        outputs = node.apply(tuple(grads))
                    except Exception as exc:
                        report_failure(node, exc)
                        raise
                    check_nan_outputs(node, outputs)
                else:
                    outputs = node.apply(tuple(grads))
                if node._post_hooks:
                    for fn in list(node._post_hooks.values()):
                        new = fn(tuple(outputs), tuple(grads))
                        if new is not None:
                            outputs = list(new)
            if not keep_graph:
                node._release()
            k = 0
            for nxt, nr in node._next:
                if nxt is not None:
                    if outputs is not None:
                        g = outputs[k]
                        if g is not None:
                            buf = buffers.get(nxt)
                            if buf is None:
                                buf = buffers[nxt] = [None] * nxt.num_outputs
                                buf[nr] = g
                            else:
                                old = buf[nr]
                                buf[nr] = g if old is None else old + g
                    d = deps[nxt] - 1
                    deps[nxt] = d
                    if d == 0:
                        ready.append(nxt)
                k += 1
    finally:
        _state.enabled = prev_enabled
        _task.capturing = prev_capturing
        _task.current = prev_current
    if capture is None:
        return None
    return [captured.get(edge) for edge in capture]
