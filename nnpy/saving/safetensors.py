"""The safetensors file format, read and written by plain Python + NumPy.

Why our own codec: Pyodide has no official `safetensors` package, and pickle is never an option
for files people download. The layout is the standard one, so the official reader in CPython (and
PyTorch / Hugging Face tooling) reads what we write and we read what they write:

    8 bytes   little-endian u64 N = header length
    N bytes   UTF-8 JSON {name: {"dtype", "shape", "data_offsets": [begin, end]},
                          "__metadata__": {str: str}}, padded with spaces to a multiple of 8
    rest      raw little-endian C-order tensor data; offsets count from the start of this part

Reading treats the bytes as untrusted: everything is checked with Python ints before any array is
allocated, and every defect raises `ModelFormatError` with a message a person can act on.
"""

import contextlib
import hashlib
import itertools
import json
import os
import re

import numpy as np

from ..errors import ModelFormatError

MAX_HEADER_BYTES = 100_000_000  # the official implementation's limit
MAX_NESTING = 64  # a real header nests 3 deep, a model config 5
CHECKSUM_KEY = "nnpy.sha256"  # metadata: SHA-256 of the tensor data, when the writer asked for it
MAX_DIMENSIONS = 32  # numpy 1.x cannot build arrays with more axes
_REMEDY = "re-download or re-save the model"

# safetensors dtype name -> little-endian NumPy dtype. BF16 is absent: NumPy has no bfloat16, so
# it is only read, widened to float32 (see `_tensor_from_bytes`).
DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_ITEMSIZE = {name: dtype.itemsize for name, dtype in DTYPES.items()} | {"BF16": 2}
_DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}
_MAX_BYTES = int(np.iinfo(np.intp).max)  # the largest array NumPy can make here


# --------------------------------------------------------------------------- encoding


def encode_safetensors(tensors, metadata=None, checksum=False):
    """Serialise `{name: array}` (+ optional `{str: str}` metadata) to safetensors bytes.
    `checksum=True` adds the SHA-256 of the tensor data as "nnpy.sha256" metadata, which
    `decode_safetensors` verifies, so a damaged byte anywhere in the weights is noticed."""
    header, chunks, offset = {}, [], 0
    for name, value in tensors.items():
        array = _little_endian(name, value)
        chunks.append(array.tobytes())
        header[name] = {
            "dtype": _DTYPE_NAMES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    if checksum:
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)
        metadata = {**(metadata or {}), CHECKSUM_KEY: digest.hexdigest()}
    if metadata:
        header["__metadata__"] = _checked_metadata(metadata)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # keeps the data 8-byte aligned
    return b"".join([len(header_bytes).to_bytes(8, "little"), header_bytes, *chunks])


def _little_endian(name, value):
    """`value` as a C-contiguous little-endian array, or a TypeError saying what is supported."""
    if not isinstance(name, str) or name == "__metadata__":
        raise TypeError(f"tensor names must be strings other than '__metadata__', got {name!r}")
    array = np.asarray(value)
    little = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    if little not in _DTYPE_NAMES:
        supported = ", ".join(str(dtype) for dtype in DTYPES.values())
        raise TypeError(f"tensor {name!r} has dtype {array.dtype}; safetensors stores {supported}")
    return array.astype(little, order="C", copy=False)  # np.ascontiguousarray would make 0-d 1-d


def _checked_metadata(metadata):
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("safetensors metadata must map str to str (json.dumps other values)")
    return dict(metadata)


# --------------------------------------------------------------------------- decoding


def decode_safetensors(data, *, data_sha256=None):
    """Parse safetensors bytes into `({name: writable array}, {str: str} metadata)`.

    Raises ModelFormatError, and only that, for any malformed input. A "nnpy.sha256" checksum
    is verified and removed from the metadata (files without one load unchecked).
    `data_sha256`: the hex SHA-256 of the bytes after the header, where the caller has it
    already (the browser worker computes it natively, several times faster than hashlib in
    WebAssembly); it is what the checksum is compared with.
    """
    view = memoryview(data).cast("B")
    header = _parse_header(view)
    metadata = _parse_metadata(header.pop("__metadata__", None))
    entries = {name: _parse_entry(name, entry) for name, entry in header.items()}
    data_start = 8 + int.from_bytes(view[:8], "little")
    _check_layout(entries, len(view) - data_start)
    _verify_checksum(metadata.pop(CHECKSUM_KEY, None), view[data_start:], data_sha256)
    tensors = {
        name: _tensor_from_bytes(name, view, data_start, dtype, shape, begin, end)
        for name, (dtype, shape, begin, end) in entries.items()
    }
    return tensors, metadata


def _parse_header(view):
    if len(view) < 8:
        raise ModelFormatError(
            f"not a safetensors file: it is {len(view)} bytes long, shorter than the 8-byte "
            f"header length that starts every safetensors file; {_REMEDY}"
        )
    length = int.from_bytes(view[:8], "little")
    if length > MAX_HEADER_BYTES:
        raise ModelFormatError(
            f"not a safetensors file: its header claims {length} bytes, over the "
            f"{MAX_HEADER_BYTES}-byte size cap (is this really a .safetensors file?)"
        )
    if length > len(view) - 8:
        raise ModelFormatError(
            f"the header length ({length} bytes) is larger than the file ({len(view)} bytes): "
            f"the file is truncated or not a safetensors file; {_REMEDY}"
        )
    try:
        text = bytes(view[8 : 8 + length]).decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelFormatError(
            f"the safetensors header is not UTF-8 text ({err.reason} at byte {8 + err.start}); "
            f"the file is damaged or not a safetensors file"
        ) from None
    header = parse_json(text, "the safetensors header", _reject_duplicate_keys)
    if not isinstance(header, dict):
        raise ModelFormatError(
            f"the safetensors header must be a JSON object, found {type(header).__name__}"
        )
    return header


# A JSON string, or an unterminated one running to the end of the text (which JSON refuses
# anyway): so a match always ends the scan of its quote and the regex stays linear, where
# retrying from each escaped quote of an unterminated string would take quadratic time.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
# What a byte does to the nesting depth (+1 opens, -1 closes), and the bytes that are no bracket.
# In builtins rather than NumPy: a page's first model load would compile NumPy's indexing and
# cumsum code for this alone (~12 ms in the browser), and a stream of steps needs no array.
_NESTING_STEP = tuple((byte in b"[{") - (byte in b"]}") for byte in range(256))
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def parse_json(text, what, object_pairs_hook=None):
    """`json.loads(text)` for untrusted text (a header, or JSON held in a metadata string),
    ModelFormatError naming `what` if it is not JSON or nests deeper than MAX_NESTING.

    The nesting is measured before parsing. Why not rely on RecursionError: in a browser worker
    Python's JSON parser overflows the JavaScript stack on deep nesting (a fatal crash) before
    Python notices. Brackets inside JSON strings do not nest, so strings are cut out first: an
    escaped "\\u005b" in a metadata string is a bracket only once that string is parsed in turn,
    which is why every JSON metadata value goes through here too."""
    brackets = _JSON_STRING.sub("", text).encode("ascii", "ignore").translate(None, _NOT_BRACKETS)
    if brackets and max(itertools.accumulate(map(_NESTING_STEP.__getitem__, brackets))) > MAX_NESTING:
        raise ModelFormatError(
            f"{what} is JSON nested more than {MAX_NESTING} levels deep (a real one nests at "
            f"most 5): the file is damaged or not a model; {_REMEDY}")
    try:
        return json.loads(text, object_pairs_hook=object_pairs_hook)
    except RecursionError:
        raise ModelFormatError(f"{what} is JSON nested too deeply to be real") from None
    except ModelFormatError:  # from object_pairs_hook: already says what is wrong
        raise
    except ValueError as err:
        raise ModelFormatError(f"{what} is not valid JSON ({err}); the file is damaged") from None


def _verify_checksum(expected, data, known=None):
    if expected is None:
        return
    if (known if known is not None else hashlib.sha256(data).hexdigest()) != expected:
        raise ModelFormatError(
            f"the file is damaged: its tensor data does not match the SHA-256 checksum saved "
            f"with it ({CHECKSUM_KEY}), so some bytes changed after it was written; {_REMEDY}")


def _reject_duplicate_keys(pairs):
    """A repeated name would silently shadow a tensor; json.loads would keep only the last one."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise ModelFormatError(f"the safetensors header names {key!r} twice")
        result[key] = value
    return result


def _parse_metadata(metadata):
    if metadata is None:  # the official reader accepts a null or absent __metadata__
        return {}
    if not isinstance(metadata, dict):
        raise ModelFormatError(
            f"__metadata__ must be a JSON object of strings, found {type(metadata).__name__}"
        )
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise ModelFormatError(
                f"__metadata__[{key!r}] must be a string, found {type(value).__name__}"
            )
    return metadata


def _parse_entry(name, entry):
    """Check one header entry; return (dtype name, shape tuple, begin, end)."""
    if not isinstance(entry, dict):
        raise ModelFormatError(
            f"header entry for tensor {name!r} must be an object with dtype, shape and "
            f"data_offsets, found {type(entry).__name__}"
        )
    missing = [key for key in ("dtype", "shape", "data_offsets") if key not in entry]
    if missing:
        raise ModelFormatError(f"header entry for tensor {name!r} lacks {', '.join(missing)}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in _ITEMSIZE:
        known = ", ".join(_ITEMSIZE)
        raise ModelFormatError(f"tensor {name!r} has unknown dtype {dtype!r}; nnpy reads {known}")
    if not (isinstance(shape, list) and all(_is_count(d) for d in shape)):
        raise ModelFormatError(
            f"tensor {name!r} has shape {short_repr(shape)}; a shape is a list of non-negative integers"
        )
    if len(shape) > MAX_DIMENSIONS:
        raise ModelFormatError(
            f"tensor {name!r} has {len(shape)} dimensions; nnpy reads at most {MAX_DIMENSIONS}"
        )
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_count, offsets))):
        raise ModelFormatError(
            f"tensor {name!r} has data_offsets {short_repr(offsets)}; expected [begin, end] "
            f"with non-negative integers"
        )
    begin, end = offsets
    if begin > end:
        raise ModelFormatError(f"tensor {name!r} has data_offsets [{begin}, {end}] with begin > end")
    expected = _byte_count(shape, _ITEMSIZE[dtype])
    if expected is None:
        raise ModelFormatError(
            f"tensor {name!r} has the absurd shape {short_repr(shape)} (more bytes of {dtype} than "
            f"this platform can index, counting the nonzero dimensions); "
            f"the file is damaged or not a safetensors file"
        )
    if expected != end - begin:
        raise ModelFormatError(
            f"tensor {name!r}: shape {shape} of {dtype} needs {expected} bytes but "
            f"data_offsets [{begin}, {end}] hold {end - begin} bytes"
        )
    return dtype, tuple(shape), begin, end


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _byte_count(shape, itemsize):
    """Bytes needed by `shape`, or None for a shape NumPy cannot make: its nonzero dimensions
    (all of them count, even in an empty array) hold more bytes than an index can count (2**63
    in CPython, 2**31 in the 32-bit browser). Python ints: huge shapes cost no time or memory."""
    total = itemsize
    for dim in shape:
        total *= max(dim, 1)
        if total > _MAX_BYTES:
            return None
    return 0 if 0 in shape else total


def short_repr(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_layout(entries, available):
    """Tensor byte ranges must tile the data section exactly: no overlap, hole or missing byte."""
    ranges = sorted((begin, end, name) for name, (_, _, begin, end) in entries.items())
    needed = max((end for _, end, _ in ranges), default=0)
    if needed > available:
        raise ModelFormatError(
            f"the file is truncated: expected {needed} bytes of tensor data, found {available} "
            f"— {_REMEDY}"
        )
    position = 0
    for begin, end, name in ranges:
        if begin < position:
            raise ModelFormatError(
                f"tensor {name!r} overlaps the tensor stored before it (data_offsets start at "
                f"{begin}, previous tensor ends at {position}); the file is damaged, {_REMEDY}"
            )
        if begin > position:
            raise ModelFormatError(
                f"tensor data has a hole: bytes {position}..{begin} belong to no tensor "
                f"(before {name!r}); the file is damaged, {_REMEDY}"
            )
        position = end
    if position != available:
        raise ModelFormatError(
            f"the file has {available - position} bytes after the last tensor that no header "
            f"entry describes; the file is damaged, {_REMEDY}"
        )


def _tensor_from_bytes(name, view, data_start, dtype, shape, begin, end):
    """A writable copy of one tensor (the input buffer may be read-only or reused)."""
    start = data_start + begin
    if dtype == "BF16":  # bfloat16 is the top half of a float32
        raw = np.frombuffer(view, dtype="<u2", count=(end - begin) // 2, offset=start)
        return (raw.astype(np.uint32) << 16).view(np.float32).reshape(shape)
    raw = np.frombuffer(view, dtype=DTYPES[dtype], count=(end - begin) // _ITEMSIZE[dtype],
                        offset=start)
    if dtype == "BOOL" and raw.view(np.uint8).max(initial=0) > 1:
        raise ModelFormatError(f"tensor {name!r} is BOOL but holds bytes other than 0 and 1")
    return raw.astype(raw.dtype.newbyteorder("="), copy=True).reshape(shape)


# --------------------------------------------------------------------------- files


def save_safetensors(path, tensors, metadata=None):
    """Write a safetensors file atomically: a crash or error mid-save leaves the old file intact."""
    write_atomically(path, encode_safetensors(tensors, metadata))


def read_safetensors(source):
    """Decode a safetensors file given as a path or as bytes; see `decode_safetensors`."""
    with errors_name_the_file(source):
        return decode_safetensors(source_bytes(source))


def source_bytes(source):
    if isinstance(source, (bytes, bytearray, memoryview)):
        return source
    return _read_file(os.fspath(source))


@contextlib.contextmanager
def errors_name_the_file(source):
    """Prefix ModelFormatErrors with the file's path, so the message says which file is bad."""
    try:
        yield
    except ModelFormatError as err:
        if not isinstance(source, (bytes, bytearray, memoryview)):
            err.args = (f"{os.fspath(source)}: {err}",)
        raise


def write_atomically(path, data):
    """Write beside the target, fsync, then rename over it (rename is atomic on one filesystem)."""
    path = os.fspath(path)
    temporary = f"{path}.tmp-{os.urandom(4).hex()}"
    try:
        with open(temporary, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _read_file(path):
    """Read a whole file; an OSError keeps its type but says what to do about it."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as err:
        message = f"cannot read model file: {err.strerror}; {_read_hint(err)}"
        raise type(err)(err.errno, message, path) from err


def _read_hint(err):
    if isinstance(err, IsADirectoryError):
        return "that is a folder; pass the path of the .safetensors file inside it"
    if isinstance(err, PermissionError):
        return "this process may not read it; check the file's permissions"
    if isinstance(err, FileNotFoundError):
        return f"check the path (relative paths start at {os.getcwd()!r})"
    return "check that it is a readable file"
