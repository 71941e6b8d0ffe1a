"""Model files: one .safetensors file holds a model's weights (tensors by dotted name) and its
architecture, labels and input description (JSON in `__metadata__`). See `safetensors` for the
byte format and how untrusted bytes are checked.

`model_state` / `model_from_state` are the one writer and reader of a model's part of a file:
the model file is that part alone, and other files (an image-classifier project) hold it under a
name prefix beside tensors of their own, as tinygrad's `nn/state.py` does. A file's config names
its model class, which is found in `MODELS` (filled by `register_model`), so this module never
imports the model module that imports it.
"""

import json
import math

import numpy as np

from .. import layers
from ..errors import ModelFormatError
from .quantize import dequantize
from .safetensors import (
    decode_safetensors,
    encode_safetensors,
    errors_name_the_file,
    parse_json,
    short_repr,
    source_bytes,
    write_atomically,
)

FORMAT_VERSION = 1  # bump when a reader of the old format could no longer load the new one
OPTIMIZER_PREFIX = "optimizer."
MAX_LAYERS = 10_000  # far more than any model nnpy trains; bounds the time a config can cost
MODELS = {}  # class name -> model class, for rebuilding a model from a file's config


def register_model(cls):
    """Class decorator: models of this class can be rebuilt from a file by their class name."""
    MODELS[cls.__name__] = cls
    return cls


def model_state(model, prefix="", include_optimizer=False):
    """(tensors, metadata) of `model`'s part of a file: weights and buffers named `prefix` + dotted
    name, optimizer slots under "optimizer.", architecture, labels and input spec as metadata."""
    if not model.built:
        model.build()  # its weights must exist to be saved; ShapeError if the input shape is unknown
    tensors = {prefix + name: value for name, value in model.state_dict().items()}
    if include_optimizer and model.optimizer is not None:
        optimizer_state = model.optimizer.state_dict()
        tensors.update({OPTIMIZER_PREFIX + name: value for name, value in optimizer_state.items()})
    metadata = {"nnpy.format": str(FORMAT_VERSION), "nnpy.config": json.dumps(model.get_config())}
    if model.labels is not None:
        metadata["nnpy.labels"] = json.dumps(list(model.labels))
    if model.input_spec is not None:
        metadata["nnpy.input"] = json.dumps(model.input_spec)
    if model.card is not None:
        metadata["nnpy.card"] = json.dumps(model.card)
    return tensors, metadata


def model_from_state(tensors, metadata, prefix=""):
    """The model that `model_state(..., prefix)` described; ModelFormatError naming the tensor or
    layer when the tensors and metadata do not make a complete, consistent nnpy model.

    Everything is checked before the model's weights are allocated: the architecture's weight
    shapes (computed from the config, not built) against the file's tensors, so a few hundred
    bytes asking for a gigantic layer cost nothing; then the values (finite, a layer's own rules
    such as non-negative variances), the labels and input spec against the input and output
    shapes, and the optimizer's slots against the parameters."""
    _check_format_version(metadata)
    model = _rebuild(_json_metadata(metadata, "nnpy.config", "the model architecture"))
    expected, output_shape = _shape_plan(model)
    weights = {name[len(prefix):]: value for name, value in dequantize(tensors).items()
               if name.startswith(prefix) and not name.startswith(OPTIMIZER_PREFIX)}
    weights = _matched_state(model, expected, weights)
    labels = _labels(metadata, output_shape[-1])
    input_spec = _input_spec(metadata, model.input_shape)
    model.build(initialise=False)  # no bigger than the file's tensors, which replace its zeros
    model.load_state_dict(weights)
    model.labels, model.input_spec, model.card = labels, input_spec, _card(metadata)
    optimizer_state = {name.removeprefix(OPTIMIZER_PREFIX): value for name, value in tensors.items()
                       if name.startswith(OPTIMIZER_PREFIX)}
    if optimizer_state and model.optimizer is not None:
        _load_optimizer_state(model, optimizer_state)
    return model


def model_to_bytes(model, include_optimizer=False):
    """The model as .safetensors bytes: weights + buffers as tensors, architecture as metadata."""
    return encode_safetensors(*model_state(model, include_optimizer=include_optimizer),
                              checksum=True)


def save_model(model, path, include_optimizer=False):
    """Save atomically: if saving fails, the model previously at `path` still loads."""
    write_atomically(path, model_to_bytes(model, include_optimizer))


def load_model(source, *, data_sha256=None):
    """Rebuild a model saved by `save_model` from its path or bytes (`data_sha256`: see
    decode_safetensors).

    Raises ModelFormatError naming the file, tensor or layer when the file does not describe a
    complete, consistent nnpy model.
    """
    with errors_name_the_file(source):
        return model_from_state(*decode_safetensors(source_bytes(source), data_sha256=data_sha256))


def _check_format_version(metadata):
    version = metadata.get("nnpy.format")
    if version is None:
        raise ModelFormatError(
            "this safetensors file has no 'nnpy.format' metadata, so it holds weights but no "
            "nnpy model; build the model yourself and use nnpy.saving.load_weights_by_name"
        )
    if not (version.isascii() and version.isdigit() and len(version) < 10 and int(version) > 0):
        raise ModelFormatError(f"'nnpy.format' is {short_repr(version)}, not a format version number")
    if int(version) > FORMAT_VERSION:
        raise ModelFormatError(
            f"this model was saved in nnpy file format {version}, newer than the format "
            f"{FORMAT_VERSION} this nnpy reads: upgrade nnpy (pip install --upgrade nnpy)"
        )


def _json_metadata(metadata, key, meaning):
    if key not in metadata:
        raise ModelFormatError(f"the file lacks {key!r} metadata ({meaning}); re-save the model")
    return parse_json(metadata[key], f"{key!r} metadata ({meaning})")


def _rebuild(config):
    if not isinstance(config, dict):
        raise ModelFormatError(f"'nnpy.config' must be a JSON object, found {type(config).__name__}")
    name = config.get("class_name", "Sequential")
    model_class = MODELS.get(name) if isinstance(name, str) else None
    if model_class is None:
        raise ModelFormatError(f"'nnpy.config' describes a {short_repr(name)} model; this nnpy "
                               f"rebuilds {', '.join(sorted(MODELS))}")
    entries = config.get("layers")
    if isinstance(entries, list) and len(entries) > MAX_LAYERS:
        raise ModelFormatError(f"'nnpy.config' lists {len(entries)} layers, more than the "
                               f"{MAX_LAYERS} nnpy loads: the file is damaged or not a model")
    if config.get("input_shape") is None:
        raise ModelFormatError("'nnpy.config' has no input_shape, so its weights cannot be "
                               "checked; re-save the model after building it")
    if config.get("layers") == []:
        raise ModelFormatError("'nnpy.config' has no layers: a model file holds at least one")
    try:  # layers are made, their arguments checked, but no weight is allocated
        return model_class.from_config(config, build=False)
    except Exception as err:
        where = _broken_layer(model_class, config)
        raise ModelFormatError(
            f"cannot rebuild the saved architecture{where}: {type(err).__name__}: {err}"
        ) from err


def _broken_layer(model_class, config):
    """Where a rebuild fails: ' at layer i (Class)' for the first layer that cannot be made from
    its entry, else the model-wide settings, else the compile settings. Each layer is made once
    (linear in the number of layers) and the shapes are not walked (the message of a shape
    error names its layer already)."""
    entries = config.get("layers")
    if not isinstance(entries, list):
        return " (its 'layers' entry must be a list)"
    for index, entry in enumerate(entries):
        try:
            layers.from_config(entry)
        except Exception:  # noqa: BLE001 - whatever the failure, this layer is where it starts
            what = entry.get("class_name") if isinstance(entry, dict) else "not a JSON object"
            return f" at layer {index} ({what[:40] if isinstance(what, str) else short_repr(what)})"
    try:
        model_class.from_config({**config, "compile": None}, build=False)
    except Exception:  # noqa: BLE001
        return " (in its settings: name, seed, input_shape)"
    return " (in its compile settings: optimizer, loss, metrics)"


def _shape_plan(model):
    """({dotted name: shape} the architecture needs, its output shape), from the config alone;
    refuses a total no file could hold (every shape must also match a tensor of the file)."""
    try:
        return model.shape_plan()
    except (ValueError, TypeError) as err:
        raise ModelFormatError(f"the saved architecture cannot run: {err}") from None


def _matched_state(model, expected, tensors):
    """The file's weights for `model`, whose arrays are to have the `expected` shapes: none
    missing, none extra, every shape right, every value finite and fit for its layer."""
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
    remedy = "the weights do not fit the file's own architecture"
    _check_shapes(model, expected, tensors, remedy)
    weights = {name: _as_model_dtype(model, name, tensors[name]) for name in expected}
    by_layer = {}  # layer index -> {key: array}
    for name, value in weights.items():
        index, _, key = name.partition(".")
        by_layer.setdefault(int(index), {})[key] = value
    for index, own in by_layer.items():
        layer = model.layers[index]
        try:
            layer.check_weights(own)
        except ValueError as err:
            raise ModelFormatError(f"layer {index} ({type(layer).__name__} {layer.name!r}): "
                                   f"{err}; the file is damaged") from None
    return weights


def _as_model_dtype(model, name, value):
    """A file tensor as the model's float dtype; NaN/Inf (or a value too big for float32) is
    refused: a network cannot compute with them and the file is damaged."""
    if value.dtype.kind not in "biuf":
        raise ModelFormatError(f"{_with_layer(model, name)} holds {value.dtype}, not numbers")
    with np.errstate(over="ignore", invalid="ignore"):
        value = value.astype(model.dtype, copy=False)
    if not np.isfinite(value).all():
        raise ModelFormatError(f"{_with_layer(model, name)} holds NaN or infinite values (or values "
                               f"too large for {np.dtype(model.dtype)}); the file is damaged")
    return value


def _check_shapes(model, expected, tensors, remedy):
    """Every tensor has the shape the model needs, `expected` as {name: shape}."""
    wrong = [name for name in expected if tensors[name].shape != tuple(expected[name])]
    if wrong:
        details = (f"{_with_layer(model, name)} is {tensors[name].shape} in the file but the "
                   f"model needs {tuple(expected[name])}" for name in wrong)
        raise ModelFormatError(f"shape mismatch: {_listing(details)}; {remedy}")


def _cast_to_fit(model, tensors, remedy):
    """`tensors` cast to the model's dtypes, once every shape is checked to match."""
    expected = model.state_dict()
    _check_shapes(model, {name: value.shape for name, value in expected.items()}, tensors, remedy)
    return {name: tensors[name].astype(expected[name].dtype, copy=False) for name in expected}


def _with_layer(model, name):
    index = int(name.split(".")[0])
    layer = model.layers[index]
    return f"{name!r} (layer {index}, {type(layer).__name__} {layer.name!r})"


def _listing(items, limit=5):
    items = list(items)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(str(item) for item in items[:limit]) + more


def _labels(metadata, outputs):
    """The class names: one per output (or two for a single sigmoid output)."""
    if "nnpy.labels" not in metadata:
        return None
    labels = _json_metadata(metadata, "nnpy.labels", "the class names")
    if not (isinstance(labels, list) and all(isinstance(label, str) for label in labels)):
        raise ModelFormatError(f"'nnpy.labels' must be a JSON list of strings, got {short_repr(labels)}")
    if len(labels) != outputs and not (outputs == 1 and len(labels) == 2):
        raise ModelFormatError(f"'nnpy.labels' names {len(labels)} classes but the model has "
                               f"{outputs} outputs; the labels belong to another model")
    return labels


def _card(metadata):
    """The model card: a JSON object of strings (what the model is, how well it does)."""
    if "nnpy.card" not in metadata:
        return None
    card = _json_metadata(metadata, "nnpy.card", "the model card")
    if not (isinstance(card, dict) and all(isinstance(v, str) for v in card.values())):
        raise ModelFormatError(f"'nnpy.card' must be a JSON object of strings, got {short_repr(card)}")
    return card


INPUT_SPEC_AXES = {"height": 0, "width": 1, "channels": 2}  # nnpy.input key -> input axis


def _input_spec(metadata, input_shape):
    """How a page turns an image into an input; its sizes must be the model's input shape."""
    if "nnpy.input" not in metadata:
        return None
    spec = _json_metadata(metadata, "nnpy.input", "how to prepare an input")
    if not isinstance(spec, dict):
        raise ModelFormatError(f"'nnpy.input' must be a JSON object, got {short_repr(spec)}")
    sizes = {key: spec[key] for key in INPUT_SPEC_AXES if key in spec}
    for key, value in sizes.items():
        if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise ModelFormatError(f"'nnpy.input' {key} must be a positive integer, got "
                                   f"{short_repr(value)}")
    if len(input_shape) == 3:  # an image input (H, W, C)
        contradicted = [key for key, value in sizes.items()
                        if input_shape[INPUT_SPEC_AXES[key]] != value]
    elif sizes and not (len(sizes) == 3 and math.prod(sizes.values()) == math.prod(input_shape)):
        contradicted = list(sizes)  # any other input takes a whole image flattened, or none
    else:
        contradicted = []
    if contradicted:
        described = ", ".join(f"{key} {sizes[key]}" for key in contradicted)
        raise ModelFormatError(f"'nnpy.input' says {described}, but the model's input shape is "
                               f"{tuple(input_shape)}; the input description belongs to another "
                               f"model")
    scale = spec.get("scale", [0, 1])
    if not (isinstance(scale, str) or (isinstance(scale, list) and len(scale) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in scale))):
        raise ModelFormatError(f"'nnpy.input' scale must be [low, high] or a name like '0-1', "
                               f"got {short_repr(scale)}")
    return spec


def _load_optimizer_state(model, state):
    optimizer = model.optimizer
    try:
        optimizer.load_state_dict(state, model.parameters())
    except Exception as err:
        raise ModelFormatError(
            f"the saved optimizer state does not fit {type(optimizer).__name__}: {err}; "
            f"load the model and compile it again to start the optimizer afresh"
        ) from err
