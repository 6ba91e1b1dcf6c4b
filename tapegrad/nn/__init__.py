"""torch.nn: modules, parameters, functional, init and utils."""
from . import functional
from . import parameter
from .parameter import Parameter, Buffer
from . import modules
from .modules import (Module, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict, Identity, Linear,
                      Bilinear, Flatten, Unflatten)
from . import init
from . import utils

__all__ = ["functional", "parameter", "modules", "init", "utils", "Parameter", "Buffer", "Module", "Sequential",
           "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Identity", "Linear", "Bilinear", "Flatten",
           "Unflatten"]
