"""The common loss functions: values and gradients."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def show(name, loss_fn, *inputs):
    inputs = [t.clone().requires_grad_() if t.is_floating_point() and i == 0 else t for i, t in enumerate(inputs)]
    val = loss_fn(*inputs)
    val.backward() if val.dim() == 0 else val.sum().backward()
    print(name, val, inputs[0].grad)


pred = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
target = torch.tensor([[1.0, -1.5, 0.0], [1.0, 0.2, 2.5]])
show("mse", nn.MSELoss(), pred, target)
show("mse-sum", nn.MSELoss(reduction="sum"), pred, target)
show("mse-none", nn.MSELoss(reduction="none"), pred, target)
show("l1", nn.L1Loss(), pred, target)
show("smoothl1", nn.SmoothL1Loss(beta=0.5), pred, target)
show("huber", nn.HuberLoss(delta=1.5), pred, target)
probs = torch.tensor([0.9, 0.2, 0.6, 0.01])
bt = torch.tensor([1.0, 0.0, 1.0, 1.0])
show("bce", nn.BCELoss(), probs, bt)
show("bce-w", nn.BCELoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.0])), probs, bt)
logits = torch.tensor([[2.0, -1.0], [0.5, 0.3], [-3.0, 4.0]])
lt = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
show("bcelogits", nn.BCEWithLogitsLoss(), logits, lt)
show("bcelogits-pw", nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0, 0.5])), logits, lt)
cl = torch.tensor([[1.0, 2.0, 0.5], [0.1, -0.2, 0.3], [2.0, 2.0, -1.0], [0.0, 1.0, 0.0]])
ct = torch.tensor([1, 2, 0, 1])
show("ce", nn.CrossEntropyLoss(), cl, ct)
show("ce-ls", nn.CrossEntropyLoss(label_smoothing=0.1), cl, ct)
show("ce-ignore", nn.CrossEntropyLoss(ignore_index=2), cl, ct)
show("ce-weight", nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5])), cl, ct)
show("ce-weight-ls", nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.2), cl, ct)
show("ce-probs", nn.CrossEntropyLoss(), cl, F.softmax(cl * 2, dim=1))
show("ce-2d", nn.CrossEntropyLoss(), cl.T.reshape(1, 3, 4), ct.reshape(1, 4))
show("nll", nn.NLLLoss(), F.log_softmax(cl, dim=1), ct)
show("nll-sum", nn.NLLLoss(reduction="sum", ignore_index=1), F.log_softmax(cl, dim=1), ct)
p_log = F.log_softmax(cl, dim=1)
q = F.softmax(cl.flip(0), dim=1)
show("kldiv-batchmean", nn.KLDivLoss(reduction="batchmean"), p_log, q)
show("kldiv-logtarget", nn.KLDivLoss(reduction="sum", log_target=True), p_log, q.log())
a = torch.tensor([[1.0, 0.0, 1.0], [0.5, 0.5, -1.0]])
b = torch.tensor([[0.8, 0.2, 1.1], [-0.5, 0.4, 1.0]])
show("cosemb", nn.CosineEmbeddingLoss(margin=0.2), a, b, torch.tensor([1, -1]))
show("marginrank", nn.MarginRankingLoss(margin=0.5), torch.tensor([0.3, 1.2, -0.1]),
     torch.tensor([0.5, 0.4, -0.2]), torch.tensor([1.0, 1.0, -1.0]))
anc = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
pos = torch.tensor([[0.1, 0.9], [2.0, 1.0]])
neg = torch.tensor([[0.2, 1.1], [-1.0, 0.0]])
show("triplet", nn.TripletMarginLoss(margin=1.0, p=2), anc, pos, neg)
show("triplet-swap", nn.TripletMarginLoss(margin=0.5, p=1, swap=True), anc, pos, neg)
show("hinge", nn.HingeEmbeddingLoss(margin=1.0), torch.tensor([0.3, 2.0, 0.5]), torch.tensor([1, -1, -1]))
show("softmargin", nn.SoftMarginLoss(), torch.tensor([0.3, -2.0, 0.5]), torch.tensor([1.0, -1.0, -1.0]))
show("multimargin", nn.MultiMarginLoss(), cl, ct)
show("multilabelsoft", nn.MultiLabelSoftMarginLoss(), logits, lt)
show("poissonnll", nn.PoissonNLLLoss(), torch.tensor([0.5, 1.0, -0.3]), torch.tensor([1.0, 3.0, 0.0]))
show("gaussiannll", nn.GaussianNLLLoss(), torch.tensor([0.5, 1.0, -0.3]), torch.tensor([1.0, 3.0, 0.0]),
     torch.tensor([0.5, 1.0, 2.0]))

T, N, C, S = 6, 2, 4, 3
log_probs = F.log_softmax(torch.linspace(-1, 1, T * N * C).reshape(T, N, C).sin() * 3, dim=2)
targets = torch.tensor([[1, 2, 3], [2, 2, 0]])

print(F.mse_loss(pred, target), F.l1_loss(pred, target, reduction="sum"), F.smooth_l1_loss(pred, target))
print(F.binary_cross_entropy_with_logits(logits, lt, reduction="none"))
print(F.cross_entropy(cl, ct, reduction="none"), F.nll_loss(F.log_softmax(cl, 1), ct, reduction="none"))
x = torch.randn(8, 5, requires_grad=True)
tgt = torch.randint(0, 5, (8,))
loss = F.cross_entropy(x, tgt)
loss.backward()
print(loss.grad_fn.name(), x.grad.shape, torch.allclose(x.grad.sum(1), torch.zeros(8), atol=1e-6))
print(nn.MSELoss().reduction, nn.CrossEntropyLoss().ignore_index, nn.CrossEntropyLoss(label_smoothing=0.1))
try:
    F.cross_entropy(cl, torch.tensor([1, 2, 5, 0]))
except IndexError as e:
    print(type(e).__name__, e)
try:
    nn.MSELoss()(pred, torch.zeros(3, 2))
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    nn.BCELoss()(torch.tensor([1.5]), torch.tensor([1.0]))
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    nn.CrossEntropyLoss()(cl, ct.float())
except RuntimeError as e:
    print(type(e).__name__, e)
