"""Keras 3 `.keras` archives written from nnpy models: `model.save("model.keras")`.

An archive is a zip of `metadata.json`, `config.json` (the architecture, Keras's own JSON) and
`model.weights.h5`, where each layer's weights sit under `layers/<class name in snake_case>/vars/
<i>` in the order Keras lists them. Keras can also read `model.weights.npz`, but its npz loader
refuses what its writer produces (object arrays, `allow_pickle=False`), so the HDF5 form is the
one that opens: writing it needs h5py (`pip install h5py`), the one dependency outside NumPy.
Layer configs come from the table keras_layers.py shares with TF.js.
"""

import io
import json
import re
import zipfile

from .keras_layers import layer_to_keras
from .safetensors import write_atomically
from .tfjs_writer import unique_layer_names

KERAS_VERSION = "3.15.1"  # the Keras the archives are checked against (tests/saving/test_keras_export.py)


def keras_bytes(model):
    """The model as the bytes of a `.keras` archive."""
    if not model.built:
        model.build()
    config, weights = _config_and_weights(model)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("metadata.json", json.dumps({"keras_version": KERAS_VERSION,
                                                     "date_saved": "nnpy"}))
        zipped.writestr("config.json", json.dumps(config))
        zipped.writestr("model.weights.h5", _weights_h5(model.name, weights))
    return archive.getvalue()


def save_keras(model, path):
    write_atomically(path, keras_bytes(model))
    return path


def _snake_case(name):
    """Keras's `naming.to_snake_case`: the name its weight file gives a layer's class."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _entry(class_name, config, build_shape=None):
    entry = {"module": "keras.layers", "class_name": class_name,
             "config": {**config, "dtype": "float32"}, "registered_name": None}
    if build_shape is not None:
        entry["build_config"] = {"input_shape": build_shape}
    return entry


def _batch(shape):
    return [[None, *one] for one in shape] if isinstance(shape, list) else [None, *shape]


def _tensor(name, shape):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None, *shape], "dtype": "float32", "keras_history": [name, 0, 0]}}


def _config_and_weights(model):
    """(config.json as a dict, [(h5 group, [arrays])] in Keras's layer order)."""
    names = unique_layer_names(model)
    graph = getattr(model, "inbound", None)
    input_entry = _entry("InputLayer", {"batch_shape": [None, *model.input_shape],
                                        "sparse": False, "ragged": False, "name": "input_1"})
    entries, groups, counts = [], [], {}
    if graph is not None:  # a functional model's weight file lists its input layer too
        input_entry.update(name="input_1", inbound_nodes=[])
    weighted = {}
    for index, layer in enumerate(model.layers):
        class_name, config, weights = layer_to_keras(layer, names[index])
        if class_name == "LeakyReLU":
            config["negative_slope"] = config.pop("alpha")
        entry = _entry(class_name, config, _batch(layer.input_shape))
        if graph is not None:
            tensors = [_tensor("input_1", model.input_shape) if source < 0 else
                       _tensor(names[source], model.layers[source].output_shape)
                       for source in graph[index]]
            entry.update(name=names[index], inbound_nodes=[
                {"args": [tensors] if layer.merges else tensors, "kwargs": {}}])
        entries.append(entry)
        weighted[index] = (class_name, [array for _, array in weights])
    order = range(len(model.layers)) if graph is None else _functional_order(graph)
    for index in order:
        groups.append(_group(*weighted[index], counts) if index >= 0 else
                      _group("InputLayer", [], counts))
    if graph is not None:
        config = {"module": "keras.src.models.functional", "class_name": "Functional",
                  "config": {"name": model.name, "trainable": True,
                             "layers": [input_entry, *entries],
                             "input_layers": ["input_1", 0, 0],
                             "output_layers": [names[-1], 0, 0]},
                  "registered_name": "Functional", "build_config": {"input_shape": None}}
    else:
        config = {"module": "keras", "class_name": "Sequential",
                  "config": {"name": model.name, "trainable": True,
                             "layers": [input_entry, *entries]},
                  "registered_name": None,
                  "build_config": {"input_shape": [None, *model.input_shape]}}
    config["compile_config"] = None
    return config, groups


def _functional_order(graph):
    """The layer order of Keras's functional model (`Function._operations`), which its weight
    file follows: deepest first (depth = longest path to the output), ties in the order a
    depth-first walk from the output meets them. -1 is the input layer."""
    depth = {len(graph) - 1: 0}
    for index in reversed(range(len(graph))):
        for source in graph[index]:
            depth[source] = max(depth.get(source, 0), depth[index] + 1)
    met = []

    def walk(index):
        if index not in met:
            met.append(index)
            for source in graph[index] if index >= 0 else []:
                walk(source)

    walk(len(graph) - 1)
    return sorted(met, key=lambda index: (-depth[index], met.index(index)))


def _group(class_name, arrays, counts):
    """The weight file's path for the next layer of this class: conv2d, conv2d_1, ..."""
    base = _snake_case(class_name)
    counts[base] = counts.get(base, -1) + 1
    return (f"layers/{base}" + (f"_{counts[base]}" if counts[base] else ""), arrays)


def _weights_h5(model_name, groups):
    try:
        import h5py
    except ImportError:
        raise ImportError("writing a .keras archive needs h5py: pip install h5py (or export "
                          "with nnpy.export.tfjs, which needs nothing)") from None
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        file.create_group("vars").attrs["name"] = model_name
        for path, arrays in groups:
            variables = file.create_group(f"{path}/vars")
            for index, array in enumerate(arrays):
                variables.create_dataset(str(index), data=array.astype("float32"))
    return buffer.getvalue()
