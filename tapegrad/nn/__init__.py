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
from .modules import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
__all__ += ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
from .modules.activation import *  # noqa: E402,F401,F403
from .modules.batchnorm import *  # noqa: E402,F401,F403
from .modules.conv import *  # noqa: E402,F401,F403
from .modules.distance import *  # noqa: E402,F401,F403
from .modules.dropout import *  # noqa: E402,F401,F403
from .modules.fold import *  # noqa: E402,F401,F403
from .modules.instancenorm import *  # noqa: E402,F401,F403
from .modules.loss import *  # noqa: E402,F401,F403
from .modules.normalization import *  # noqa: E402,F401,F403
from .modules.padding import *  # noqa: E402,F401,F403
from .modules.pixelshuffle import *  # noqa: E402,F401,F403
from .modules.pooling import *  # noqa: E402,F401,F403
from .modules.sparse import *  # noqa: E402,F401,F403
from .modules.upsampling import *  # noqa: E402,F401,F403
__all__ += [name for family in (modules.activation, modules.batchnorm, modules.conv, modules.distance,
                                modules.dropout, modules.fold, modules.instancenorm, modules.loss,
                                modules.normalization, modules.padding, modules.pixelshuffle, modules.pooling,
                                modules.sparse, modules.upsampling)
            for name in family.__all__]
from .modules import (MultiheadAttention, Transformer, TransformerEncoder, TransformerDecoder,
                      TransformerEncoderLayer, TransformerDecoderLayer)
__all__ += ["MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
            "TransformerDecoderLayer"]
