"""torch.einsum, composed of permute / sum / mul / bmm / view as torch composes it, so its graph
(and the grad_fn of its result) has the same shape as torch's."""
from __future__ import annotations

import math
from typing import Any

from . import _registry as R
from ._registry import public


def _parse(equation: str, operands: tuple) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
    else:
        lhs, out = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the equation")
    # expand '...' into unused capital-free letters
    ell_dims = 0
    for t, op in zip(terms, operands):
        if "..." in t:
            ell_dims = max(ell_dims, op.ndim - (len(t) - 3))
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq][:ell_dims]
    expanded = []
    for t, op in zip(terms, operands):
        if "..." in t:
            n = op.ndim - (len(t) - 3)
            t = t.replace("...", "".join(spare[ell_dims - n:]))
        if len(t) != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) does not match the "
                               f"number of dimensions ({op.ndim}) for operand {len(expanded)}"
                               + ("" if "..." in equation else " and no ellipsis was given"))
        expanded.append(t)
    if out is None:
        counts: dict[str, int] = {}
        for t in expanded:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        out = "".join(spare) + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in spare))
    elif "..." in out:
        out = out.replace("...", "".join(spare))
    return expanded, out


def _take_diagonals(t: Any, sub: str) -> tuple[Any, str]:
    """Collapse repeated subscripts of one operand (`ii` -> the diagonal)."""
    while True:
        seen = {}
        for i, c in enumerate(sub):
            if c in seen:
                j = seen[c]
                t = t.diagonal(0, j, i)
                sub = sub[:j] + sub[j + 1:i] + sub[i + 1:] + c
                break
            seen[c] = i
        else:
            return t, sub


def _reduce_single(t: Any, sub: str, keep: str) -> tuple[Any, str]:
    """Permute so kept subscripts come first (in `keep` order), then sum the others away."""
    kept = [c for c in keep if c in sub]
    dropped = [c for c in sub if c not in kept]
    order = [sub.index(c) for c in kept + dropped]
    t = t.permute(order)
    if dropped:
        t = t.sum(list(range(len(kept), len(kept) + len(dropped))))
    return t, "".join(kept)


def _pair(a: Any, sa: str, b: Any, sb: str, keep: str) -> tuple[Any, str]:
    """Contract two operands; `keep` lists subscripts needed later (output or other operands)."""
    batch = [c for c in sa if c in sb and c in keep]
    left = [c for c in sa if c not in sb and c in keep]
    right = [c for c in sb if c not in sa and c in keep]
    contract = [c for c in sa if c in sb and c not in keep]
    a, sa = _reduce_single(a, sa, "".join(batch + left + contract))
    b, sb = _reduce_single(b, sb, "".join(batch + contract + right))
    size = {c: a.shape[i] for i, c in enumerate(sa)}
    size.update({c: b.shape[i] for i, c in enumerate(sb)})
    out_sub = "".join(batch + left + right)
    if not contract:
        # outer-style product: line both up on batch+left+right and multiply
        a_shape = [size[c] for c in batch + left] + [1] * len(right)
        b_shape = [size[c] for c in batch] + [1] * len(left) + [size[c] for c in right]
        return a.reshape(a_shape) * b.reshape(b_shape), out_sub
    nb = math.prod(size[c] for c in batch)
    nl = math.prod(size[c] for c in left)
    nr = math.prod(size[c] for c in right)
    nc = math.prod(size[c] for c in contract)
    prod = a.reshape(nb, nl, nc).bmm(b.reshape(nb, nc, nr))
    return prod.view([size[c] for c in batch + left + right]), out_sub


@public("einsum", method=False)
def einsum(equation: str, *operands: Any) -> Any:
    """Sum of products over the subscripts of `equation` (numpy/torch notation, '...' allowed)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, op in enumerate(operands):
        if not isinstance(op, R.Tensor):
            raise TypeError(f"einsum(): expected Tensor operands, got {type(op).__name__} at position {i}")
    subs, out = _parse(equation, operands)
    tensors = list(operands)
    for i, (t, s) in enumerate(zip(tensors, subs)):
        tensors[i], subs[i] = _take_diagonals(t, s)
    for c in out:
        if not any(c in s for s in subs):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                               "operand")
    acc, acc_sub = tensors[0], subs[0]
    if len(tensors) == 1:
        acc, acc_sub = _reduce_single(acc, acc_sub, out)
    for k in range(1, len(tensors)):
        later = out + "".join(subs[k + 1:])
        acc, acc_sub = _pair(acc, acc_sub, tensors[k], subs[k], later)
    if acc_sub != out:
        acc = acc.permute([acc_sub.index(c) for c in out])
    return acc
