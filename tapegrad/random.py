"""torch.random: the default generator and the functions that seed and snapshot it."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from . import _generator
from ._device import CPU

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "fork_rng"]


class Generator(_generator.Generator):
    """torch.Generator: a Mersenne Twister stream drawing the same numbers as torch's CPU generator."""

    def __init__(self, device: Any = "cpu") -> None:
        super().__init__()
        from ._device import check_device
        check_device(device)

    @property
    def device(self) -> Any:
        return CPU

    def get_state(self) -> Any:  # type: ignore[override]
        from ._tensor import make
        return make(np.array(super().get_state(), dtype=np.uint8), False, None, 0)

    def set_state(self, new_state: Any) -> "Generator":  # type: ignore[override]
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if new_state._data.size != _generator.STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_generator.STATE_SIZE} but found the "
                               f"input RNG state size to be {new_state._data.size}")
        super().set_state(new_state._data)
        return self

    def manual_seed(self, seed: Any) -> "Generator":
        if isinstance(seed, (str, bytes)) or not hasattr(seed, "__int__"):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        super().manual_seed(seed)
        return self

    def __repr__(self) -> str:
        return f"<torch._C.Generator object at {hex(id(self))}>"


default_generator = Generator()
default_generator.seed()  # as torch: a fresh non-deterministic seed per process until manual_seed


def manual_seed(seed: Any) -> Generator:
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the default generator's state from get_rng_state()."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Restore the default generator's state on exit."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
