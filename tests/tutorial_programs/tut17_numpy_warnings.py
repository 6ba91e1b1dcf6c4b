"""Recording warnings (as tests and tutorials do) around maths that yields nan/inf: torch warns nothing."""
import warnings
import torch

torch.manual_seed(0)
with warnings.catch_warnings(record=True) as rec:
    warnings.simplefilter("always")
    print(torch.tensor([-1.0, 4.0]).log(), torch.tensor([1.0, 0.0]) / 0, torch.tensor([-1.0]).sqrt())
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    x.sqrt().sum().backward()
    print(x.grad)
    print(torch.tensor([1000.0]).exp(), torch.tensor([0.0]).log())
print(len(rec), [w.category.__name__ for w in rec])
