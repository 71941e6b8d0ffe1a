"""Model files: whole models saved and loaded, malformed models, weights from PyTorch by name."""

import json
import os
import random
import time
import tracemalloc

import numpy as np
import pytest

from nnpy import Sequential, layers, optimizers, saving
from nnpy.errors import ModelFormatError

# A bound on a refusal's wall time that only a hang or a quadratic blow-up crosses (they take
# minutes; a refusal takes milliseconds, tenths in Pyodide on a busy machine): not a speed test.
NO_HANG_S = 6.0


def entry(dtype="F32", shape=(1,), offsets=(0, 4)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


# --------------------------------------------------------------------------- whole models

def trained_model():
    """A small classifier with every kind of saved tensor: kernels, biases, BatchNorm buffers."""
    model = Sequential([layers.Input((4, 4, 2)), layers.Conv2D(3, 3, activation="relu"),
                             layers.BatchNorm(), layers.Flatten(), layers.Dense(3)], seed=3)
    model.compile(optimizer=optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x, y = model_inputs(), np.arange(16) % 3
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.labels = ["cat", "dog", "émeu"]
    model.input_spec = {"size": [4, 4], "channels": 2, "scale": [0, 1]}
    return model


def model_inputs():
    return np.random.default_rng(7).standard_normal((16, 4, 4, 2)).astype(np.float32)


def edited(data, edit):
    """`data` (a model file) re-encoded after `edit(tensors, metadata)` changed it in place."""
    tensors, metadata = saving.decode_safetensors(data)
    edit(tensors, metadata)
    return saving.encode_safetensors(tensors, metadata)


def edit_config(change):
    def edit(tensors, metadata):
        config = json.loads(metadata["nnpy.config"])
        change(config)
        metadata["nnpy.config"] = json.dumps(config)
    return edit


@pytest.fixture(scope="module")
def model_file():
    return saving.model_to_bytes(trained_model())


def test_save_and_load_give_identical_predictions_from_path_and_bytes(tmp_path):
    model = trained_model()
    path = tmp_path / "digits.safetensors"
    saving.save_model(model, path)
    for source in (path, str(path), path.read_bytes(), saving.model_to_bytes(model)):
        loaded = saving.load_model(source)
        np.testing.assert_array_equal(loaded.predict(model_inputs()), model.predict(model_inputs()))
        for name, array in model.state_dict().items():
            np.testing.assert_array_equal(loaded.state_dict()[name], array)
            assert loaded.state_dict()[name].dtype == array.dtype


def test_labels_and_input_spec_survive(model_file):
    loaded = saving.load_model(model_file)
    assert loaded.labels == ["cat", "dog", "émeu"]
    assert loaded.input_spec == {"size": [4, 4], "channels": 2, "scale": [0, 1]}
    assert loaded.card is None


def test_the_model_card_survives_and_a_bad_one_is_refused():
    model = trained_model()
    model.card = {"accuracy": "91.0% on 16 examples", "data": "random"}
    assert saving.load_model(saving.model_to_bytes(model)).card == model.card
    for bad in ([1, 2], {"accuracy": 0.91}):
        model.card = bad
        with pytest.raises(ModelFormatError, match="'nnpy.card' must be a JSON object of strings"):
            saving.load_model(saving.model_to_bytes(model))


def test_model_file_is_plain_safetensors_for_the_official_reader(model_file):
    from safetensors.numpy import load

    tensors = load(model_file)
    assert sorted(tensors) == ["0.bias", "0.kernel", "1.beta", "1.gamma", "1.running_mean",
                               "1.running_var", "3.bias", "3.kernel"]
    assert tensors["0.kernel"].shape == (3, 3, 2, 3)  # (kh, kw, in, out)


def test_optimizer_state_is_saved_only_when_asked_and_restored():
    model = trained_model()
    assert not any(n.startswith("optimizer.") for n in saving.decode_safetensors(
        saving.model_to_bytes(model))[0])
    loaded = saving.load_model(saving.model_to_bytes(model, include_optimizer=True))
    saved, restored = model.optimizer.state_dict(), loaded.optimizer.state_dict()
    assert sorted(restored) == sorted(saved) and int(restored["iterations"]) == 4
    for name, array in saved.items():
        np.testing.assert_array_equal(restored[name], array)


def _set_layer_class(config):
    config["layers"][1]["class_name"] = "BatchNormalization9000"


def _misspell_argument(config):
    config["layers"][3]["config"]["unitz"] = config["layers"][3]["config"].pop("units")


MALFORMED_MODELS = {
    "missing tensor": (lambda t, m: t.pop("3.kernel"),
                       r"lacks '3.kernel' \(layer 3, Dense 'dense'\)"),
    "wrong shape": (lambda t, m: t.update({"0.bias": np.zeros(4, np.float32)}),
                    r"shape mismatch: '0.bias' \(layer 0, Conv2D .*\) is \(4,\) in the file but"),
    "extra tensor": (lambda t, m: t.update({"9.kernel": np.zeros(1)}),
                     "no place for: 9.kernel"),
    "config not json": (lambda t, m: m.update({"nnpy.config": "{'layers'"}),
                        r"'nnpy.config' metadata \(the model architecture\) is not valid JSON"),
    "config not an object": (lambda t, m: m.update({"nnpy.config": "[]"}),
                             "'nnpy.config' must be a JSON object, found list"),
    "config without layers": (edit_config(lambda c: c.pop("layers")),
                              "its 'layers' entry must be a list"),
    "unknown layer": (edit_config(_set_layer_class),
                      r"at layer 1 \(BatchNormalization9000\).*unknown layer type"),
    "bad layer argument": (edit_config(_misspell_argument),
                           r"at layer 3 \(Dense\): TypeError.*unitz"),
    "layer not an object": (edit_config(lambda c: c["layers"].insert(2, "Dense")),
                            r"at layer 2 \(not a JSON object\)"),
    "bad seed": (edit_config(lambda c: c.update({"seed": "forty-two"})), "in its settings"),
    "unknown optimizer": (edit_config(lambda c: c["compile"]["optimizer"].update(
        {"class_name": "Adamant"})), "in its compile settings"),
    "no config": (lambda t, m: m.pop("nnpy.config"), "lacks 'nnpy.config'"),
    "no format": (lambda t, m: m.pop("nnpy.format"),
                  "no 'nnpy.format' metadata.*load_weights_by_name"),
    "future format": (lambda t, m: m.update({"nnpy.format": "2"}),
                      "format 2, newer than the format 1 this nnpy reads: upgrade nnpy"),
    "format not a number": (lambda t, m: m.update({"nnpy.format": "1.0"}),
                            "not a format version number"),
    "labels not strings": (lambda t, m: m.update({"nnpy.labels": "[1, 2]"}),
                           "'nnpy.labels' must be a JSON list of strings"),
    "labels not json": (lambda t, m: m.update({"nnpy.labels": "cat,dog"}),
                        "'nnpy.labels' metadata .* not valid JSON"),
    "input spec not an object": (lambda t, m: m.update({"nnpy.input": "28"}),
                                 "'nnpy.input' must be a JSON object"),
}


def set_layer(index, **changes):
    return edit_config(lambda c: c["layers"][index]["config"].update(changes))


def set_tensor(name, index, value):
    def edit(tensors, metadata):
        tensors[name].reshape(-1)[index] = value
    return edit


def set_optimizer(**changes):
    return edit_config(lambda c: c["compile"]["optimizer"]["config"].update(changes))


INCONSISTENT_MODELS = {
    "input_shape 4.5": (edit_config(lambda c: c.update(input_shape=[4.5, 4, 2])),
                        "input_shape must hold integers"),
    "input_shape '4'": (edit_config(lambda c: c.update(input_shape=["4", 4, 2])),
                        "input_shape must hold integers"),
    "input_shape true": (edit_config(lambda c: c.update(input_shape=[True, 4, 2])),
                         "input_shape must hold integers"),
    "input_shape 0": (edit_config(lambda c: c.update(input_shape=[0, 4, 2])),
                      "input_shape must hold positive integers"),
    "input_shape missing": (edit_config(lambda c: c.pop("input_shape")), "has no input_shape"),
    "input_shape huge": (edit_config(lambda c: c.update(input_shape=[2**20, 2**20, 2])),
                         "values per example"),
    "strides 0": (set_layer(0, strides=[0, 1]),
                  r"at layer 0 \(Conv2D\).*strides must be a positive integer"),
    "strides negative": (set_layer(0, strides=-2), r"at layer 0 \(Conv2D\).*strides"),
    "kernel_size 4.5": (set_layer(0, kernel_size=4.5), r"at layer 0 \(Conv2D\).*kernel_size"),
    "Dense(0)": (set_layer(3, units=0), r"at layer 3 \(Dense\).*units must be a positive integer"),
    "Dense(2.5)": (set_layer(3, units=2.5), r"at layer 3 \(Dense\).*units"),
    "BatchNorm epsilon negative": (set_layer(1, epsilon=-1), r"at layer 1 .*epsilon must be"),
    "BatchNorm epsilon 0": (set_layer(1, epsilon=0), r"at layer 1 .*epsilon must be"),
    "Softmax axis": (edit_config(lambda c: c["layers"].append(
        {"class_name": "Softmax", "config": {"axis": 5}})),
        r"layer 4 \(Softmax\): Softmax axis 5 is out of range"),
    "labels length": (lambda t, m: m.update({"nnpy.labels": '["cat", "dog"]'}),
                      "'nnpy.labels' names 2 classes but the model has 3 outputs"),
    "input spec height": (lambda t, m: m.update({"nnpy.input": '{"height": 28, "width": 4}'}),
                          r"'nnpy.input' says height 28, but the model's input shape is \(4, 4, 2\)"),
    "input spec channels": (lambda t, m: m.update({"nnpy.input": '{"channels": 3}'}),
                            "'nnpy.input' says channels 3"),
    "input spec size 0": (lambda t, m: m.update({"nnpy.input": '{"height": 0}'}),
                          "'nnpy.input' height must be a positive integer"),
    "input spec scale": (lambda t, m: m.update({"nnpy.input": '{"scale": [0]}'}),
                         "'nnpy.input' scale must be"),
    "NaN weight": (set_tensor("3.kernel", 5, np.nan),
                   r"'3.kernel' \(layer 3, Dense 'dense'\) holds NaN or infinite values"),
    "Inf weight": (set_tensor("0.bias", 1, -np.inf), "'0.bias' .* holds NaN or infinite"),
    "weight too large for float32": (lambda t, m: t.update(
        {"3.bias": np.array([1e300, 0, 0])}), "'3.bias' .*too large for float32"),
    "NaN running mean": (set_tensor("1.running_mean", 0, np.nan), "'1.running_mean' .* NaN"),
    "negative variance": (set_tensor("1.running_var", 2, -0.5),
                          r"layer 1 \(BatchNormalization .*running_var holds negative variances"),
    "learning rate string": (set_optimizer(learning_rate="fast"),
                             "compile settings.*Adam: learning_rate must be a number"),
    "learning rate negative": (set_optimizer(learning_rate=-1), "learning_rate must be a finite"),
    "learning rate schedule": (set_optimizer(learning_rate={"class_name": "Warp", "config": {}}),
                               "unknown learning-rate schedule 'Warp'"),
    "optimizer beta": (set_optimizer(beta_1=2), "beta_1 must be a finite number"),
    "loss unknown": (edit_config(lambda c: c["compile"].update(loss="hinge")), "unknown loss"),
    "layer entry list": (edit_config(lambda c: c["layers"].__setitem__(0, [1])),
                         r"at layer 0 \(not a JSON object\)"),
    "layer config list": (edit_config(lambda c: c["layers"][0].update(config=[1])),
                          r"at layer 0 \(Conv2D\)"),
    "class name not a string": (edit_config(lambda c: c["layers"][0].update(class_name=[1])),
                                r"at layer 0 \(\[1\]\)"),
}
MALFORMED_MODELS.update(INCONSISTENT_MODELS)


@pytest.mark.parametrize("edit, match", MALFORMED_MODELS.values(), ids=MALFORMED_MODELS.keys())
def test_malformed_model_raises_a_specific_model_format_error(model_file, edit, match):
    with pytest.raises(ModelFormatError, match=match):
        saving.load_model(edited(model_file, edit))


def test_optimizer_state_that_does_not_fit_is_a_model_format_error():
    data = saving.model_to_bytes(trained_model(), include_optimizer=True)
    damaged = edited(data, lambda t, m: t.update({"optimizer.iterations": np.arange(3)}))
    with pytest.raises(ModelFormatError, match="optimizer state does not fit Adam"):
        saving.load_model(damaged)


OPTIMIZER_SLOTS = {
    "slot of the wrong shape": ({"optimizer.m.0.kernel": np.zeros((2, 2), np.float32)},
                                (r"'m.0.kernel' is float32 of shape \(2, 2\); the parameter "
                                r"'0.kernel' needs floats of shape \(3, 3, 2, 3\)")),
    "slot of the wrong dtype": ({"optimizer.v.3.bias": np.zeros(3, np.int32)},
                                "'v.3.bias' is int32 .* needs floats"),
    "slot of no parameter": ({"optimizer.m.9.kernel": np.zeros(3, np.float32)},
                             "'m.9.kernel' is not a slot of Adam"),
    "slot Adam lacks": ({"optimizer.velocity.0.bias": np.zeros(3, np.float32)},
                        "'velocity.0.bias' is not a slot of Adam"),
    "NaN slot": ({"optimizer.m.0.bias": np.full(3, np.nan, np.float32)}, "'m.0.bias' holds NaN"),
    "iterations float": ({"optimizer.iterations": np.array(2.5)},
                         "'iterations' must be one non-negative integer"),
    "iterations negative": ({"optimizer.iterations": np.array(-3)}, "'iterations' must be"),
}


@pytest.mark.parametrize("tensors, match", OPTIMIZER_SLOTS.values(), ids=OPTIMIZER_SLOTS.keys())
def test_optimizer_slots_that_do_not_fit_are_a_model_format_error(tensors, match):
    data = saving.model_to_bytes(trained_model(), include_optimizer=True)
    with pytest.raises(ModelFormatError, match="saved optimizer state does not fit Adam: " + match):
        saving.load_model(edited(data, lambda t, m: t.update(tensors)))


def tiny_file(config, tensors=None):
    metadata = {"nnpy.format": "1", "nnpy.config": json.dumps(config)}
    return saving.encode_safetensors(tensors or {}, metadata)


def sequential(entries, input_shape):
    return {"class_name": "Sequential", "input_shape": input_shape, "layers": entries}


def test_a_tiny_file_asking_for_a_huge_layer_is_refused_fast_without_allocating():
    """Dense(15000) on 15,000 inputs is 900 MB of weights the ~200-byte file does not hold: the
    architecture's shapes are checked against the file before any weight exists."""
    data = tiny_file(sequential([{"class_name": "Dense", "config": {"units": 15000}}], [15000]))
    assert len(data) < 300
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ModelFormatError, match="lacks '0.kernel'"):
            saving.load_model(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < NO_HANG_S
    assert peak < 5_000_000


def test_a_huge_layer_whose_header_claims_its_tensors_is_refused_without_allocating():
    kernel = {"dtype": "F32", "shape": [15000, 15000], "data_offsets": [0, 900_000_000]}
    config = json.dumps(sequential([{"class_name": "Dense", "config": {"units": 15000,
                                                                        "use_bias": False}}],
                                   [15000]))
    header = json.dumps({"0.kernel": kernel,
                         "__metadata__": {"nnpy.format": "1", "nnpy.config": config}}).encode()
    started = time.perf_counter()
    with pytest.raises(ModelFormatError, match="truncated"):
        saving.load_model(len(header).to_bytes(8, "little") + header)
    assert time.perf_counter() - started < NO_HANG_S


def test_finding_the_broken_layer_is_linear_in_the_number_of_layers():
    entries = [{"class_name": "ReLU", "config": {}}] * 3000
    data = tiny_file(sequential([*entries, {"class_name": "Dense", "config": {"units": -1}}], [4]))
    started = time.perf_counter()
    with pytest.raises(ModelFormatError, match=r"at layer 3000 \(Dense\)"):
        saving.load_model(data)
    assert time.perf_counter() - started < NO_HANG_S  # rebuilding every prefix took 12.7 s


@pytest.mark.parametrize("key", ["nnpy.config", "nnpy.labels", "nnpy.input"])
def test_escaped_brackets_nesting_deep_in_a_metadata_string_are_refused(model_file, key):
    """"\u005b" x 3000 is 3000 opening brackets once the metadata string is parsed: counted on
    the decoded text, before the parse that crashed the browser's interpreter."""
    config = json.dumps(sequential([{"class_name": "Flatten", "config": {}}], [2]))
    header_text = json.dumps({"__metadata__": {"nnpy.format": "1", "nnpy.config": config,
                                               key: "\u005b" * 3000}})
    header = header_text.replace("\\\\u005b", "\\u005b").encode()  # escaped once, not twice
    header += b" " * (-len(header) % 8)
    data = len(header).to_bytes(8, "little") + header
    assert saving.decode_safetensors(data)[1][key] == "[" * 3000
    with pytest.raises(ModelFormatError, match=f"'{key}' metadata .*nested more than 64 levels"):
        saving.load_model(edited(model_file, lambda t, m: m.update({key: "[" * 3000})))
    with pytest.raises(ModelFormatError, match="nested more than 64 levels"):
        saving.load_model(data)


def test_labels_holding_brackets_are_text_not_nesting(model_file):
    labels = ["[" * 100, "]" * 100, '{"a": [[[']
    loaded = saving.load_model(edited(model_file, lambda t, m: m.update(
        {"nnpy.labels": json.dumps(labels)})))
    assert loaded.labels == labels


def test_a_damaged_weight_byte_is_reported_by_the_checksum(model_file):
    assert b'"nnpy.sha256":"' in model_file
    damaged = bytearray(model_file)
    damaged[-5] ^= 0x10  # a bit of the last weight: a valid float either way
    with pytest.raises(ModelFormatError, match="the file is damaged: its tensor data does not "
                                               "match the SHA-256 checksum"):
        saving.load_model(bytes(damaged))


def test_a_file_without_a_checksum_still_loads(model_file):
    tensors, metadata = saving.decode_safetensors(model_file)
    unchecked = saving.encode_safetensors(tensors, metadata)
    assert b"nnpy.sha256" not in unchecked
    assert saving.load_model(unchecked).labels == ["cat", "dog", "émeu"]


def test_model_errors_name_the_file(tmp_path, model_file):
    path = tmp_path / "model.safetensors"
    path.write_bytes(edited(model_file, lambda t, m: m.update({"nnpy.format": "7"})))
    with pytest.raises(ModelFormatError, match=f"^{path}: .*upgrade nnpy"):
        saving.load_model(path)


def test_random_model_header_flips_load_or_raise_model_format_error(model_file):
    header_end = 8 + int.from_bytes(model_file[:8], "little")
    rng = random.Random(99)
    rejected = 0
    for _ in range(300):
        damaged = bytearray(model_file)
        damaged[rng.randrange(header_end)] = rng.randrange(256)
        try:
            saving.load_model(damaged)
        except ModelFormatError:
            rejected += 1
    assert rejected > 100


def test_truncated_model_at_every_byte_raises_only_model_format_error(model_file):
    for length in range(len(model_file)):
        with pytest.raises(ModelFormatError):
            saving.load_model(model_file[:length])


def test_failed_save_model_keeps_the_previous_model(tmp_path, monkeypatch):
    model, path = trained_model(), tmp_path / "model.safetensors"
    saving.save_model(model, path)
    model.labels = ["changed"] * 3

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        saving.save_model(model, path)
    monkeypatch.undo()
    assert saving.load_model(path).labels == ["cat", "dog", "émeu"]
    assert os.listdir(tmp_path) == ["model.safetensors"]


# --------------------------------------------------------------------------- weights from PyTorch


def test_torch_to_nnpy_moves_output_channels_last():
    linear = np.arange(6.0).reshape(3, 2)  # (out, in)
    np.testing.assert_array_equal(saving.torch_to_nnpy("fc.weight", linear), linear.T)
    conv = np.arange(120.0).reshape(5, 4, 3, 2)  # (out, in, kh, kw)
    converted = saving.torch_to_nnpy("conv.weight", conv)
    assert converted.shape == (3, 2, 4, 5) and converted.flags.c_contiguous
    assert converted[2, 1, 3, 4] == conv[4, 3, 2, 1]
    bias = np.arange(5.0)
    np.testing.assert_array_equal(saving.torch_to_nnpy("conv.bias", bias), bias)
    np.testing.assert_array_equal(saving.torch_to_nnpy("bn.weight", bias), bias)


TORCH_TO_NNPY_NAMES = {
    "0.weight": "0.kernel", "0.bias": "0.bias",
    "1.weight": "1.gamma", "1.bias": "1.beta",
    "1.running_mean": "1.running_mean", "1.running_var": "1.running_var",
    "5.weight": "4.kernel", "5.bias": "4.bias",
}


def torch_name_map(name, array):
    if name not in TORCH_TO_NNPY_NAMES:  # e.g. 1.num_batches_tracked: nnpy has no such counter
        return None
    return TORCH_TO_NNPY_NAMES[name], saving.torch_to_nnpy(name, array)


def rename_only(name, array):
    """The names right but PyTorch's layout kept: the mistake `torch_to_nnpy` exists to fix."""
    return (TORCH_TO_NNPY_NAMES[name], array) if name in TORCH_TO_NNPY_NAMES else None


def torch_net_file():
    """A PyTorch conv net with its safetensors bytes: the weights nnpy should reproduce."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import save

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                              torch.nn.Linear(4, 3)).eval()
    with torch.no_grad():
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 2.0)
        net[1].weight.uniform_(0.5, 1.5)
    return net, save(net.state_dict())


def nnpy_twin():
    return Sequential([layers.Input((6, 6, 2)), layers.Conv2D(4, 3), layers.BatchNorm(epsilon=1e-5),
                            layers.ReLU(), layers.GlobalAvgPool2D(), layers.Dense(3)]).build()


def test_pytorch_weights_load_by_name_and_predict_the_same():
    import torch

    net, data = torch_net_file()
    model = saving.load_weights_by_name(nnpy_twin(), data, torch_name_map)
    x = np.random.default_rng(0).standard_normal((5, 6, 6, 2)).astype(np.float32)  # (N, H, W, C)
    with torch.no_grad():
        expected = net(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()  # (N, C, H, W)
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name_map, match", [
    (lambda name, array: (TORCH_TO_NNPY_NAMES.get(name, name), array),
     "1.num_batches_tracked, which the model lacks"),
    (lambda name, array: torch_name_map(name, array) if name != "5.bias" else None,
     r"nothing in the file fills '4.bias' \(layer 4, Dense"),
    (rename_only, "shape mismatch: '0.kernel'.*torch_to_nnpy"),
    ({"0.weight": "0.kernel", "missing.weight": "4.kernel"}, "no tensor missing.weight"),
    ({"0.bias": "0.bias", "5.bias": "0.bias"}, "two file tensors to '0.bias'"),
])
def test_load_weights_by_name_says_what_does_not_map(name_map, match):
    _, data = torch_net_file()
    with pytest.raises(ModelFormatError, match=match):
        saving.load_weights_by_name(nnpy_twin(), data, name_map)


def test_load_weights_by_name_copies_an_nnpy_model_into_a_fresh_twin(model_file):
    source = saving.load_model(model_file)
    twin = Sequential([layers.Input((4, 4, 2)), layers.Conv2D(3, 3, activation="relu"),
                            layers.BatchNorm(), layers.Flatten(), layers.Dense(3)], seed=99).build()
    saving.load_weights_by_name(twin, model_file)
    np.testing.assert_array_equal(twin.forward(model_inputs()), source.forward(model_inputs()))
    with pytest.raises(ValueError, match="model.build"):
        saving.load_weights_by_name(Sequential([layers.Dense(3)]), model_file)


def test_a_model_without_layers_is_refused():
    config = {"class_name": "Sequential", "input_shape": [1], "layers": [], "seed": 0,
              "compile": None}
    with pytest.raises(ModelFormatError, match="has no layers"):
        saving.model_from_state({}, {"nnpy.format": "1", "nnpy.config": json.dumps(config)})
