"""Model files: safetensors read and written by plain Python + NumPy.

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
import json
import os

import numpy as np

from nnpy.errors import ModelFormatError

MAX_HEADER_BYTES = 100_000_000  # the official implementation's limit
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


# --------------------------------------------------------------------------- encoding


def encode_safetensors(tensors, metadata=None):
    """Serialise `{name: array}` (+ optional `{str: str}` metadata) to safetensors bytes."""
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


def decode_safetensors(data):
    """Parse safetensors bytes into `({name: writable array}, {str: str} metadata)`.

    Raises ModelFormatError, and only that, for any malformed input.
    """
    view = memoryview(data).cast("B")
    header = _parse_header(view)
    metadata = _parse_metadata(header.pop("__metadata__", None))
    entries = {name: _parse_entry(name, entry) for name, entry in header.items()}
    data_start = 8 + int.from_bytes(view[:8], "little")
    _check_layout(entries, len(view) - data_start)
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
    try:
        header = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except RecursionError:
        raise ModelFormatError("the safetensors header is JSON nested too deeply to be real") from None
    except ValueError as err:
        raise ModelFormatError(
            f"the safetensors header is not valid JSON ({err}); the file is damaged"
        ) from None
    if not isinstance(header, dict):
        raise ModelFormatError(
            f"the safetensors header must be a JSON object, found {type(header).__name__}"
        )
    return header


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
            f"tensor {name!r} has shape {_short(shape)}; a shape is a list of non-negative integers"
        )
    if len(shape) > MAX_DIMENSIONS:
        raise ModelFormatError(
            f"tensor {name!r} has {len(shape)} dimensions; nnpy reads at most {MAX_DIMENSIONS}"
        )
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_count, offsets))):
        raise ModelFormatError(
            f"tensor {name!r} has data_offsets {_short(offsets)}; expected [begin, end] "
            f"with non-negative integers"
        )
    begin, end = offsets
    if begin > end:
        raise ModelFormatError(f"tensor {name!r} has data_offsets [{begin}, {end}] with begin > end")
    expected = _byte_count(shape, _ITEMSIZE[dtype])
    if expected is None:
        raise ModelFormatError(
            f"tensor {name!r} has the absurd shape {_short(shape)} (over 2**64 bytes of {dtype}); "
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
    """Bytes needed by `shape`, or None past 2**64: huge shapes cost no time and no memory."""
    if 0 in shape:
        return 0
    total = itemsize
    for dim in shape:
        total *= dim
        if total > 2**64:
            return None
    return total


def _short(value):
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
    _write_atomically(path, encode_safetensors(tensors, metadata))


def read_safetensors(source):
    """Decode a safetensors file given as a path or as bytes; see `decode_safetensors`."""
    with _errors_name_the_file(source):
        return decode_safetensors(_source_bytes(source))


def _source_bytes(source):
    if isinstance(source, (bytes, bytearray, memoryview)):
        return source
    return _read_file(os.fspath(source))


@contextlib.contextmanager
def _errors_name_the_file(source):
    """Prefix ModelFormatErrors with the file's path, so the message says which file is bad."""
    try:
        yield
    except ModelFormatError as err:
        if not isinstance(source, (bytes, bytearray, memoryview)):
            err.args = (f"{os.fspath(source)}: {err}",)
        raise


def _write_atomically(path, data):
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


# --------------------------------------------------------------------------- whole models

FORMAT_VERSION = 1  # bump when a reader of the old format could no longer load the new one
OPTIMIZER_PREFIX = "optimizer."


def model_to_bytes(model, include_optimizer=False):
    """The model as .safetensors bytes: weights + buffers as tensors, architecture as metadata."""
    tensors = dict(model.state_dict())
    if include_optimizer and model.optimizer is not None:
        optimizer_state = model.optimizer.state_dict()
        tensors.update({OPTIMIZER_PREFIX + name: value for name, value in optimizer_state.items()})
    metadata = {"nnpy.format": str(FORMAT_VERSION), "nnpy.config": json.dumps(model.get_config())}
    if model.labels is not None:
        metadata["nnpy.labels"] = json.dumps(list(model.labels))
    if model.input_spec is not None:
        metadata["nnpy.input"] = json.dumps(model.input_spec)
    return encode_safetensors(tensors, metadata)


def save_model(model, path, include_optimizer=False):
    """Save atomically: if saving fails, the model previously at `path` still loads."""
    _write_atomically(path, model_to_bytes(model, include_optimizer))


def load_model(source):
    """Rebuild a model saved by `save_model` from its path or bytes.

    Raises ModelFormatError naming the file, tensor or layer when the file does not describe a
    complete, consistent nnpy model.
    """
    with _errors_name_the_file(source):
        tensors, metadata = decode_safetensors(_source_bytes(source))
        _check_format_version(metadata)
        model = _rebuild(_json_metadata(metadata, "nnpy.config", "the model architecture"))
        weights = {k: v for k, v in tensors.items() if not k.startswith(OPTIMIZER_PREFIX)}
        model.load_state_dict(_matched_state(model, weights))
        model.labels = _labels(metadata)
        model.input_spec = _input_spec(metadata)
        optimizer_state = {k.removeprefix(OPTIMIZER_PREFIX): v for k, v in tensors.items()
                           if k.startswith(OPTIMIZER_PREFIX)}
        if optimizer_state and model.optimizer is not None:
            _load_optimizer_state(model.optimizer, optimizer_state)
        return model


def _check_format_version(metadata):
    version = metadata.get("nnpy.format")
    if version is None:
        raise ModelFormatError(
            "this safetensors file has no 'nnpy.format' metadata, so it holds weights but no "
            "nnpy model; build the model yourself and use nnpy.io.load_weights_by_name"
        )
    if not (version.isascii() and version.isdigit() and len(version) < 10 and int(version) > 0):
        raise ModelFormatError(f"'nnpy.format' is {_short(version)}, not a format version number")
    if int(version) > FORMAT_VERSION:
        raise ModelFormatError(
            f"this model was saved in nnpy file format {version}, newer than the format "
            f"{FORMAT_VERSION} this nnpy reads: upgrade nnpy (pip install --upgrade nnpy)"
        )


def _json_metadata(metadata, key, meaning):
    if key not in metadata:
        raise ModelFormatError(f"the file lacks {key!r} metadata ({meaning}); re-save the model")
    try:
        return json.loads(metadata[key])
    except (ValueError, RecursionError) as err:
        raise ModelFormatError(f"{key!r} metadata ({meaning}) is not valid JSON: {err}") from None


def _rebuild(config):
    from nnpy.model import Sequential  # imported here: nnpy.model imports this module

    if not isinstance(config, dict):
        raise ModelFormatError(f"'nnpy.config' must be a JSON object, found {type(config).__name__}")
    try:
        return Sequential.from_config(config)
    except Exception as err:
        where = _broken_layer(Sequential, config)
        raise ModelFormatError(
            f"cannot rebuild the saved architecture{where}: {type(err).__name__}: {err}"
        ) from err


def _broken_layer(Sequential, config):
    """Where a rebuild fails: ' at layer i (Class)' for the first failing layer, found by
    rebuilding ever longer prefixes of the layer list, else the model-wide settings."""
    entries = config.get("layers")
    if not isinstance(entries, list):
        return " (its 'layers' entry must be a list)"
    for count in range(len(entries) + 1):
        try:
            Sequential.from_config({**config, "layers": entries[:count], "compile": None})
        except Exception:  # noqa: BLE001 - whatever the failure, this prefix is where it starts
            if count == 0:
                return " (in its settings: name, seed, input_shape)"
            entry = entries[count - 1]
            what = entry.get("class_name") if isinstance(entry, dict) else "not a JSON object"
            return f" at layer {count - 1} ({what})"
    return " (in its compile settings: optimizer, loss, metrics)"


def _matched_state(model, tensors):
    """The file's weights for `model`: none missing, none extra, every shape right."""
    expected = model.state_dict()
    missing = [name for name in expected if name not in tensors]
    if missing:
        raise ModelFormatError(
            f"the file lacks {_listing(_with_layer(model, name) for name in missing)}; it was "
            f"saved from a different architecture or is damaged"
        )
    extra = [name for name in tensors if name not in expected]
    if extra:
        raise ModelFormatError(
            f"the file holds tensors the architecture has no place for: {_listing(extra)}; "
            f"its weights do not belong to its 'nnpy.config'"
        )
    return _cast_to_fit(model, tensors, remedy="the weights do not fit the file's own architecture")


def _cast_to_fit(model, tensors, remedy):
    """`tensors` cast to the model's dtypes, once every shape is checked to match."""
    expected = model.state_dict()
    wrong = [name for name in expected if tensors[name].shape != expected[name].shape]
    if wrong:
        details = (f"{_with_layer(model, name)} is {tensors[name].shape} in the file but the "
                   f"model needs {expected[name].shape}" for name in wrong)
        raise ModelFormatError(f"shape mismatch: {_listing(details)}; {remedy}")
    return {name: tensors[name].astype(expected[name].dtype, copy=False) for name in expected}


def _with_layer(model, name):
    index = int(name.split(".")[0])
    layer = model.layers[index]
    return f"{name!r} (layer {index}, {type(layer).__name__} {layer.name!r})"


def _listing(items, limit=5):
    items = list(items)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(str(item) for item in items[:limit]) + more


def _labels(metadata):
    if "nnpy.labels" not in metadata:
        return None
    labels = _json_metadata(metadata, "nnpy.labels", "the class names")
    if not (isinstance(labels, list) and all(isinstance(label, str) for label in labels)):
        raise ModelFormatError(f"'nnpy.labels' must be a JSON list of strings, got {_short(labels)}")
    return labels


def _input_spec(metadata):
    if "nnpy.input" not in metadata:
        return None
    spec = _json_metadata(metadata, "nnpy.input", "how to prepare an input")
    if not isinstance(spec, dict):
        raise ModelFormatError(f"'nnpy.input' must be a JSON object, got {_short(spec)}")
    return spec


def _load_optimizer_state(optimizer, state):
    try:
        optimizer.load_state_dict(state)
    except Exception as err:
        raise ModelFormatError(
            f"the saved optimizer state does not fit {type(optimizer).__name__}: {err}; "
            f"load the model and compile it again to start the optimizer afresh"
        ) from err


# --------------------------------------------------------------------------- weights from elsewhere


def load_weights_by_name(model, source, name_map=None):
    """Fill a built model from any safetensors file, e.g. weights trained with PyTorch.

    `name_map` says which file tensor fills which model tensor:
    - None: the names are the same;
    - a dict {file name: model name}: only the listed tensors are read;
    - a callable (file name, array) -> (model name, array), or None to skip that tensor; this is
      where layouts are converted, e.g. with `torch_to_nnpy`:

          names = {"0.weight": "0.kernel", "0.bias": "0.bias"}
          load_weights_by_name(model, "torch.safetensors",
                               lambda name, array: (names[name], torch_to_nnpy(name, array)))

    Every model tensor must be filled, so a half-loaded model never passes silently.
    Returns the model.
    """
    with _errors_name_the_file(source):
        tensors, _ = decode_safetensors(_source_bytes(source))
        state = model.state_dict()
        if not state:
            raise ValueError("the model has no tensors to fill yet: call model.build(input_shape)")
        renamed = _renamed(tensors, name_map)
        unknown = [name for name in renamed if name not in state]
        if unknown:
            raise ModelFormatError(
                f"the file (after name_map) holds {_listing(unknown)}, which the model lacks; "
                f"its tensors are {_listing(state, limit=20)}"
            )
        missing = [_with_layer(model, name) for name in state if name not in renamed]
        if missing:
            raise ModelFormatError(
                f"nothing in the file fills {_listing(missing)}; map a file tensor to each "
                f"(or build a model with exactly the file's tensors)"
            )
        remedy = "PyTorch Linear and Conv2d weights need nnpy.io.torch_to_nnpy in name_map"
        model.load_state_dict(_cast_to_fit(model, renamed, remedy))
        return model


def _renamed(tensors, name_map):
    """{model name: array} from the file's tensors, following `name_map`."""
    if name_map is None:
        return tensors
    if isinstance(name_map, dict):
        absent = [name for name in name_map if name not in tensors]
        if absent:
            raise ModelFormatError(f"the file has no tensor {_listing(absent)} (a name_map key)")
        pairs = ((model_name, tensors[name]) for name, model_name in name_map.items())
    else:
        pairs = filter(None, (name_map(name, array) for name, array in tensors.items()))
    renamed = {}
    for model_name, array in pairs:
        if model_name in renamed:
            raise ModelFormatError(f"name_map sends two file tensors to {model_name!r}")
        renamed[model_name] = np.asarray(array)
    return renamed


def torch_to_nnpy(name, array):
    """One PyTorch tensor in nnpy's layout, judged by its name and rank.

    PyTorch puts output channels first: Linear weight (out, in), Conv2d weight (out, in, kh, kw).
    nnpy follows Keras and puts them last: Dense kernel (in, out), Conv2D kernel (kh, kw, in, out).
    Biases and BatchNorm vectors have the same layout in both, so they pass through unchanged.
    """
    array = np.asarray(array)
    if name.endswith("weight") and array.ndim >= 2:
        spatial = range(2, array.ndim)
        array = array.transpose(*spatial, 1, 0)  # (out, in, *k) -> (*k, in, out)
    return array.copy(order="C")
