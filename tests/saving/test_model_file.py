"""Model files: whole models saved and loaded, malformed models, weights from PyTorch by name."""

import json
import os
import random

import numpy as np
import pytest

from nnpy import Sequential, layers, optimizers, saving
from nnpy.errors import ModelFormatError


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


@pytest.mark.parametrize("edit, match", MALFORMED_MODELS.values(), ids=MALFORMED_MODELS.keys())
def test_malformed_model_raises_a_specific_model_format_error(model_file, edit, match):
    with pytest.raises(ModelFormatError, match=match):
        saving.load_model(edited(model_file, edit))


def test_optimizer_state_that_does_not_fit_is_a_model_format_error():
    data = saving.model_to_bytes(trained_model(), include_optimizer=True)
    damaged = edited(data, lambda t, m: t.update({"optimizer.iterations": np.arange(3)}))
    with pytest.raises(ModelFormatError, match="optimizer state does not fit Adam"):
        saving.load_model(damaged)


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
