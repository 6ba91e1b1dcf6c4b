"""torch.func: composable function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian) and
functional_call, vmap."""
from __future__ import annotations

from ._functional_call import functional_call
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "functional_call", "vmap"]
