"""CNN layers: Conv2d, pooling, BatchNorm2d, Dropout2d in train() and eval(), Flatten/Unflatten."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).reshape(2, 1, 6, 6) / 10
conv = nn.Conv2d(1, 3, kernel_size=3, padding=1)
with torch.no_grad():
    conv.weight.copy_(torch.linspace(-1, 1, 27).reshape(3, 1, 3, 3))
    conv.bias.copy_(torch.tensor([0.1, 0.0, -0.1]))
print(conv)
y = conv(x)
print(y.shape, y.grad_fn.name())
print(y[0, 1])
print(nn.Conv2d(1, 2, 3, stride=2)(x).shape, nn.Conv2d(1, 2, (2, 3), padding="same")(x).shape)
print(nn.Conv2d(1, 4, 3, dilation=2, bias=False)(x).shape)
c2 = nn.Conv2d(4, 4, 3, groups=2, padding=1)
print(c2.weight.shape, c2(torch.randn(1, 4, 5, 5)).shape)
print(nn.ConvTranspose2d(3, 2, 2, stride=2)(y).shape)
mp = nn.MaxPool2d(2)
print(mp(y).shape, mp(y)[1, 2])
print(nn.MaxPool2d(3, stride=2, padding=1)(y).shape)
out, idx = nn.MaxPool2d(2, return_indices=True)(x)
print(out[0, 0], idx[0, 0])
print(nn.MaxUnpool2d(2)(out, idx)[0, 0, :2])
print(nn.AvgPool2d(2)(x)[0, 0])
print(nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)(x)[0, 0])
print(nn.AdaptiveAvgPool2d((1, 1))(y).flatten(1))
print(nn.AdaptiveAvgPool2d((4, 3))(x)[1, 0])
print(nn.AdaptiveMaxPool2d(2)(x)[0, 0])
print(F.max_pool2d(x, 2, ceil_mode=True).shape, F.avg_pool2d(x, 4, ceil_mode=True).shape)

bn = nn.BatchNorm2d(3)
print(bn)
bn.train()
z = bn(y)
print(z.mean(dim=(0, 2, 3)), z.var(dim=(0, 2, 3), unbiased=False))
print(bn.running_mean, bn.running_var, bn.num_batches_tracked)
bn.eval()
ze = bn(y)
print(ze[0, 0, 0])
bn_na = nn.BatchNorm2d(3, affine=False, track_running_stats=False)
print(bn_na(y).mean(), list(bn_na.state_dict().keys()))
bn_m = nn.BatchNorm2d(3, momentum=None)
bn_m(y); bn_m(y * 2)
print(bn_m.running_mean, bn_m.num_batches_tracked)

drop = nn.Dropout2d(0.5)
ones = torch.ones(2, 4, 2, 2)
d = drop(ones)
print(d.shape, sorted(set(d.flatten().tolist())))
print(bool(((d == 0).all(dim=(2, 3)) | (d == 2).all(dim=(2, 3))).all()))
drop.eval()
print(torch.equal(drop(ones), ones))
do = nn.Dropout(0.25)
print(sorted(set(do(torch.ones(100)).tolist())), do.eval()(torch.ones(3)))

flat = nn.Flatten()
print(flat(y).shape, nn.Flatten(0, 2)(y).shape, nn.Flatten(start_dim=2)(y).shape)
unf = nn.Unflatten(1, (3, 6, 6))
print(unf(flat(y)).shape, torch.equal(unf(flat(y)), y))
print(nn.Unflatten(-1, (2, 3))(torch.zeros(4, 6)).shape)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(8, 3))

    def forward(self, x):
        return self.classifier(self.features(x))


net = SmallCNN()
print(net)
print(sum(p.numel() for p in net.parameters()))
imgs = torch.randn(4, 1, 8, 8)
labels = torch.tensor([0, 1, 2, 1])
opt = torch.optim.SGD(net.parameters(), lr=0.1)
for step in range(3):
    opt.zero_grad()
    loss = F.cross_entropy(net(imgs), labels)
    loss.backward()
    opt.step()
    print(step, loss.shape, net.features[0].weight.grad.shape)
net.eval()
with torch.no_grad():
    a = net(imgs)
    b = net(imgs)
print(a.shape, torch.equal(a, b))
feats = []
h = net.features[3].register_forward_hook(lambda m, i, o: feats.append(o.shape))
net(imgs)
h.remove()
print(feats)

g = torch.ones(1, 1, 4, 4, requires_grad=True)
k = nn.Conv2d(1, 1, 2, bias=False)
with torch.no_grad():
    k.weight.copy_(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
k(g).sum().backward()
print(g.grad[0, 0], k.weight.grad)
p = torch.arange(16.0).reshape(1, 1, 4, 4).requires_grad_()
F.max_pool2d(p, 2).sum().backward()
print(p.grad[0, 0])
print(F.pad(x, (1, 1, 1, 1), mode="reflect")[0, 0, :2], F.pad(x, (2, 0), value=-1.0).shape)
try:
    F.pad(x, (1, 1), mode="reflect")
except NotImplementedError as e:
    print(type(e).__name__, e)
