"""Complex autograd as the docs teach it: conj, real/imag, abs, the conjugate Wirtinger gradient."""
import torch

torch.manual_seed(0)
z = torch.tensor([1 + 2j, 3 - 1j], requires_grad=True)
loss = (z * z.conj()).real.sum()
loss.backward()
print(z.grad)
w = torch.randn(3, dtype=torch.cfloat, requires_grad=True)
print(w.real.shape, w.imag.dtype, w.abs().grad_fn)
w.abs().sum().backward()
print(torch.allclose(w.grad, w / w.abs()))
print(torch.view_as_real(w.detach()).shape)
