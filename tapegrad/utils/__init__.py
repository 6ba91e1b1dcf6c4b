"""torch.utils: hooks (module hook handles) and data (datasets and loaders)."""
from . import hooks
from . import data
from . import checkpoint

__all__ = ["hooks"]
