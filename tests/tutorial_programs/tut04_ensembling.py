"""Model ensembling with stack_module_state and vmap(functional_call)."""
import copy
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import stack_module_state, functional_call, vmap

torch.manual_seed(0)


class SimpleMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 16)
        self.fc3 = nn.Linear(16, 4)

    def forward(self, x):
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


num_models = 5
data = torch.randn(20, 4, 4)
targets = torch.randint(4, (20,))
models = [SimpleMLP() for _ in range(num_models)]

minibatches = data[:num_models * 2].reshape(num_models, 2, 4, 4)
predictions_diff_minibatch_loop = [model(minibatch) for model, minibatch in zip(models, minibatches)]
minibatch = data[:8]
predictions2 = [model(minibatch) for model in models]

params, buffers = stack_module_state(models)
print(sorted(params.keys()))
print({k: tuple(v.shape) for k, v in params.items()})
print(params["fc1.weight"].requires_grad, params["fc1.weight"].is_leaf, buffers)

base_model = copy.deepcopy(models[0])
base_model = base_model.to("meta")
print(base_model.fc1.weight.shape)  # the meta device itself: tut16_meta_device.py


def fmodel(params, buffers, x):
    return functional_call(base_model, (params, buffers), (x,))


predictions1_vmap = vmap(fmodel)(params, buffers, minibatches)
print(predictions1_vmap.shape)
print(torch.allclose(predictions1_vmap, torch.stack(predictions_diff_minibatch_loop), atol=1e-6, rtol=1e-6))

predictions2_vmap = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
print(predictions2_vmap.shape)
print(torch.allclose(predictions2_vmap, torch.stack(predictions2), atol=1e-6, rtol=1e-6))

# train the ensemble jointly: gradients flow to the stacked leaves
loss = sum(F.cross_entropy(predictions2_vmap[i], targets[:8]) for i in range(num_models))
loss.backward()
print(params["fc3.bias"].grad.shape)
print(params["fc3.bias"].grad)

# ensemble with BatchNorm buffers
class WithBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.bn(self.lin(x))

bns = [WithBN().eval() for _ in range(3)]
p, b = stack_module_state(bns)
print(sorted(b.keys()), b["bn.running_mean"].shape, b["bn.num_batches_tracked"])
base = copy.deepcopy(bns[0]).to("meta")
out = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)), in_dims=(0, 0, None))(p, b, torch.randn(2, 3))
print(out.shape, out.grad_fn is not None)

try:
    stack_module_state([SimpleMLP(), nn.Linear(2, 2)])
except Exception as e:
    print(type(e).__name__)
