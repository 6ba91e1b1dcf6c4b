"""Dataset and DataLoader: custom Dataset, TensorDataset, random_split, batching options, collate of
dicts and tuples, Subset, ConcatDataset, samplers."""
import torch
from torch.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler,
                              SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                              WeightedRandomSampler, random_split)

torch.manual_seed(0)


class Squares(Dataset):
    def __init__(self, n):
        self.x = torch.arange(n, dtype=torch.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.x[i] ** 2


class Records(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"id": i, "feat": torch.full((3,), float(i)), "label": i % 2, "name": f"item{i}",
                "pair": (torch.tensor(i), 0.5 * i)}


sq = Squares(10)
print(len(sq), sq[3])
loader = DataLoader(sq, batch_size=4)
print(len(loader))
for xb, yb in loader:
    print(xb, yb, xb.dtype)
print(len(DataLoader(sq, batch_size=4, drop_last=True)), [b[0].tolist() for b in DataLoader(sq, batch_size=4, drop_last=True)])

for batch in DataLoader(Records(5), batch_size=2):
    print(sorted(batch.keys()), batch["id"], batch["feat"].shape, batch["label"], batch["name"], batch["pair"])

X = torch.randn(12, 3)
y = torch.arange(12)
ds = TensorDataset(X, y)
print(len(ds), ds[0][0].shape, ds[11][1], len(ds.tensors))
for xb, yb in DataLoader(ds, batch_size=5, shuffle=True):
    print(xb.shape, yb)
g = torch.Generator().manual_seed(7)
for xb, yb in DataLoader(ds, batch_size=6, shuffle=True, generator=g):
    print(yb.tolist())
a, b = random_split(ds, [8, 4], generator=torch.Generator().manual_seed(1))
print(len(a), len(b), type(a).__name__, a.indices, b.indices)
parts = random_split(range(10), [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(0))
print([len(p) for p in parts], [list(p) for p in parts])
sub = Subset(sq, [9, 0, 4])
print(len(sub), [sub[i][1].item() for i in range(len(sub))])
cat = ConcatDataset([sq, Squares(3)])
print(len(cat), cat[10], cat[-1], cat.cumulative_sizes)
print([b[0].tolist() for b in DataLoader(cat, batch_size=5)])

print(list(SequentialSampler(range(4))))
print(list(RandomSampler(range(6), generator=torch.Generator().manual_seed(3))))
print(list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)))
print(list(BatchSampler(range(7), batch_size=3, drop_last=True)))
print(list(SubsetRandomSampler([1, 3, 5, 7], generator=torch.Generator().manual_seed(0))))
weights = [0.1, 0.1, 5.0, 0.1]
ws = WeightedRandomSampler(weights, num_samples=8, replacement=True, generator=torch.Generator().manual_seed(0))
print(len(ws), list(ws))
ws2 = WeightedRandomSampler(torch.tensor([1.0, 2.0, 3.0]), num_samples=3, replacement=False)
print(sorted(list(ws2)))
labels = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1])
class_w = 1.0 / torch.bincount(labels).float()
print(class_w, class_w[labels])
bal = DataLoader(TensorDataset(torch.arange(8.0), labels), batch_size=4,
                 sampler=WeightedRandomSampler(class_w[labels], num_samples=8))
for xb, lb in bal:
    print(xb.shape, lb.shape)
bl = DataLoader(sq, batch_sampler=BatchSampler(SequentialSampler(sq), batch_size=3, drop_last=False))
print(len(bl), [x.tolist() for x, _ in bl])


def collate_pad(batch):
    seqs = [torch.ones(int(n)) * n for n, _ in batch]
    return torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True), torch.stack([t for _, t in batch])


for padded, t in DataLoader(Subset(sq, [1, 3, 2]), batch_size=3, collate_fn=collate_pad):
    print(padded, t)
print(next(iter(DataLoader(sq, batch_size=None)))[0])
it = iter(DataLoader(ds, batch_size=4))
first = next(it)
print(type(first).__name__, len(first), first[1])
try:
    DataLoader(sq, batch_size=2, shuffle=True, sampler=SequentialSampler(sq))
except ValueError as e:
    print(type(e).__name__, e)
try:
    random_split(range(5), [2, 2])
except ValueError as e:
    print(type(e).__name__, e)
try:
    TensorDataset(torch.zeros(3), torch.zeros(4))
except AssertionError as e:
    print(type(e).__name__, e)
words = [(torch.tensor([i, i + 1]), f"w{i}", i * 0.5) for i in range(4)]
for feats, names, vals in DataLoader(words, batch_size=3):
    print(feats, names, vals)
