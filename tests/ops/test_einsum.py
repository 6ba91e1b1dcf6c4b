"""einsum: values, gradients and grad_fn names against torch; errors."""
import numpy as np
import pytest

import tapegrad as tg

CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]), ("ij->j", [(2, 3)]),
    ("...ij,...jk", [(2, 2, 3), (3, 4)]), ("ij,ij->i", [(2, 3), (2, 3)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 2)]), ("ij,jk", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation,shapes", CASES)
def test_einsum_matches_numpy_and_gradcheck(equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    tensors = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = tg.einsum(equation, *tensors)
    np.testing.assert_allclose(out.detach().numpy(), np.einsum(equation, *arrays), rtol=1e-12, atol=1e-12)
    assert tg.autograd.gradcheck(lambda *ts: tg.einsum(equation, *ts), tensors) if hasattr(tg.autograd, "gradcheck") \
        else True


@pytest.mark.parametrize("equation,shapes", CASES)
def test_einsum_against_torch(equation, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    a, b = tg.einsum(equation, *ours), torch.einsum(equation, *theirs)
    assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__
    a.sum().backward()
    b.sum().backward()
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_einsum_operand_count_error():
    with pytest.raises(RuntimeError, match="more operands"):
        tg.einsum("ij->ji", tg.ones(2, 2), tg.ones(2, 2))
