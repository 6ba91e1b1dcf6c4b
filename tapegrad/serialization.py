"""torch.save / torch.load: tensors, state dicts and nested containers of plain values.

Note [Checkpoint format]
A checkpoint is a ZIP archive (stored, not compressed) with three kinds of entries:

  archive/format      the text "tapegrad-checkpoint 1"
  archive/data.json   the object as a tree of tagged JSON nodes (see `_encode`), tensors
                      referring to entries of a table of tensor records (dtype, shape, strides
                      and byte offset into a storage, requires_grad, Parameter or not)
  archive/data/<k>    the raw bytes of storage k

Why not pickle, as torch does: unpickling runs whatever callables the file names, so loading
an untrusted pickle can execute code; torch fences this off with a restricted unpickler
(weights_only). Here the file is data only: JSON is parsed into dicts, lists, strings and
numbers, each node's tag is looked up in a fixed table of constructors (none of which runs
code named by the file), and tensors are rebuilt by `numpy.ndarray(shape, dtype, buffer,
offset, strides)` over bytes read from the archive, NumPy itself checking that the view stays
inside the buffer. So loading is safe by construction, whatever `weights_only` says.
The price: arbitrary Python objects (a whole nn.Module, an optimizer object) cannot be saved;
`save` says so and points to `state_dict()`, which is what torch recommends saving anyway.

Storage sharing: tensors whose arrays lie in one NumPy buffer (a view and its base, a state
dict's detached parameters and the parameters themselves) are written once and come back
sharing memory; the same tensor object saved twice comes back as one object.

Integrity: ZIP entries carry CRC-32 checksums that are verified on reading, so a truncated or
corrupted file raises RuntimeError (or pickle.UnpicklingError when it is not an archive at all,
as torch raises for a file that is not a checkpoint). Saving to a path writes a temporary file
in the same directory and renames it over the target (`os.replace`, atomic on POSIX and
Windows), so an interrupted save leaves the previous file intact.
"""
from __future__ import annotations

import base64
import io
import json
import os
import pickle
import tempfile
import zipfile
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np

from . import _dtype as D
from ._device import device as _device_cls
from ._size import Size
from ._tensor import Tensor, make

__all__ = ["save", "load"]

_MAGIC = b"tapegrad-checkpoint 1"
_PREFIX = "archive/"
_MAX_DEPTH = 900


# ----------------------------------------------------------------------------- saving
class _Writer:
    """Turns an object into JSON nodes, collecting tensors and the storages they live in."""

    def __init__(self) -> None:
        self.tensors: list[dict] = []
        self.tensor_ids: dict[int, int] = {}
        self.keepalive: list = []
        self.storages: list[np.ndarray] = []
        self.storage_ids: dict[int, int] = {}

    def storage_of(self, a: np.ndarray) -> tuple[int, int, tuple]:
        """(storage index, byte offset, byte strides) of array a inside the storage that holds it.

        The storage is the contiguous array owning a's memory, so views share it; an array over
        foreign memory is copied into a storage of its own.
        """
        root = a
        while isinstance(root.base, np.ndarray):
            root = root.base
        if not (root.base is None and (root.flags.c_contiguous or root.flags.f_contiguous)):
            root = a = np.ascontiguousarray(a)
        key = id(root)
        if key not in self.storage_ids:
            self.storage_ids[key] = len(self.storages)
            self.storages.append(root)
            self.keepalive.append(root)
        offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        return self.storage_ids[key], offset, a.strides

    def tensor_record(self, obj: Any, kind: str) -> int:
        if id(obj) in self.tensor_ids:
            return self.tensor_ids[id(obj)]
        a = obj._data if isinstance(obj, Tensor) else obj
        dt = D._BY_NUMPY.get(a.dtype)
        if dt is None:
            raise pickle.PicklingError(f"Can't save an array of dtype {a.dtype}")
        storage, offset, strides = self.storage_of(a)
        record = {"kind": kind, "storage": storage, "dtype": dt.name, "shape": list(a.shape),
                  "strides": list(strides), "offset": offset,
                  "requires_grad": bool(obj._requires_grad) if isinstance(obj, Tensor) else False}
        index = len(self.tensors)
        self.tensors.append(record)
        self.tensor_ids[id(obj)] = index
        self.keepalive.append(obj)
        return index

    def encode(self, obj: Any, depth: int = 0) -> Any:
        """A JSON-able tagged node for obj."""
        if depth > _MAX_DEPTH:
            raise pickle.PicklingError("object too deeply nested to save")
        d = depth + 1
        if obj is None:
            return ["none"]
        if obj is True or obj is False:
            return ["bool", obj]
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter
            return ["tensor", self.tensor_record(obj, "parameter" if isinstance(obj, Parameter) else "tensor")]
        if isinstance(obj, D.dtype):
            return ["dtype", obj.name]
        if isinstance(obj, _device_cls):
            return ["device", str(obj)]
        if isinstance(obj, Size):
            return ["size", [int(s) for s in obj]]
        if isinstance(obj, np.ndarray):
            return ["tensor", self.tensor_record(obj, "ndarray")]
        if isinstance(obj, np.generic):
            return ["npscalar", self.tensor_record(np.array(obj), "npscalar")]
        if isinstance(obj, int):
            return ["int", int(obj)]
        if isinstance(obj, float):
            return ["float", float(obj).hex()]
        if isinstance(obj, complex):
            return ["complex", obj.real.hex(), obj.imag.hex()]
        if isinstance(obj, str):
            return ["str", str(obj)]
        if isinstance(obj, (bytes, bytearray)):
            return ["bytes" if isinstance(obj, bytes) else "bytearray", base64.b64encode(bytes(obj)).decode("ascii")]
        if isinstance(obj, slice):
            return ["slice", self.encode(obj.start, d), self.encode(obj.stop, d), self.encode(obj.step, d)]
        if isinstance(obj, OrderedDict):
            meta = getattr(obj, "_metadata", None)
            return ["odict", [[self.encode(k, d), self.encode(v, d)] for k, v in obj.items()],
                    None if meta is None else self.encode(meta, d)]
        if type(obj) is dict:
            return ["dict", [[self.encode(k, d), self.encode(v, d)] for k, v in obj.items()]]
        if type(obj) is list:
            return ["list", [self.encode(v, d) for v in obj]]
        if type(obj) is tuple:
            return ["tuple", [self.encode(v, d) for v in obj]]
        if type(obj) in (set, frozenset):
            return [type(obj).__name__, [self.encode(v, d) for v in obj]]
        if isinstance(obj, tuple) and hasattr(type(obj), "_fields"):
            return ["tuple", [self.encode(v, d) for v in obj]]  # namedtuples come back as tuples
        if isinstance(obj, dict):
            return ["dict", [[self.encode(k, d), self.encode(v, d)] for k, v in obj.items()]]
        if isinstance(obj, (list, tuple)):
            return [type(obj).__name__ if type(obj) in (list, tuple) else "list", [self.encode(v, d) for v in obj]]
        hint = " Save its state_dict() instead." if hasattr(obj, "state_dict") else ""
        raise pickle.PicklingError(
            f"Can't save an object of type {type(obj).__module__}.{type(obj).__qualname__}: tapegrad checkpoints "
            "hold tensors, numbers, strings, bytes, None, dtypes, devices and lists/tuples/dicts/sets of them "
            f"(no arbitrary Python objects, so that loading can never run code).{hint}")


def _storage_bytes(root: np.ndarray) -> memoryview:
    flat = root.ravel(order="K")  # no copy for a C- or F-contiguous array
    return memoryview(flat.view(np.uint8) if flat.dtype.itemsize else flat).cast("B")


def _write_archive(fileobj: BinaryIO, writer: _Writer, tree: Any) -> None:
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_PREFIX + "format", _MAGIC)
        header = {"object": tree, "tensors": writer.tensors,
                  "storages": [{"nbytes": int(s.nbytes)} for s in writer.storages],
                  "byteorder": "little" if np.little_endian else "big"}
        zf.writestr(_PREFIX + "data.json", json.dumps(header, separators=(",", ":")))
        for k, root in enumerate(writer.storages):
            with zf.open(f"{_PREFIX}data/{k}", "w", force_zip64=root.nbytes > 2 ** 31) as out:
                out.write(_storage_bytes(root))


def save(obj: Any, f: Any, pickle_module: Any = None, pickle_protocol: int = 2,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:
    """Write obj to f (a path or a binary file object). See Note [Checkpoint format].

    For a path, the file is replaced atomically: a failure part-way leaves any previous file
    untouched.
    """
    writer = _Writer()
    tree = writer.encode(obj)
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                _write_archive(out, writer, tree)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return
    if not hasattr(f, "write"):
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'write'")
    _write_archive(f, writer, tree)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ----------------------------------------------------------------------------- loading
class _Corrupt(Exception):
    pass


def _corrupt_message(what: str) -> str:
    return (f"tapegrad checkpoint failed to load: {what}. The file is likely truncated or corrupted: it may not "
            "have been saved completely, may have been transferred incorrectly, or was modified after saving.")


class _Reader:
    """Rebuilds an object from the JSON tree, checking every node against the fixed table of tags."""

    def __init__(self, header: dict, storages: list) -> None:
        self.records = header["tensors"]
        self.storages = storages
        self.built: dict[int, Any] = {}

    def tensor(self, index: Any) -> Any:
        if not isinstance(index, int) or not 0 <= index < len(self.records):
            raise _Corrupt(f"bad tensor reference {index!r}")
        if index in self.built:
            return self.built[index]
        rec = self.records[index]
        dt = D._BY_NAME.get(rec["dtype"])
        if dt is None:
            raise _Corrupt(f"unknown dtype {rec['dtype']!r}")
        storage = self.storages[rec["storage"]]
        shape = tuple(int(s) for s in rec["shape"])
        strides = tuple(int(s) for s in rec["strides"])
        try:
            array = np.ndarray(shape, dtype=dt.numpy, buffer=storage, offset=int(rec["offset"]), strides=strides)
        except (ValueError, TypeError) as exc:
            raise _Corrupt(f"tensor {index} does not fit its storage ({exc})") from None
        kind = rec["kind"]
        if kind == "ndarray":
            out: Any = array
        elif kind == "npscalar":
            out = array[()]
        else:
            requires_grad = bool(rec["requires_grad"]) and dt.numpy.kind in "fc"
            out = make(array, False, None, 0)
            if kind == "parameter":
                from .nn.parameter import Parameter
                out = Parameter(out, requires_grad=requires_grad)
            else:
                out._requires_grad = requires_grad
        self.built[index] = out
        return out

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise _Corrupt("structure nested too deeply")
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            raise _Corrupt(f"malformed node {str(node)[:60]!r}")
        tag, args, d = node[0], node[1:], depth + 1
        try:
            if tag == "none":
                return None
            if tag in ("bool", "int", "str"):
                value = args[0]
                expected = {"bool": bool, "int": int, "str": str}[tag]
                if type(value) is not expected:
                    raise _Corrupt(f"bad {tag} value")
                return value
            if tag == "float":
                return float.fromhex(args[0])
            if tag == "complex":
                return complex(float.fromhex(args[0]), float.fromhex(args[1]))
            if tag in ("bytes", "bytearray"):
                raw = base64.b64decode(args[0].encode("ascii"), validate=True)
                return raw if tag == "bytes" else bytearray(raw)
            if tag in ("tensor", "npscalar"):
                return self.tensor(args[0])
            if tag == "dtype":
                return D._BY_NAME[args[0]]
            if tag == "device":
                return _device_cls(args[0])
            if tag == "size":
                return Size(int(s) for s in args[0])
            if tag == "slice":
                return slice(*(self.decode(a, d) for a in args[:3]))
            if tag == "list":
                return [self.decode(v, d) for v in args[0]]
            if tag == "tuple":
                return tuple(self.decode(v, d) for v in args[0])
            if tag in ("set", "frozenset"):
                items = [self.decode(v, d) for v in args[0]]
                return set(items) if tag == "set" else frozenset(items)
            if tag in ("dict", "odict"):
                out: Any = {} if tag == "dict" else OrderedDict()
                for k, v in args[0]:
                    out[self.decode(k, d)] = self.decode(v, d)
                if tag == "odict" and args[1] is not None:
                    out._metadata = self.decode(args[1], d)
                return out
        except _Corrupt:
            raise
        except (IndexError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise _Corrupt(f"malformed {tag!r} node ({type(exc).__name__}: {exc})") from None
        raise _Corrupt(f"unknown node type {tag!r}")


def _read_storage(zf: zipfile.ZipFile, name: str, nbytes: int) -> np.ndarray:
    info = zf.getinfo(name)
    if info.file_size != nbytes:
        raise _Corrupt(f"storage {name} has {info.file_size} bytes, expected {nbytes}")
    buf = np.empty(nbytes, dtype=np.uint8)
    view = memoryview(buf)
    with zf.open(info) as src:
        pos = 0
        while pos < nbytes:
            n = src.readinto(view[pos:])
            if not n:
                raise _Corrupt(f"storage {name} ends early")
            pos += n
        if src.read(1):
            raise _Corrupt(f"storage {name} is longer than recorded")
    return buf


def _load_archive(fileobj: BinaryIO) -> Any:
    try:
        with zipfile.ZipFile(fileobj, "r") as zf:
            names = set(zf.namelist())
            if _PREFIX + "format" not in names:
                if any(n.endswith("data.pkl") for n in names):
                    raise pickle.UnpicklingError(
                        "This checkpoint was written by PyTorch's torch.save; tapegrad reads only checkpoints written "
                        "by tapegrad.save (its format holds no pickles, so loading cannot run code).")
                raise _Corrupt("the archive has no tapegrad format record")
            if zf.read(_PREFIX + "format") != _MAGIC:
                raise _Corrupt("unknown checkpoint format version")
            header = json.loads(zf.read(_PREFIX + "data.json").decode("utf-8"))
            if not isinstance(header, dict) or header.get("byteorder") not in ("little", "big"):
                raise _Corrupt("malformed header")
            storages = [_read_storage(zf, f"{_PREFIX}data/{k}", int(s["nbytes"]))
                        for k, s in enumerate(header["storages"])]
            if header["byteorder"] != ("little" if np.little_endian else "big"):
                raise _Corrupt("checkpoint written on a machine of the other byte order")
            return _Reader(header, storages).decode(header["object"])
    except _Corrupt as exc:
        raise RuntimeError(_corrupt_message(str(exc))) from None
    except zipfile.BadZipFile as exc:
        raise RuntimeError(_corrupt_message(f"failed reading zip archive: {exc}")) from None
    except (KeyError, EOFError, UnicodeDecodeError, json.JSONDecodeError, zipfile.LargeZipFile, OSError,
            TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, (EOFError,)) and exc.errno is not None:
            raise
        raise RuntimeError(_corrupt_message(f"{type(exc).__name__}: {exc}")) from None


def load(f: Any, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Read an object written by `save` from a path or a binary file object.

    `map_location` is accepted for compatibility (every tensor loads on the CPU); `weights_only`
    changes nothing, since the format cannot hold code (see Note [Checkpoint format]).
    """
    if isinstance(f, (str, os.PathLike)):
        with open(os.fspath(f), "rb") as fh:
            return _load_from_file(fh)
    return _load_from_file(f)


def _load_from_file(fh: BinaryIO) -> Any:
    if not (hasattr(fh, "seekable") and fh.seekable()):
        fh = io.BytesIO(fh.read())
    start = fh.tell()
    magic = fh.read(4)
    fh.seek(start)
    if magic != b"PK\x03\x04":
        if not magic:
            raise EOFError("Ran out of input")
        raise pickle.UnpicklingError(
            f"invalid load key, {magic[:1]!r}: this is not a tapegrad checkpoint (expected a ZIP archive written by "
            "tapegrad.save).")
    return _load_archive(fh)
