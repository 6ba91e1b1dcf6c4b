"""The meta device: shapes without data, as the ensembling tutorial's stateless base model uses."""
import copy
import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Linear(4, 3)
base = copy.deepcopy(model).to("meta")
print(base.weight.device, base.weight.shape, base.weight.requires_grad)
print(model.weight.device)
t = torch.empty(2, 3, device="meta")
print(t.device, t.shape, t.is_meta)
print(t)
print((t + 1).shape, (t @ torch.empty(3, 5, device="meta")).shape)
