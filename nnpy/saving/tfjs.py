"""TF.js layers models: `model.json` (a Keras architecture and a manifest of the weights) and
binary weight shards, read into an nnpy model and written from one.

    model = nnpy.load_model("model.json")   # the shards (and a metadata.json) beside it

(tfjs_writer.py writes them.) The architecture becomes one `nnpy.Model` graph — nested Sequential and functional
models are opened up into it — with each Keras layer mapped to its nnpy twin (keras_layers.py).
Weights are float32 or quantised as tensorflowjs_converter writes them: uint8/uint16 with
`scale` and `min` (value = q * scale + min) or float16. A Teachable Machine export's
`metadata.json` gives the labels and the input size and range. Every malformed input raises
ModelFormatError, never another exception.
"""

import json
import os

import numpy as np

from .. import layers
from ..errors import ModelFormatError
from ..layers.base import Node
from .keras_layers import check_channel_axis, layer_from_keras
from .model_file import MODELS  # the model classes register there (they import saving)
from .safetensors import short_repr

# manifest dtype -> (NumPy dtype of the stored values); quantised weights name theirs apart
STORED = {"float32": "<f4", "int32": "<i4", "uint8": "u1", "uint16": "<u2", "float16": "<f2"}
MODEL_CLASSES = ("Sequential", "Model", "Functional")
TEACHABLE_SCALE = [-1.0, 255 / 127 - 1]  # Teachable Machine feeds pixels / 127 - 1


# --------------------------------------------------------------------------- reading


def load_tfjs(path):
    """The model in the TF.js `model.json` at `path`, its shards read from beside it."""
    directory = os.path.dirname(os.fspath(path))
    files = {}

    def read(name):
        if name not in files:
            target = os.path.join(directory, name)
            try:
                with open(target, "rb") as file:
                    files[name] = file.read()
            except OSError as err:
                raise ModelFormatError(f"cannot read the weight shard {name!r} "
                                       f"({err.strerror}); keep it beside model.json") from None
        return files[name]

    with open(path, "rb") as file:
        model_json = file.read()
    metadata = None
    metadata_path = os.path.join(directory, "metadata.json")
    if os.path.exists(metadata_path):
        with open(metadata_path, "rb") as file:
            metadata = file.read()
    return read_tfjs(model_json, read, metadata)


def read_tfjs(model_json, shards, metadata=None):
    """An nnpy model from a TF.js layers model.

    model_json: its bytes, text or parsed dict; shards: {path: bytes} or a function path -> bytes;
    metadata: a Teachable Machine `metadata.json` (bytes, text or dict) or None.
    """
    document = _json(model_json, "model.json")
    if not isinstance(document, dict):
        raise ModelFormatError("model.json must be a JSON object")
    topology = document.get("modelTopology")
    if isinstance(topology, dict) and "model_config" in topology:
        topology = topology["model_config"]  # as tensorflowjs_converter writes Keras models
    if not (isinstance(topology, dict) and topology.get("class_name") in MODEL_CLASSES):
        raise ModelFormatError("model.json has no 'modelTopology' describing a Keras Sequential "
                               "or functional model (is it a TF.js graph model? nnpy reads "
                               "layers models only)")
    weights = _read_weights(document.get("weightsManifest"), shards)
    try:
        model = _build(topology, weights)
    except RecursionError:
        raise ModelFormatError("the model's layers are nested too deeply") from None
    if metadata is not None:
        _apply_metadata(model, _json(metadata, "metadata.json"))
    return model


def _json(source, what):
    if isinstance(source, (dict, list)):
        return source
    try:
        return json.loads(bytes(source) if isinstance(source, (bytearray, memoryview)) else source)
    except (ValueError, TypeError, RecursionError) as err:
        raise ModelFormatError(f"{what} is not valid JSON: {err}") from None


def _read_weights(manifest, shards):
    """{weight name: float32 array} from the manifest's groups, each group's shards read in order
    and cut into weights; the sizes must add up to the shards' bytes exactly."""
    if not isinstance(manifest, list):
        raise ModelFormatError("model.json has no 'weightsManifest' list")
    read = shards if callable(shards) else lambda name: _shard(shards, name)
    weights = {}
    for number, group in enumerate(manifest):
        if not (isinstance(group, dict) and isinstance(group.get("paths"), list)
                and isinstance(group.get("weights"), list)
                and all(isinstance(p, str) for p in group["paths"])):
            raise ModelFormatError(f"weightsManifest[{number}] must have 'paths' and 'weights' lists")
        data = b"".join(bytes(read(name)) for name in group["paths"])
        offset = 0
        for spec in group["weights"]:
            name, shape, stored, quantization = _weight_spec(spec)
            count = int(np.prod(shape, dtype=np.int64))
            size = count * np.dtype(STORED[stored]).itemsize
            if offset + size > len(data):
                raise ModelFormatError(
                    f"the shards of weightsManifest[{number}] hold {len(data)} bytes, too few for "
                    f"weight {name!r} {shape} at byte {offset}: a shard is missing or truncated")
            values = np.frombuffer(data, STORED[stored], count, offset).reshape(shape)
            offset += size
            weights[name] = _dequantised(name, values, stored, quantization)
        if offset != len(data):
            raise ModelFormatError(
                f"the shards of weightsManifest[{number}] hold {len(data)} bytes but its weights "
                f"take {offset}: the manifest and the shards do not belong together")
    return weights


def _shard(shards, name):
    if name not in shards:
        raise ModelFormatError(f"the weight shard {name!r} named in model.json is missing; "
                               f"given: {sorted(shards)[:10]}")
    return shards[name]


def _weight_spec(spec):
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ModelFormatError(f"a weightsManifest entry has no name: {short_repr(spec)}")
    name, shape, dtype = spec["name"], spec.get("shape"), spec.get("dtype")
    if not (isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool)
                                            and 0 <= d < 2**31 for d in shape)):
        raise ModelFormatError(f"weight {name!r} has shape {short_repr(shape)}, not a list of sizes")
    if np.prod(shape, dtype=np.float64) > 2**31:
        raise ModelFormatError(f"weight {name!r} has shape {shape}, far too large")
    if dtype not in ("float32", "int32"):
        raise ModelFormatError(f"weight {name!r} has dtype {short_repr(dtype)}; nnpy reads "
                               "float32 weights (quantised or not)")
    quantization = spec.get("quantization")
    if quantization is None:
        return name, shape, dtype, None
    stored = quantization.get("dtype") if isinstance(quantization, dict) else None
    if stored not in ("uint8", "uint16", "float16"):
        raise ModelFormatError(f"weight {name!r} is quantised as {short_repr(stored)}; nnpy "
                               "reads uint8, uint16 and float16")
    if stored != "float16" and not all(
            isinstance(quantization.get(key), (int, float)) and not isinstance(quantization.get(key), bool)
            and np.isfinite(quantization[key]) for key in ("scale", "min")):
        raise ModelFormatError(f"weight {name!r} is quantised as {stored} without numeric "
                               "'scale' and 'min'")
    return name, shape, stored, quantization


def _dequantised(name, values, stored, quantization):
    if quantization is None or stored == "float16":
        return values.astype(np.float32)
    # as TF.js computes it: q * scale + min in double precision, then stored as float32
    return (values * float(quantization["scale"]) + float(quantization["min"])).astype(np.float32)


class _Graph:
    """What reading a topology collects: each node's output shape (batch excluded, known before
    any weight is made) and, for each layer with weights, (Keras name, layer, {Keras weight:
    nnpy key}, input shape)."""

    def __init__(self):
        self.shapes = {}
        self.weighted = []


def _build(topology, weights):
    """The nnpy.Model of `topology` holding `weights`. Shapes are checked against the manifest
    before the model is built, so a doctored file cannot make nnpy allocate more memory than the
    shards hold."""
    graph = _Graph()
    inputs = layers.Input(_input_shape(topology))
    graph.shapes[id(inputs)] = inputs.shape
    output = _call_model(topology, inputs, graph)
    if not isinstance(output, Node):
        raise ModelFormatError("the model has no layers after its input")
    matched = _match_weights(graph.weighted, weights)
    name = topology.get("config", {}).get("name") if isinstance(topology.get("config"), dict) else None
    try:
        model = MODELS["Model"](inputs, output, name=name if isinstance(name, str) else "model")
    except (ValueError, TypeError) as err:
        raise ModelFormatError(f"the layers do not fit together: {err}") from None
    for layer, values in matched:
        for key, value in values.items():
            (layer.params if key in layer.params else layer.state)[key] = value
    return model


def _entries(config):
    """The layer list of a Sequential or functional config (old Keras wrote a bare list)."""
    entries = config if isinstance(config, list) else (config or {}).get("layers") \
        if isinstance(config, dict) else None
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("class_name"), str) for e in entries):
        raise ModelFormatError("a model config must list its layers as objects with a class_name")
    return entries


def _input_shape(entry):
    """The input shape (batch excluded) a model or layer entry declares."""
    config = entry.get("config")
    if entry.get("class_name") in MODEL_CLASSES:
        entries = _entries(config)
        if not entries:
            raise ModelFormatError("a model has no layers")
        if entry["class_name"] == "Sequential":
            return _input_shape(entries[0])
        first = _functional_io(config, "input_layers")
        return _input_shape(next((e for e in entries if _name(e) == first), {"config": {}}))
    config = config if isinstance(config, dict) else {}
    shape = config.get("batch_input_shape", config.get("batch_shape"))
    if shape is None:
        raise ModelFormatError(f"the first layer ({_name(entry)!r}) does not declare the input "
                               "shape (batch_input_shape)")
    if not (isinstance(shape, list) and len(shape) >= 2 and all(
            isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**20 for d in shape[1:])):
        raise ModelFormatError(f"the input shape {short_repr(shape)} must be sizes after the "
                               "batch: nnpy runs models with a fixed input size")
    return tuple(shape[1:])


def _name(entry):
    config = entry.get("config")
    name = entry.get("name") or (config.get("name") if isinstance(config, dict) else None)
    if not isinstance(name, str):
        raise ModelFormatError(f"a {entry.get('class_name')} layer has no name")
    return name


def _functional_io(config, key):
    ends = config.get(key) if isinstance(config, dict) else None
    if isinstance(ends, dict):  # Keras 3 writes a single end as [name, 0, 0] without the list
        ends = [ends]
    if isinstance(ends, list) and ends and isinstance(ends[0], str):
        ends = [ends]
    if not (isinstance(ends, list) and len(ends) == 1 and isinstance(ends[0], list)
            and ends[0] and isinstance(ends[0][0], str)):
        raise ModelFormatError(f"nnpy runs models with one input and one output; {key} is "
                               f"{short_repr(ends)}")
    return ends[0][0]


def _call_model(entry, node, graph):
    """The node that a Sequential or functional model `entry` makes of `node`."""
    config = entry.get("config")
    if entry["class_name"] == "Sequential":
        for layer_entry in _entries(config):
            node = _call(layer_entry, node, graph)
        return node
    made = {_functional_io(config, "input_layers"): node}
    pending = [e for e in _entries(config) if e["class_name"] != "InputLayer"]
    while pending:  # Keras lists layers in order already; this also accepts any order
        ready = [e for e in pending if all(source in made for source in _sources(e))]
        if not ready:
            missing = sorted({s for e in pending for s in _sources(e) if s not in made})
            raise ModelFormatError(f"layers read from {missing[:5]}, which no layer makes")
        for layer_entry in ready:
            given = [made[source] for source in _sources(layer_entry)]
            merged = layer_entry["class_name"] in ("Add", "Concatenate")
            made[_name(layer_entry)] = _call(layer_entry, given if merged else given[0], graph)
            pending.remove(layer_entry)
    output = _functional_io(config, "output_layers")
    if output not in made:
        raise ModelFormatError(f"the output layer {output!r} is not among the layers")
    return made[output]


def _sources(entry):
    """The names of the layers feeding a functional layer entry (called once)."""
    nodes = entry.get("inbound_nodes")
    if not isinstance(nodes, list) or len(nodes) != 1:
        raise ModelFormatError(f"layer {_name(entry)!r} is called {short_repr(nodes)} times; "
                               "nnpy imports layers called exactly once (no shared layers)")
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [keras tensors...], "kwargs": {}}
        args = node.get("args") or [[]]
        tensors = args[0] if isinstance(args[0], list) else args
        node = [t.get("config", {}).get("keras_history", [None]) if isinstance(t, dict) else None
                for t in tensors]
    if not (isinstance(node, list) and node and all(
            isinstance(item, list) and item and isinstance(item[0], str) for item in node)):
        raise ModelFormatError(f"layer {_name(entry)!r} has inbound_nodes {short_repr(nodes)}")
    return [item[0] for item in node]


def _call(entry, node, graph):
    class_name = entry["class_name"]
    if class_name in MODEL_CLASSES:
        return _call_model(entry, node, graph)
    if class_name == "InputLayer":
        return node
    layer, weight_keys = layer_from_keras(class_name, entry.get("config"))
    if layer.merges != isinstance(node, list):
        raise ModelFormatError(f"layer {layer.name!r} ({class_name}) is given the wrong number "
                               "of inputs")
    shape = [graph.shapes[id(n)] for n in node] if layer.merges else graph.shapes[id(node)]
    check_channel_axis(class_name, entry.get("config"), shape)
    try:
        output_shape = tuple(layer.compute_output_shape(shape))
    except (ValueError, TypeError, ZeroDivisionError) as err:
        raise ModelFormatError(f"layer {layer.name!r} ({class_name}) cannot take input of "
                               f"shape {shape}: {err}") from None
    if weight_keys:
        graph.weighted.append((layer.name, layer, weight_keys, shape))
    result = layer(node)
    graph.shapes[id(result)] = output_shape
    return result


def _match_weights(weighted, weights):
    """[(layer, {nnpy key: array})]: each layer's weights found by name (`layer/weight`, or
    ending in `/layer/weight` as nested models may scope them), every shape right, every
    manifest weight used."""
    used = set()
    by_suffix = {}
    for name in weights:
        parts = name.split("/")
        for start in range(1, len(parts) - 1):
            by_suffix.setdefault("/".join(parts[start:]), []).append(name)
    matched = []
    for layer_name, layer, keys, shape in weighted:
        try:
            expected = layer.weight_shapes(shape)
        except ValueError as err:  # ShapeError, or a size nnpy refuses to allocate
            raise ModelFormatError(f"layer {layer_name!r}: {err}") from None
        values = {}
        for keras_key, key in keys.items():
            if key not in expected:
                continue  # e.g. a bias the layer does not use
            wanted = f"{layer_name}/{keras_key}"
            found = wanted if wanted in weights else _unique(by_suffix.get(wanted, []), wanted)
            if weights[found].shape != expected[key]:
                raise ModelFormatError(f"weight {found!r} has shape {weights[found].shape} but "
                                       f"layer {layer_name!r} needs {expected[key]}")
            values[key] = weights[found]
            used.add(found)
        matched.append((layer, values))
    unused = [name for name in weights if name not in used
              and not name.startswith(("optimizer", "training"))]
    if unused:
        raise ModelFormatError(f"model.json's manifest holds weights no layer takes: "
                               f"{unused[:5]}; they belong to another architecture")
    return matched


def _unique(candidates, wanted):
    if len(candidates) != 1:
        raise ModelFormatError(f"the weights manifest has {'no' if not candidates else 'several'} "
                               f"weight {wanted!r}; the shards do not match the architecture")
    return candidates[0]


def _apply_metadata(model, metadata):
    """Labels and input size from a Teachable Machine metadata.json."""
    if not isinstance(metadata, dict):
        raise ModelFormatError("metadata.json must be a JSON object")
    labels = metadata.get("labels")
    if labels is not None:
        if not (isinstance(labels, list) and all(isinstance(label, str) for label in labels)):
            raise ModelFormatError(f"metadata.json's labels must be strings, got {short_repr(labels)}")
        model.labels = list(labels)
    size = metadata.get("imageSize")
    if size is not None:
        height, width, channels = (tuple(model.input_shape) + (None,) * 3)[:3]
        if (height, width) != (size, size) or channels not in (1, 3):
            raise ModelFormatError(f"metadata.json's imageSize {short_repr(size)} does not match "
                                   f"the model's input {model.input_shape}")
        model.input_spec = {"height": size, "width": size, "channels": channels,
                            "scale": TEACHABLE_SCALE}
