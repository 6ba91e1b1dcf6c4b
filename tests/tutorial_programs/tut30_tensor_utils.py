"""Tensor utilities met with models: no_grad inference, argmax/topk accuracy, cat/stack of batches,
.item()/.tolist(), printing tensors of several dtypes and shapes."""
import torch
import torch.nn as nn

torch.manual_seed(0)

model = nn.Linear(5, 4)
batches = [torch.randn(3, 5) for _ in range(3)]
model.eval()
outs = []
with torch.no_grad():
    for b in batches:
        outs.append(model(b))
print(torch.is_grad_enabled(), outs[0].requires_grad)
logits = torch.cat(outs)
print(logits.shape, torch.stack(outs).shape, torch.stack(outs, dim=1).shape)
with torch.inference_mode():
    inf = model(batches[0])
print(inf.requires_grad, torch.is_inference_mode_enabled())

scores = torch.tensor([[0.1, 2.0, 0.3, -1.0], [1.5, 0.2, 1.4, 0.0], [0.0, 0.1, 0.2, 0.3],
                       [3.0, -2.0, 2.9, 1.0], [0.5, 0.6, 0.1, 0.2]])
labels = torch.tensor([1, 2, 3, 0, 1])
pred = scores.argmax(dim=1)
print(pred, pred.dtype, (pred == labels), (pred == labels).sum(), (pred == labels).float().mean())
print(f"top-1 acc {(pred == labels).float().mean().item():.2f}")
vals, idx = scores.topk(2, dim=1)
print(vals, idx)
top2 = (idx == labels.unsqueeze(1)).any(dim=1)
print(top2, top2.float().mean().item())
r = torch.topk(scores[0], k=3, largest=False, sorted=True)
print(r)
print(r.values.tolist(), r.indices.tolist())
print(scores.max(dim=1), scores.max(), scores.argmax(), scores.min(1).indices)
print(torch.softmax(scores, dim=1).max(1).values)
print(scores.sort(dim=1, descending=True).indices[0])

t = torch.tensor(3.25)
print(t.item(), type(t.item()).__name__, torch.tensor(7).item(), type(torch.tensor(True).item()).__name__)
print(scores[:2].tolist(), labels.tolist(), torch.tensor(2.5).tolist())
print(torch.arange(3).numpy(), scores[0].detach().numpy().dtype)
try:
    scores.item()
except RuntimeError as e:
    print(type(e).__name__, e)
x = torch.ones(2, requires_grad=True)
try:
    x.numpy()
except RuntimeError as e:
    print(type(e).__name__, e)
print(x.detach().numpy(), x.sum().item())

for dt in [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int8,
           torch.uint8, torch.bool]:
    v = torch.tensor([1.5, -2.0, 0.0, 3.25]).to(dt)
    print(dt, v, v.dtype, v.element_size(), v.sum().dtype if dt != torch.bool else v.any())
print(torch.tensor([1e-8, 1.0, 1e8]))
print(torch.tensor([1.0, 2.0, 3.0]) / 3)
print(torch.tensor([[1e-5, 1.0], [100.0, 12345.678]]))
print(torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0]))
print(torch.zeros(2, 0, 3), torch.zeros(0).shape, torch.tensor([]))
print(torch.arange(12).reshape(2, 2, 3))
print(torch.arange(1500))
print(torch.linspace(0, 1, 5).repeat(3, 1))
print(torch.tensor([123456789, -1]), torch.tensor([0.1234567]), torch.tensor(1e20))
print(torch.randint(0, 10, (2, 3)), torch.randn(2, 2, dtype=torch.float64))
print(torch.full((2, 2), 7, dtype=torch.int16), torch.eye(2, dtype=torch.bool))
print(logits.shape, logits.size(0), logits.size(-1), logits.ndim, logits.numel(), logits.dim(), len(logits))
print(repr(logits.shape), list(logits.shape), tuple(logits.shape), logits.shape == (9, 4))
print(torch.Size([2, 3]).numel(), torch.Size([2, 3]) + (4,))
col = []
for b in batches:
    col.extend(model(b).argmax(1).tolist())
print(len(col), all(isinstance(c, int) for c in col))
one_hot = nn.functional.one_hot(labels, num_classes=4)
print(one_hot, one_hot.dtype)
print(torch.cat([labels, torch.tensor([9])]), torch.stack([labels, labels]).T.shape)
print(torch.chunk(torch.arange(10), 3), torch.split(torch.arange(7), [2, 5]))
print(torch.where(scores > 1, scores, torch.zeros_like(scores)))
print(scores.clamp(0, 1).mean(0), scores.mean(), scores.std(dim=0))
print(torch.unique(torch.tensor([3, 1, 2, 3, 1]), return_counts=True))
print(labels.float().unsqueeze(1).expand(5, 3).contiguous().view(-1))
try:
    torch.cat([torch.zeros(2, 3), torch.zeros(2, 4)])
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    torch.stack([torch.zeros(2), torch.zeros(3)])
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    model(torch.ones(2, 5, dtype=torch.float64))
except RuntimeError as e:
    print(type(e).__name__, e)
half = nn.Linear(5, 4).half()
print(half(batches[0].half()), half(batches[0].half()).dtype)
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    probs = torch.nn.functional.softmax(scores); here = __import__("sys")._getframe().f_lineno
print(probs.sum(1), [(w.category.__name__, w.lineno == here, str(w.message)) for w in caught])
