"""torch.nn (the core issue brings `functional`; modules come with the training issue)."""
from . import functional

__all__ = ["functional"]
