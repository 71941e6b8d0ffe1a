"""Reading and writing TF.js layers models without TF.js: round trips through nnpy's own
writer, Teachable Machine metadata, and a ModelFormatError for each kind of broken input.
(tests/saving/test_tfjs_oracle.py checks both directions against TF.js itself.)"""

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import nnpy
from nnpy import ModelFormatError, layers
from nnpy.saving.tfjs import read_tfjs
from nnpy.saving.tfjs_writer import save_tfjs, tfjs_artifacts

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared sample models
from interop_models import sample_models


def _inputs(model, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (3, *model.input_shape)).astype("f4")


@pytest.mark.parametrize("name", ["sequential", "functional"])
def test_an_exported_model_reads_back_with_the_same_outputs(name):
    model = sample_models()[name]
    document, weights = tfjs_artifacts(model)
    back = read_tfjs(json.dumps(document), {"weights.bin": weights})
    x = _inputs(model)
    np.testing.assert_array_equal(back.forward(x), model.forward(x))
    assert [type(layer) for layer in back.layers] == [type(layer) for layer in model.layers]


def test_load_model_reads_model_json_with_its_shards_and_metadata(tmp_path):
    model = nnpy.Sequential([layers.Input((4, 4, 3)), layers.Conv2D(2, 3), layers.Flatten(),
                             layers.Dense(2, activation="softmax")])
    model.labels = ["cat", "dog"]
    model.input_spec = {"height": 4, "width": 4, "channels": 3, "scale": [0, 1]}
    path = save_tfjs(model, tmp_path / "web_model")
    assert sorted(p.name for p in (tmp_path / "web_model").iterdir()) == [
        "metadata.json", "model.json", "weights.bin"]
    back = nnpy.load_model(path)
    assert back.labels == ["cat", "dog"]
    assert back.input_spec["height"] == 4
    x = _inputs(model)
    np.testing.assert_array_equal(back.forward(x), model.forward(x))


def test_a_read_model_trains_and_saves_as_an_nnpy_file(tmp_path):
    document, weights = tfjs_artifacts(sample_models()["functional"])
    model = read_tfjs(document, {"weights.bin": weights})
    model.compile(optimizer="adam", loss="mse")
    x = _inputs(model)
    before = model.forward(x)
    model.fit(x, np.zeros((3, 2), "f4"), epochs=2, verbose=0)
    assert np.abs(model.forward(x) - before).max() > 0
    model.save(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(nnpy.load_model(tmp_path / "m.safetensors").forward(x),
                                  model.forward(x))


# --------------------------------------------------------------------------- broken input


def _small():
    """(model.json dict, {"weights.bin": bytes}) of a small functional model."""
    inputs = layers.Input((6, 6, 2))
    x = layers.Conv2D(3, 3, padding="same", activation="relu", name="conv")(inputs)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.Add(name="add")([x, layers.Conv2D(3, 1, name="skip")(inputs)])
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    document, weights = tfjs_artifacts(nnpy.Model(inputs, layers.Dense(2, name="dense")(x)))
    return document, {"weights.bin": weights}


def _layer(document, name):
    return next(e for e in document["modelTopology"]["config"]["layers"] if e["name"] == name)


def _specs(document):
    return document["weightsManifest"][0]["weights"]


def _unsupported_layer(d, s):
    _layer(d, "pool")["class_name"] = "GlobalMaxPooling2D"


def _missing_shard(d, s):
    s.clear()


def _truncated_shard(d, s):
    s["weights.bin"] = s["weights.bin"][:-4]


def _extra_bytes(d, s):
    s["weights.bin"] += b"\0" * 8


def _unknown_dtype(d, s):
    _specs(d)[0]["dtype"] = "complex64"


def _unknown_quantisation(d, s):
    _specs(d)[0]["quantization"] = {"dtype": "int4", "scale": 1, "min": 0}


def _quantisation_without_scale(d, s):
    _specs(d)[0]["quantization"] = {"dtype": "uint8"}


def _wrong_shape(d, s):
    _specs(d)[0]["shape"] = [3, 3, 3, 2]  # as many values, another shape


def _negative_size(d, s):
    _specs(d)[0]["shape"] = [-3, 3, 2, 3]


def _weight_renamed(d, s):
    _specs(d)[0]["name"] = "elsewhere/kernel"


def _unknown_activation(d, s):
    _layer(d, "conv")["config"]["activation"] = "elu"


def _dilation(d, s):
    _layer(d, "conv")["config"]["dilation_rate"] = [2, 2]


def _shared_layer(d, s):
    _layer(d, "skip")["inbound_nodes"].append([["input_1", 0, 0, {}]])


def _two_inputs(d, s):
    d["modelTopology"]["config"]["input_layers"].append(["input_2", 0, 0])


def _dangling_input(d, s):
    _layer(d, "add")["inbound_nodes"] = [[["conv", 0, 0, {}], ["nowhere", 0, 0, {}]]]


def _graph_model(d, s):
    d["modelTopology"] = {"node": [], "library": {}, "versions": {}}
    d["format"] = "graph-model"


def _variable_input_size(d, s):
    _layer(d, "input_1")["config"]["batch_input_shape"] = [None, None, None, 2]


def _huge_units(d, s):
    _layer(d, "dense")["config"]["units"] = 10**9


def _batchnorm_over_rows(d, s):
    _layer(d, "norm")["config"]["axis"] = 1


def _not_a_number(d, s):
    _layer(d, "norm")["config"]["epsilon"] = "small"


BREAKAGES = {
    "unsupported layer": (_unsupported_layer, "'pool' is a GlobalMaxPooling2D"),
    "missing shard": (_missing_shard, "'weights.bin' named in model.json is missing"),
    "truncated shard": (_truncated_shard, "too few"),
    "extra bytes": (_extra_bytes, "do not belong together"),
    "unknown dtype": (_unknown_dtype, "complex64"),
    "unknown quantisation": (_unknown_quantisation, "int4"),
    "quantisation without scale": (_quantisation_without_scale, "scale"),
    "wrong shape": (_wrong_shape, "has shape"),
    "negative size": (_negative_size, "not a list of sizes"),
    "weight renamed": (_weight_renamed, "no weight 'conv/kernel'"),
    "unknown activation": (_unknown_activation, "'conv' .*elu"),
    "dilation": (_dilation, "dilation_rate"),
    "shared layer": (_shared_layer, "'skip' is called"),
    "two inputs": (_two_inputs, "one input"),
    "dangling input": (_dangling_input, "nowhere"),
    "graph model": (_graph_model, "layers models only"),
    "variable input size": (_variable_input_size, "fixed input size"),
    "huge units": (_huge_units, "has shape"),
    "not a number": (_not_a_number, "epsilon"),
    "batchnorm over rows": (_batchnorm_over_rows, "normalises axis 1"),
}


@pytest.mark.parametrize("case", sorted(BREAKAGES))
def test_broken_input_raises_model_format_error_saying_what_is_wrong(case):
    breakage, message = BREAKAGES[case]
    document, shards = _small()
    read_tfjs(copy.deepcopy(document), dict(shards))  # the unbroken one reads
    breakage(document, shards)
    with pytest.raises(ModelFormatError, match=message):
        read_tfjs(json.dumps(document).encode(), shards)


def test_a_missing_shard_file_names_the_file(tmp_path):
    model = nnpy.Sequential([layers.Input((3,)), layers.Dense(2)])
    path = save_tfjs(model, tmp_path)
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(ModelFormatError, match=r"model\.json: cannot read the weight shard"):
        nnpy.load_model(path)


@pytest.mark.parametrize("metadata, message", [
    ({"labels": [1, 2]}, "labels must be strings"),
    ({"imageSize": 224}, "does not match"),
    (b"{not json", "not valid JSON"),
])
def test_broken_teachable_machine_metadata_raises_model_format_error(metadata, message):
    document, shards = _small()
    with pytest.raises(ModelFormatError, match=message):
        read_tfjs(document, shards, metadata)


def test_unsupported_input_is_never_another_exception():
    for text in (b"", b"[]", b"null", b'{"modelTopology": 3}', b"\xff\xfe",
                 (b'{"modelTopology": {"class_name": "Sequential", "config": {"layers": []}}, '
                  b'"weightsManifest": []}')):
        with pytest.raises(ModelFormatError):
            read_tfjs(text, {})
