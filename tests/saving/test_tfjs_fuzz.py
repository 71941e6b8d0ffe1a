"""Fuzzing the TF.js reader: any change to model.json or the shard gives a model or a
ModelFormatError, never another exception (as for the safetensors reader)."""

import json

import pytest

import nnpy
from nnpy import ModelFormatError, layers
from nnpy.saving.tfjs import read_tfjs
from nnpy.saving.tfjs_writer import tfjs_artifacts
from nnpy.testing.fuzz import json_nodes, json_replace

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _sample():
    inputs = layers.Input((5, 5, 2))
    x = layers.SeparableConv2D(3, 3, padding="same", activation="relu", name="sep")(inputs)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.Concatenate(name="join")([x, inputs])
    x = layers.ZeroPadding2D(1, name="pad")(x)
    x = layers.MaxPool2D(2, name="pool")(x)
    x = layers.Flatten(name="flat")(x)
    return tfjs_artifacts(nnpy.Model(inputs, layers.Dense(2, name="dense")(x)))


def _nested_sample():
    """A Sequential whose first part is a Sequential of its own, as Teachable Machine nests."""
    document, weights = tfjs_artifacts(nnpy.Sequential([
        layers.Input((4, 4, 1)), layers.Conv2D(2, 3, name="conv"), layers.ReLU(6, name="relu6"),
        layers.Flatten(name="flat"), layers.Dense(3, activation="softmax", name="dense")]))
    stack = document["modelTopology"]["config"]["layers"]
    inner = {"class_name": "Sequential", "config": {"name": "inner", "layers": stack[:2]}}
    document["modelTopology"]["config"]["layers"] = [inner, *stack[2:]]
    return document, weights


SAMPLES = [_sample(), _nested_sample()]

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**10) | st.floats(allow_nan=True)
    | st.text(max_size=8) | st.sampled_from(["same", "valid", "relu", "Dense", "float32",
                                             "uint8", "float16", "Sequential", "Model"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6),
                                                                      children, max_size=4),
    max_leaves=8)


PATHS = [(number, path) for number, (document, _) in enumerate(SAMPLES)
         for path, _ in json_nodes(document) if path]


def _read(document, weights):
    try:
        read_tfjs(json.dumps(document, allow_nan=True), {"weights.bin": weights})
    except ModelFormatError:
        pass


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), JSON_VALUES)
def test_any_changed_value_in_model_json_reads_or_raises_model_format_error(place, value):
    (document, weights), path = SAMPLES[place[0]], place[1]
    _read(json_replace(json.loads(json.dumps(document)), path, value), weights)


@settings(max_examples=100, deadline=None, database=None)
@given(st.sampled_from(PATHS))
def test_any_removed_entry_reads_or_raises_model_format_error(place):
    (document, weights), path = SAMPLES[place[0]], place[1]
    document = json.loads(json.dumps(document))
    target = document
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    _read(document, weights)


@settings(max_examples=100, deadline=None, database=None)
@given(st.sampled_from(SAMPLES), st.integers(0, 2000), st.binary(max_size=16))
def test_any_cut_or_grown_shard_reads_or_raises_model_format_error(sample, cut, tail):
    document, weights = sample
    _read(document, weights[:cut] + tail)
