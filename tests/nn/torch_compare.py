"""Shared by the nn.functional tests: run one function in tapegrad and in torch on the same
arrays and compare outputs, grad_fn names and float64 gradients."""
import numpy as np

import tapegrad


def compare(fn, *arrays, grad=True, const=(), names=True, rtol=1e-7, atol=1e-9):
    """Run fn(lib, *tensors) in tapegrad and torch on the same arrays; compare outputs, grad_fn names
    (unless names=False) and the gradients of the floating inputs (except the positions in const)."""
    results = {}
    import torch
    for lib in (tapegrad, torch):
        ts = [lib.from_numpy(a.copy()).requires_grad_(grad and a.dtype.kind == "f" and i not in const)
              if isinstance(a, np.ndarray) else a for i, a in enumerate(arrays)]
        out = fn(lib, *ts)
        outs = out if isinstance(out, tuple) else (out,)
        grads = None
        diff = [t for t in ts if isinstance(t, lib.Tensor) and t.requires_grad]
        if grad and diff and outs[0].requires_grad:
            w = np.random.RandomState(1).uniform(-1, 1, outs[0].shape)
            (outs[0] * lib.from_numpy(w.astype(outs[0].detach().numpy().dtype))).sum().backward()
            grads = [None if t.grad is None else t.grad.numpy() for t in diff]
        results[lib] = ([o.detach().numpy() for o in outs],
                        [type(o.grad_fn).__name__ if o.grad_fn is not None else None for o in outs], grads)
    (o1, n1, g1), (o2, n2, g2) = results[tapegrad], results[torch]
    for a, b in zip(o1, o2):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    if names:
        assert n1 == n2
    if g2 is not None:
        for a, b in zip(g1, g2):
            if a is None or b is None:
                assert a is None and b is None
                continue
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return o1
