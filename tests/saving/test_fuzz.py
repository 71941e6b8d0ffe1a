"""Every reader, fuzzed (hypothesis, derandomised, a few seconds): whatever the bytes, a reader
accepts them (and what it returns works) or raises ModelFormatError, never anything else.
`python build.py fuzz` runs the same readers over a million inputs (nnpy/testing/fuzz.py).
Skipped where hypothesis is not installed (inside Pyodide)."""

import json
import random
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")  # not installed inside Pyodide, where the suite also runs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnpy.layers import LAYERS
from nnpy.saving import encode_safetensors
from nnpy.testing import fuzz

DIGITS = Path(__file__).resolve().parents[2] / "web" / "models" / "digits.safetensors"
FUZZ = settings(derandomize=True, max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def seeds():
    return fuzz.make_seeds([DIGITS] if DIGITS.exists() else [])


def outcome(reader, data):
    """run_one's verdict; an exception of any other type fails the test with its input."""
    return fuzz.run_one(reader, data)


@FUZZ
@given(st.randoms(use_true_random=False), st.integers(1, 4))
def test_mutated_real_files_are_accepted_or_refused_with_model_format_error(seeds, rng, rounds):
    name = rng.choice(sorted(seeds))
    reader, data = seeds[name]
    for _ in range(rounds):
        data = fuzz.mutate(data, rng, seeds)
    assert outcome(reader, data) in ("accepted", "refused")


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_by_every_reader(data):
    for reader in fuzz.READERS:
        assert outcome(reader, data) == "refused"


@FUZZ
@given(st.randoms(use_true_random=False))
def test_generated_headers_and_models_are_accepted_or_refused(rng):
    assert outcome("safetensors", fuzz.generate_header(rng)) in ("accepted", "refused")
    data = fuzz.mutate(fuzz.generate_model(rng), rng)
    assert outcome("model", data) in ("accepted", "refused")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)
ARGUMENTS = ["units", "filters", "kernel_size", "strides", "padding", "pool_size", "activation",
             "use_bias", "epsilon", "momentum", "rate", "axis", "target_shape", "shape",
             "negative_slope", "approximate", "name", "seed", "kernel_initializer"]
LAYER_ENTRY = st.fixed_dictionaries({
    "class_name": st.sampled_from(sorted(LAYERS)),
    "config": st.dictionaries(st.sampled_from(ARGUMENTS), JSON | st.integers(-3, 9), max_size=3),
})
CONFIG = st.fixed_dictionaries({
    "class_name": st.sampled_from(["Sequential", "Sequential", "Model"]),
    "input_shape": st.lists(st.integers(-1, 40) | JSON, min_size=0, max_size=4) | JSON,
    "layers": st.lists(LAYER_ENTRY, max_size=5),
    "seed": st.integers(-1, 3) | JSON,
    "compile": st.none() | st.fixed_dictionaries({
        "loss": st.sampled_from(["mse", "binary_crossentropy", "x"]) | JSON,
        "metrics": JSON,
        "optimizer": st.fixed_dictionaries({
            "class_name": st.sampled_from(["Adam", "SGD", "RMSprop", "AdamW", "Nadam"]),
            "config": st.dictionaries(st.sampled_from(
                ["learning_rate", "beta_1", "momentum", "rho", "epsilon", "weight_decay"]),
                JSON, max_size=2)}),
    }),
})


@FUZZ
@given(CONFIG, st.lists(st.integers(0, 3), max_size=4), st.none() | JSON, st.none() | JSON)
def test_generated_model_configs_are_accepted_or_refused(config, dims, labels, spec):
    """Configs from the layer registry with arbitrary arguments, and tensors that may fit them."""
    tensors = {f"{index}.kernel": fuzz.np.ones(dims or [1], fuzz.np.float32)
               for index in range(len(config["layers"]))}
    metadata = {"nnpy.format": "1", "nnpy.config": json.dumps(config)}
    for key, value in (("nnpy.labels", labels), ("nnpy.input", spec)):
        if value is not None:
            metadata[key] = json.dumps(value)
    assert outcome("model", encode_safetensors(tensors, metadata)) in ("accepted", "refused")
    tensors.clear()
    assert outcome("model", encode_safetensors(tensors, metadata)) in ("accepted", "refused")


PROJECT_KEYS = ["class_names", "image_size", "flip", "seed", "history", "trained_classes",
                "confusion"]


@FUZZ
@given(st.dictionaries(st.sampled_from(PROJECT_KEYS), JSON | st.integers(0, 70), max_size=4),
       st.randoms(use_true_random=False))
def test_generated_project_settings_are_accepted_or_refused(seeds, changes, rng):
    """A real project file whose settings JSON is partly replaced by arbitrary values."""
    reader, data = seeds[rng.choice(["project", "project-untrained"])]
    tensors, metadata = fuzz.decode_safetensors(data)
    info = json.loads(metadata["nnpy.project"])
    info.update(changes)
    metadata["nnpy.project"] = json.dumps(info)
    assert outcome(reader, encode_safetensors(tensors, metadata)) in ("accepted", "refused")


def test_the_fuzzer_finds_an_untyped_failure():
    """The harness itself: a reader that raises something else is reported, not hidden."""
    def broken(data):
        raise ZeroDivisionError

    fuzz.READERS["broken"] = broken
    try:
        with pytest.raises(ZeroDivisionError):
            fuzz.run_one("broken", b"")
    finally:
        del fuzz.READERS["broken"]
    assert random.Random(1).random() == random.Random(1).random()  # inputs are reproducible
