"""addmm (nn.Linear's op) against torch: dtype and shape errors in torch's order and words, and half
precision rounded once."""
import numpy as np
import pytest

import tapegrad

torch = pytest.importorskip("torch")


def _error(lib, f):
    with pytest.raises(RuntimeError) as info:
        f(lib)
    return str(info.value)


@pytest.mark.parametrize("f", [
    lambda lib: lib.addmm(lib.ones(2), lib.ones(2, 3, dtype=lib.float64), lib.ones(2, 2)),
    lambda lib: lib.addmm(lib.ones(2, dtype=lib.long), lib.ones(2, 2, dtype=lib.float64), lib.ones(2, 2)),
    lambda lib: lib.addmm(lib.ones(3), lib.ones(2, 2), lib.ones(2, 2)),
    lambda lib: lib.addmm(lib.ones(2, 2), lib.ones(2, 2), lib.ones(2, 3)),
    lambda lib: lib.nn.Linear(2, 2)(lib.ones(3, 2, dtype=lib.float64)),
    lambda lib: lib.nn.Linear(2, 2)(lib.ones(4, 3, 2, dtype=lib.float64)),
], ids=["mat1-dtype-before-shape", "self-dtype-first", "self-expand", "self-expand-2d", "linear-2d", "linear-3d"])
def test_addmm_errors_as_torch(f):
    assert _error(tapegrad, f) == _error(torch, f)


def test_addmm_half_rounds_once():
    rng = np.random.RandomState(0)
    a, b, c = rng.randn(6, 9), rng.randn(9, 5), rng.randn(5)
    outs = [lib.addmm(lib.tensor(c).half(), lib.tensor(a).half(), lib.tensor(b).half(), beta=0.5, alpha=2).numpy()
            for lib in (tapegrad, torch)]
    assert outs[0].dtype == np.float16
    np.testing.assert_array_equal(*outs)
