"""torch.func: composable function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian) and
functional_call, vmap, and helpers for ensembles of modules (stack_module_state)."""
from __future__ import annotations

from ._functional_call import functional_call
from ._module_utils import debug_unwrap, functionalize, replace_all_batch_norm_modules_, stack_module_state
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, linearize, vjp
from ._vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "functional_call", "vmap",
           "stack_module_state", "replace_all_batch_norm_modules_", "functionalize", "debug_unwrap"]
