"""nnpy models written as TF.js layers models: `model.json` (the architecture in Keras's JSON,
a manifest of the weights) and one `weights.bin` shard of float32 weights, which
`tf.loadLayersModel` opens (nnpy.export.tfjs calls this; tfjs.py reads them back)."""

import json
import os

import numpy as np

from .keras_layers import layer_to_keras
from .safetensors import write_atomically


def tfjs_artifacts(model):
    """(model.json as a dict, weights.bin bytes) of an nnpy model, float32 weights in one shard."""
    if not model.built:
        model.build()
    names = unique_layer_names(model)
    entries, specs, blobs = [], [], []
    inbound = getattr(model, "inbound", None)
    for index, layer in enumerate(model.layers):
        class_name, config, weights = layer_to_keras(layer, names[index])
        entry = {"class_name": class_name, "config": config}
        if inbound is not None:
            sources = [names[source] if source >= 0 else "input_1" for source in inbound[index]]
            entry["name"] = names[index]
            entry["inbound_nodes"] = [[[source, 0, 0, {}] for source in sources]]
        elif index == 0:
            config["batch_input_shape"] = [None, *model.input_shape]
        entries.append(entry)
        for key, value in weights:
            array = np.ascontiguousarray(value, dtype="<f4")
            specs.append({"name": f"{names[index]}/{key}", "shape": list(array.shape),
                          "dtype": "float32"})
            blobs.append(array.tobytes())
    if inbound is not None:
        input_entry = {"name": "input_1", "class_name": "InputLayer", "inbound_nodes": [],
                       "config": {"batch_input_shape": [None, *model.input_shape],
                                  "dtype": "float32", "sparse": False, "name": "input_1"}}
        config = {"name": model.name, "layers": [input_entry, *entries],
                  "input_layers": [["input_1", 0, 0]],
                  "output_layers": [[names[len(model.layers) - 1], 0, 0]]}
        topology = {"class_name": "Model", "config": config}
    else:
        topology = {"class_name": "Sequential", "config": {"name": model.name, "layers": entries}}
    topology.update(keras_version="tfjs-layers 4.22.0", backend="tensor_flow.js")
    document = {"format": "layers-model", "generatedBy": "nnpy",
                "convertedBy": None, "modelTopology": topology,
                "weightsManifest": [{"paths": ["weights.bin"], "weights": specs}]}
    return document, b"".join(blobs)


def save_tfjs(model, directory):
    """Write `directory`/model.json and weights.bin (and metadata.json with the labels and input
    spec, in Teachable Machine's form, when the model has them); returns model.json's path."""
    document, weights = tfjs_artifacts(model)
    os.makedirs(directory, exist_ok=True)
    write_atomically(os.path.join(directory, "weights.bin"), weights)
    if model.labels is not None:
        metadata = {"labels": list(model.labels), "generatedBy": document["generatedBy"]}
        if model.input_spec and model.input_spec.get("height") == model.input_spec.get("width"):
            metadata["imageSize"] = model.input_spec["height"]
        write_atomically(os.path.join(directory, "metadata.json"), json.dumps(metadata).encode())
    path = os.path.join(directory, "model.json")
    write_atomically(path, json.dumps(document).encode())
    return path


def unique_layer_names(model):
    """Layer names Keras can use: unique, so the weights' names are too."""
    names, seen = [], set()
    for index, layer in enumerate(model.layers):
        name = str(layer.name).replace("/", "_") or "layer"
        if name in seen or name == "input_1":
            name = f"{name}_{index}"
        seen.add(name)
        names.append(name)
    return names
