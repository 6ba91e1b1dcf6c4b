"""torch.utils.data: datasets, samplers, collation and the DataLoader (in-process and with workers)."""
import collections
import random

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.utils import data as tud
from tapegrad.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                                 SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                                 WeightedRandomSampler, default_collate, default_convert, get_worker_info,
                                 random_split)

Point = collections.namedtuple("Point", "x y")


# ---------------------------------------------------------------- module-level datasets (workers fork them)
class Squares(Dataset):
    def __init__(self, n=11, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(i)
        info = get_worker_info()
        return tg.tensor([float(i * i)]), -1 if info is None else info.id


class Stream(IterableDataset):
    """Shards itself across workers with get_worker_info()."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


class RandomDraws(Dataset):
    """Samples drawn from the worker's seeded generators (torch's, NumPy's, Python's)."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.lib.rand(1).item(), float(np.random.rand()), random.random()


def _record_init(worker_id):
    info = get_worker_info()
    assert info.id == worker_id and info.num_workers == 2 and isinstance(info.dataset, Squares)


# ---------------------------------------------------------------- datasets
def test_tensor_dataset_subset_concat():
    x, y = tg.arange(10.0), tg.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and ds[3][0].item() == 3.0 and ds[3][1].item() == 3
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, tg.arange(3))
    sub = Subset(ds, [9, 0, 4])
    assert len(sub) == 3 and sub[0][1].item() == 9 and [s[1].item() for s in sub.__getitems__([1, 2])] == [0, 4]
    cat = ds + Subset(ds, [1, 2])
    assert isinstance(cat, ConcatDataset) and len(cat) == 12 and cat.cumulative_sizes == [10, 12]
    assert cat[10][1].item() == 1 and cat[-1][1].item() == 2
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        cat[-13]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Stream(3)])
    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2]
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement __getitem__."):
        Dataset()[0]


def test_random_split_matches_torch():
    torch = pytest.importorskip("torch")
    for lengths in ([3, 7], [0.3, 0.7], [0.5, 0.25, 0.25]):
        ours = random_split(range(10), lengths, generator=tg.Generator().manual_seed(42))
        theirs = torch.utils.data.random_split(range(10), lengths, generator=torch.Generator().manual_seed(42))
        assert [s.indices for s in ours] == [s.indices for s in theirs]
    tg.manual_seed(7), torch.manual_seed(7)
    assert ([s.indices for s in random_split(range(7), [0.5, 0.5])]
            == [s.indices for s in torch.utils.data.random_split(range(7), [0.5, 0.5])])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(range(5), [2, 2])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [1.0, 0.0])


# ---------------------------------------------------------------- samplers
def test_samplers_match_torch():
    torch = pytest.importorskip("torch")
    tud_t = torch.utils.data

    def draws(lib, mod):
        lib.manual_seed(11)
        g = lib.Generator().manual_seed(3)
        return [list(mod.RandomSampler(range(7))), list(mod.RandomSampler(range(5), replacement=True, num_samples=40)),
                list(mod.RandomSampler(range(4), num_samples=10, generator=g)),
                list(mod.SubsetRandomSampler([10, 20, 30, 40])),
                list(mod.WeightedRandomSampler([0.1, 0.9, 0.4, 0.0], 8)),
                list(mod.WeightedRandomSampler([1.0, 2.0, 3.0], 3, replacement=False, generator=g)),
                lib.rand(2).tolist()]

    assert draws(tg, tud) == draws(torch, tud_t)


def test_sampler_basics_and_errors():
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(3), 1, 1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="weights should be a 1d sequence but given weights have shape \\(1, 2\\)"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    assert sorted(SubsetRandomSampler([5, 6, 7])) == [5, 6, 7]


# ---------------------------------------------------------------- collation
def test_default_collate_structure_and_dtypes():
    sample = {"a": np.float32(1), "b": [1, 2.5], "c": "hi", "d": np.arange(3), "e": Point(1, True),
              "t": tg.ones(2, 3)}
    batch = default_collate([sample, sample])
    assert batch["a"].dtype == tg.float32 and batch["a"].tolist() == [1.0, 1.0]
    assert batch["b"][0].dtype == tg.int64 and batch["b"][1].dtype == tg.float64
    assert batch["c"] == ["hi", "hi"]
    assert batch["d"].dtype == tg.int64 and batch["d"].shape == (2, 3)
    assert isinstance(batch["e"], Point) and batch["e"].y.dtype == tg.bool
    assert batch["t"].shape == (2, 2, 3)
    pair = default_collate([(1, 2.0), (3, 4.0)])
    assert isinstance(pair, list) and pair[0].tolist() == [1, 3] and pair[1].dtype == tg.float64
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                                        "or lists; found <class 'object'>"):
        default_collate([object()])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"])])
    converted = default_convert([(np.int32(1), np.arange(2))])
    assert converted[0][0].dtype == tg.int32 and converted[0][1].dtype == tg.int64


def test_collate_matches_torch():
    torch = pytest.importorskip("torch")
    samples = [{"x": np.full((2,), i, dtype=np.float32), "y": i, "z": (float(i), [i, i + 1])} for i in range(3)]
    ours, theirs = default_collate(samples), torch.utils.data.default_collate(samples)
    assert ours["x"].tolist() == theirs["x"].tolist() and str(ours["x"].dtype) == str(theirs["x"].dtype)
    assert ours["y"].tolist() == theirs["y"].tolist() and str(ours["y"].dtype) == str(theirs["y"].dtype)
    assert type(ours["z"]) is type(theirs["z"]) and str(ours["z"][0].dtype) == str(theirs["z"][0].dtype)
    assert [t.tolist() for t in ours["z"][1]] == [t.tolist() for t in theirs["z"][1]]


def test_collate_string_columns_keep_torch_container_types():
    """Strings in a sequence column come back as the column's tuple, under a mapping as a list (torch's types)."""
    torch = pytest.importorskip("torch")
    point = collections.namedtuple("point", "name n")
    for samples in ([(1, "a"), (2, "b")], [["a", (b"q",)], ["b", (b"r",)]], [point("x", 1), point("y", 2)],
                    [{"s": "a"}, {"s": "b"}]):
        ours, theirs = default_collate(samples), torch.utils.data.default_collate(samples)
        assert repr(ours).replace("tensor", "") == repr(theirs).replace("tensor", "")


# ---------------------------------------------------------------- DataLoader, one process
def test_shuffle_order_matches_torch():
    torch = pytest.importorskip("torch")

    def orders(lib, mod):
        lib.manual_seed(0)
        ds = mod.TensorDataset(lib.arange(10.0), lib.arange(10))
        out = [[b[1].tolist() for b in mod.DataLoader(ds, batch_size=3, shuffle=True)] for _ in range(2)]
        g = lib.Generator().manual_seed(5)
        out.append([b[1].tolist() for b in mod.DataLoader(ds, batch_size=4, shuffle=True, generator=g,
                                                         drop_last=True)])
        out.append(lib.rand(2).tolist())  # the default generator advanced the same way
        return out

    assert orders(tg, tud) == orders(torch, torch.utils.data)


def test_dataloader_batching_and_len():
    ds = TensorDataset(tg.arange(10.0).reshape(10, 1), tg.arange(10))
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 1)
    assert len(DataLoader(ds, batch_size=4)) == 3 and len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    unbatched = DataLoader(ds, batch_size=None)
    assert len(unbatched) == 10 and next(iter(unbatched))[1].item() == 0
    custom = DataLoader(ds, batch_sampler=[[3, 1], [0]], collate_fn=lambda items: [i[1].item() for i in items])
    assert list(custom) == [[3, 1], [0]]
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2)] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in DataLoader(Stream(5), batch_size=2, drop_last=True)] == [[0, 1], [2, 3]]
    assert len(DataLoader(Stream(5), batch_size=2)) == 3


def test_dataloader_argument_errors():
    ds = TensorDataset(tg.arange(4.0))
    cases = [
        (dict(sampler=SequentialSampler(ds), shuffle=True), "sampler option is mutually exclusive with shuffle"),
        (dict(batch_sampler=[[0]], batch_size=2),
         "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"),
        (dict(batch_size=None, drop_last=True),
         "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"),
        (dict(num_workers=-1), "num_workers option should be non-negative; use num_workers=0 to disable "
                               "multiprocessing."),
        (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
        (dict(timeout=-1), "timeout option should be non-negative"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError) as e:
            DataLoader(ds, **kwargs)
        assert str(e.value) == message
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    loader = DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        next(iter(DataLoader(ds, pin_memory=True)))


# ---------------------------------------------------------------- DataLoader, worker processes
def test_workers_keep_order_and_run_init_fn():
    loader = DataLoader(Squares(), batch_size=2, num_workers=2, worker_init_fn=_record_init)
    batches = list(loader)
    assert [b[0].flatten().tolist() for b in batches] == [[0.0, 1.0], [4.0, 9.0], [16.0, 25.0], [36.0, 49.0],
                                                          [64.0, 81.0], [100.0]]
    assert [b[1].tolist() for b in batches] == [[0, 0], [1, 1], [0, 0], [1, 1], [0, 0], [1]]
    assert get_worker_info() is None


def test_workers_shuffle_like_single_process():
    tg.manual_seed(3)
    one = [b[0].flatten().tolist() for b in DataLoader(Squares(), batch_size=3, shuffle=True)]
    tg.manual_seed(3)
    two = [b[0].flatten().tolist() for b in DataLoader(Squares(), batch_size=3, shuffle=True, num_workers=2)]
    assert one == two


def test_iterable_dataset_sharded_across_workers():
    batches = [b.tolist() for b in DataLoader(Stream(10), batch_size=3, num_workers=2)]
    assert batches == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]
    assert sorted(DataLoader(Stream(7), batch_size=None, num_workers=2)) == list(range(7))


def test_persistent_workers_are_reused():
    loader = DataLoader(Squares(6), batch_size=4, num_workers=2, persistent_workers=True)
    first = [b[0].flatten().tolist() for b in loader]
    it = loader._iterator
    second = [b[0].flatten().tolist() for b in loader]
    assert first == second == [[0.0, 1.0, 4.0, 9.0], [16.0, 25.0]]
    assert loader._iterator is it and all(w.is_alive() for w in it._workers)
    it._shutdown_workers()


def test_worker_exception_is_reraised_with_its_type():
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1"):
        list(DataLoader(Squares(fail_at=3), batch_size=2, num_workers=2))


def test_worker_seeds_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib, mod in ((tg, tud), (torch, torch.utils.data)):
        lib.manual_seed(1)
        results.append(list(mod.DataLoader(RandomDraws(lib), batch_size=None, num_workers=2)))
    assert results[0] == results[1]
