"""torch.save / torch.load: round trips of tensors, Parameters, state dicts and plain containers;
storage sharing; clear errors for corrupted or foreign files; atomic replacement on save."""
import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import tapegrad as torch


def roundtrip(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf)


def test_tensor_dtype_shape_requires_grad():
    values = [torch.arange(12.0).reshape(3, 4), torch.ones(2, dtype=torch.float64, requires_grad=True),
              torch.tensor([1, 2], dtype=torch.int32), torch.tensor([True, False]), torch.zeros(0, 3),
              torch.tensor(3.5), torch.tensor([1 + 2j]), torch.ones(3, dtype=torch.float16),
              torch.tensor([0, 255], dtype=torch.uint8)]
    for t in values:
        back = roundtrip(t)
        assert type(back) is torch.Tensor and back.is_leaf
        assert back.dtype == t.dtype and back.shape == t.shape and back.requires_grad == t.requires_grad
        np.testing.assert_array_equal(back.detach().numpy(), t.detach().numpy())


def test_non_leaf_comes_back_as_leaf_requiring_grad():
    y = torch.ones(3, requires_grad=True) * 2
    back = roundtrip(y)
    assert back.is_leaf and back.requires_grad and back.grad_fn is None and back.tolist() == [2.0, 2.0, 2.0]


def test_parameters_and_state_dict():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    model.register_buffer("steps", torch.tensor(7))
    sd = model.state_dict()
    back = roundtrip(sd)
    assert type(back) is OrderedDict and list(back) == list(sd)
    assert back._metadata == sd._metadata
    fresh = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    fresh.register_buffer("steps", torch.tensor(0))
    assert repr(fresh.load_state_dict(back)) == "<All keys matched successfully>"
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert a.dtype == b.dtype and bool((a == b).all())
    p = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    q = roundtrip({"p": p})["p"]
    assert type(q) is torch.nn.Parameter and not q.requires_grad
    assert roundtrip(model.state_dict(keep_vars=True))["0.weight"].__class__ is torch.nn.Parameter


def test_plain_values_and_containers():
    obj = {"a": [1, 2.5, None, True, "s", b"\x00\xff", (3, 4j)], 7: {1, 2}, (1, "k"): frozenset({"x"}),
           "nan": float("nan"), "inf": float("-inf"), "big": 2 ** 80, "dt": torch.float64,
           "size": torch.Size([2, 3]), "dev": torch.device("cpu"), "sl": slice(1, None, 2),
           "nested": OrderedDict([("x", [{"y": ()}])]), "np": np.arange(3), "npf": np.float32(1.5)}
    back = roundtrip(obj)
    assert back.keys() == obj.keys()
    for k in ("a", 7, (1, "k"), "inf", "big", "dt", "size", "sl", "nested"):
        assert back[k] == obj[k] and type(back[k]) is type(obj[k])
    assert np.isnan(back["nan"]) and str(back["dev"]) == "cpu"
    assert type(back["np"]) is np.ndarray and back["np"].tolist() == [0, 1, 2]
    assert back["npf"] == np.float32(1.5) and back["npf"].dtype == np.float32
    assert float.hex(roundtrip(0.1)) == float.hex(0.1)


def test_optimizer_like_state_with_int_keys():
    state = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.ones(2)}},
             "param_groups": [{"params": [0, 1], "lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False}]}
    back = roundtrip(state)
    assert list(back["state"]) == [0] and back["param_groups"] == state["param_groups"]
    assert back["state"][0]["step"].item() == 3.0


def test_shared_storage_and_identity():
    base = torch.arange(10.0)
    view = base[2:8:2]
    back = roundtrip({"base": base, "view": view, "again": base, "t": base.reshape(2, 5).t()})
    assert back["again"] is back["base"]
    back["base"][4] = 100.0
    assert back["view"].tolist() == [2.0, 100.0, 6.0]
    assert back["t"][4, 0].item() == 100.0
    assert back["t"].shape == (5, 2)


def test_path_save_is_atomic_and_readable(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(3)}, path)
    assert torch.load(str(path))["w"].tolist() == [1.0, 1.0, 1.0]
    good = path.read_bytes()

    class Unsaveable:
        pass
    with pytest.raises(pickle.PicklingError, match="Can't save an object of type"):
        torch.save({"w": torch.zeros(3), "x": Unsaveable()}, path)
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]  # no temporary file left behind


def test_interrupted_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    torch.save(torch.ones(2), path)
    good = path.read_bytes()
    from tapegrad import serialization

    def fail(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(serialization, "_write_archive", fail)
    with pytest.raises(KeyboardInterrupt):
        torch.save(torch.zeros(1000), path)
    assert path.read_bytes() == good and sorted(os.listdir(tmp_path)) == ["ckpt.pt"]


def test_module_object_is_refused_with_a_hint():
    with pytest.raises(pickle.PicklingError, match=r"Save its state_dict\(\) instead"):
        torch.save(torch.nn.Linear(2, 2), io.BytesIO())


def _saved_bytes(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file_raises_runtime_error(cut):
    raw = _saved_bytes({"w": torch.arange(1000.0)})
    with pytest.raises(RuntimeError, match="truncated or corrupted"):
        torch.load(io.BytesIO(raw[:int(len(raw) * cut)]))


def test_flipped_byte_in_tensor_data_is_detected():
    raw = bytearray(_saved_bytes({"w": torch.arange(1000.0)}))
    pos = raw.index(np.arange(1000.0, dtype=np.float32)[500:502].tobytes())
    raw[pos] ^= 0xFF
    with pytest.raises(RuntimeError, match="truncated or corrupted"):
        torch.load(io.BytesIO(bytes(raw)))


def test_not_a_checkpoint():
    with pytest.raises(pickle.UnpicklingError, match="invalid load key"):
        torch.load(io.BytesIO(b"garbage bytes"))
    with pytest.raises(EOFError):
        torch.load(io.BytesIO(b""))
    foreign = io.BytesIO()
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02cos\nsystem\n.")
    foreign.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="written by PyTorch"):
        torch.load(foreign)


def _forge(header_edit):
    """A checkpoint whose JSON header was rewritten (CRC recomputed), as a malicious file would be."""
    import json
    raw = _saved_bytes({"w": torch.arange(4.0)})
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith("data.json"):
                header = json.loads(data)
                header_edit(header)
                data = json.dumps(header).encode()
            dst.writestr(name, data)
    out.seek(0)
    return out


@pytest.mark.parametrize("edit", [
    lambda h: h["tensors"][0].update(shape=[1000]),            # reads past the storage
    lambda h: h["tensors"][0].update(offset=-8),
    lambda h: h["tensors"][0].update(strides=[10 ** 9]),
    lambda h: h["tensors"][0].update(dtype="object"),
    lambda h: h.update(object=["eval", "__import__('os')"]),   # unknown node type
    lambda h: h.update(object=["tensor", 5]),
    lambda h: h.update(object=["int", "12"]),
])
def test_forged_headers_are_rejected(edit):
    with pytest.raises(RuntimeError, match="truncated or corrupted"):
        torch.load(_forge(edit))


def test_load_accepts_torch_keywords(tmp_path):
    path = tmp_path / "x.pt"
    torch.save([torch.ones(1)], path)
    assert torch.load(path, map_location="cpu", weights_only=True)[0].tolist() == [1.0]
    assert torch.load(path, weights_only=False)[0].tolist() == [1.0]
