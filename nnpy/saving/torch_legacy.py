"""Read a PyTorch state dict saved in the legacy (non-zip, before PyTorch 1.6) `.pth` format,
without PyTorch and without unpickling arbitrary objects.

A `.pth` file is a pickle, and unpickling runs whatever functions the file names: a file that
names `os.system` runs a command. So this reader's unpickler knows only the handful of names a
state dict needs (an OrderedDict, typed storages, PyTorch's tensor-rebuild function) and maps them
to harmless stand-ins of its own; a file naming anything else is refused before it can run.

The legacy layout, one after another in the file:

    pickle    magic number 0x1950a86a20f9469cfc6c
    pickle    protocol version 1001
    pickle    system info {"little_endian": ..., "type_sizes": ...}
    pickle    the object (here an OrderedDict of tensors); each storage is a persistent id
              ("storage", StorageType, key, location, element count, view_metadata)
    pickle    the storage keys, in the order their bytes follow
    per key   little-endian int64 element count, then the raw little-endian elements

    state = read_torch_legacy("efficientnet-lite0.pth")   # {name: np.ndarray}
"""

import collections
import io
import pickle
import struct
from pathlib import Path

import numpy as np

from ..errors import ModelFormatError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

# PyTorch's legacy typed storages and the NumPy dtype of their elements
STORAGE_DTYPES = {
    "DoubleStorage": np.dtype("<f8"), "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"), "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"), "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"), "ByteStorage": np.dtype("u1"), "BoolStorage": np.dtype("?"),
}


class _Storage:
    """Stand-in for a typed storage: its dtype and element count; the bytes come later."""

    def __init__(self, dtype, count):
        self.dtype, self.count, self.array = dtype, count, None


class _Tensor:
    """Stand-in for a tensor: a strided view of a storage, made real once the bytes are read."""

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def to_numpy(self):
        flat, itemsize = self.storage.array, self.storage.dtype.itemsize
        end = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride)) + 1
        if any(n == 0 for n in self.shape):
            return np.zeros(self.shape, self.storage.dtype)
        if self.offset < 0 or min(self.stride, default=0) < 0 or end > len(flat):
            raise ModelFormatError(f"a tensor of shape {self.shape} reads past its storage "
                                   f"({len(flat)} elements)")
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:], self.shape, [s * itemsize for s in self.stride], writeable=False)
        return np.array(view)  # a copy that owns its memory


def _rebuild_tensor_v2(storage, offset, shape, stride, requires_grad=False, hooks=None,
                       metadata=None):
    if not isinstance(storage, _Storage):
        raise ModelFormatError("a tensor in the file is not built on a storage")
    return _Tensor(storage, int(offset), tuple(int(n) for n in shape),
                   tuple(int(s) for s in stride))


class _StorageType:
    def __init__(self, name):
        self.name = name


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals a state dict needs; anything else is refused before it runs."""

    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise ModelFormatError(
            f"refused: the file names {module}.{name}, which a PyTorch state dict does not "
            "need (a pickle that names other functions can run code); only tensors are read")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and isinstance(pid[4], int) and pid[4] >= 0):
            raise ModelFormatError(f"unexpected persistent id in the file: {str(pid)[:80]}")
        key = pid[2]
        if key not in self.storages:
            self.storages[key] = _Storage(STORAGE_DTYPES[pid[1].name], pid[4])
        return self.storages[key]


def _plain_pickle(file):
    """One of the small header pickles: plain data only, no globals at all."""
    return _RestrictedUnpickler(file, {}).load()


def read_torch_legacy(source):
    """{name: np.ndarray} from a legacy `.pth` state dict (a path or bytes); ModelFormatError
    when the file is not one, or names anything but tensors."""
    data = source if isinstance(source, (bytes, bytearray, memoryview)) else Path(source).read_bytes()
    file = io.BytesIO(bytes(data))
    try:
        if _plain_pickle(file) != MAGIC_NUMBER or _plain_pickle(file) != PROTOCOL_VERSION:
            raise ModelFormatError("not a legacy PyTorch file (wrong magic number or protocol); "
                                   "a zip-format .pth is read by other tools")
        info = _plain_pickle(file)
        if not (isinstance(info, dict) and info.get("little_endian") is True):
            raise ModelFormatError("the file was saved on a big-endian machine; not supported")
        storages = {}
        state = _RestrictedUnpickler(file, storages).load()
        keys = _plain_pickle(file)
    except ModelFormatError:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged pickle fails in many ways: one error
        raise ModelFormatError(f"the .pth file is damaged ({type(error).__name__}: {error})") from None
    if not isinstance(state, dict) or not isinstance(keys, list) or set(keys) != set(storages):
        raise ModelFormatError("the file does not hold a state dict of tensors")
    for key in keys:
        storage = storages[key]
        header = file.read(8)
        if len(header) != 8 or struct.unpack("<q", header)[0] != storage.count:
            raise ModelFormatError(f"storage {key}: its element count does not match the pickle")
        raw = file.read(storage.count * storage.dtype.itemsize)
        if len(raw) != storage.count * storage.dtype.itemsize:
            raise ModelFormatError(f"storage {key} is truncated")
        storage.array = np.frombuffer(raw, storage.dtype)
    tensors = {}
    for name, tensor in state.items():
        if not isinstance(name, str) or not isinstance(tensor, _Tensor):
            raise ModelFormatError(f"entry {str(name)[:60]} is not a tensor")
        tensors[name] = tensor.to_numpy()
    return tensors
