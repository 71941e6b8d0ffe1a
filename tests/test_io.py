"""Model files: our safetensors codec against the official one, malformed input, atomic saves."""

import json
import os
import random
import time
import tracemalloc

import numpy as np
import pytest

from nnpy import Sequential, io, layers, optimizers
from nnpy.errors import ModelFormatError

DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8",
          "uint64", "uint32", "uint16", "uint8", "bool"]
SHAPES = [(), (0,), (2, 0, 3), (5,), (3, 4), (2, 3, 1, 2)]


def random_array(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)  # a 0-d comparison gives a scalar, not an array
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


def small_file():
    """A couple of tensors plus metadata: the sample the fuzz-style tests cut and flip."""
    tensors = {"0.kernel": np.arange(6, dtype=np.float32).reshape(2, 3),
               "0.bias": np.array([1, -2, 3], dtype=np.int16)}
    return io.encode_safetensors(tensors, {"nnpy.format": "1", "note": "héllo"})


def raw_file(header, data=b""):
    """Hand-built safetensors bytes: `header` is a JSON-able object or already-encoded bytes."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def entry(dtype="F32", shape=(1,), offsets=(0, 4)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_and_shape_round_trips(dtype):
    tensors = {f"t{i}": random_array(dtype, shape, seed=i) for i, shape in enumerate(SHAPES)}
    decoded, metadata = io.decode_safetensors(io.encode_safetensors(tensors))
    assert metadata == {}
    assert list(decoded) == list(tensors)
    for name, array in tensors.items():
        assert decoded[name].dtype == array.dtype
        assert decoded[name].shape == array.shape
        np.testing.assert_array_equal(decoded[name], array)


def test_decoded_arrays_are_writable_copies_of_read_only_bytes():
    data = bytes(small_file())
    tensors, _ = io.decode_safetensors(memoryview(data))
    tensors["0.kernel"][0, 0] = 42.0
    assert io.decode_safetensors(data)[0]["0.kernel"][0, 0] == 0.0


def test_layout_is_standard_padded_header_then_contiguous_data():
    tensors = {"a": np.ones(3, np.float64), "b": np.ones(1, np.uint8), "c": np.ones(2, np.int32)}
    data = io.encode_safetensors(tensors, {"k": "v"})
    length = int.from_bytes(data[:8], "little")
    assert length % 8 == 0
    header = json.loads(data[8 : 8 + length])
    assert header["__metadata__"] == {"k": "v"}
    spans = sorted(tuple(header[name]["data_offsets"]) for name in tensors)
    assert spans == [(0, 24), (24, 25), (25, 33)]
    assert len(data) == 8 + length + 33


def test_big_endian_and_fortran_order_input_is_written_little_endian_c_order():
    tensors = {"be": np.arange(4, dtype=">i4"), "f": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
    decoded, _ = io.decode_safetensors(io.encode_safetensors(tensors))
    np.testing.assert_array_equal(decoded["be"], np.arange(4))
    np.testing.assert_array_equal(decoded["f"], np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("tensors, metadata, match", [
    ({"c": np.ones(2, np.complex64)}, None, "complex64"),
    ({"o": np.array([object()])}, None, "dtype object"),
    ({"__metadata__": np.ones(1)}, None, "__metadata__"),
    ({"a": np.ones(1)}, {"epochs": 3}, "str to str"),
])
def test_encode_rejects_what_safetensors_cannot_store(tensors, metadata, match):
    with pytest.raises(TypeError, match=match):
        io.encode_safetensors(tensors, metadata)


# --------------------------------------------------------------------------- the official reader


def test_official_safetensors_reads_our_bytes(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load

    tensors = {f"{dtype}.{i}": random_array(dtype, shape, seed=i)
               for dtype in DTYPES for i, shape in enumerate(SHAPES)}
    metadata = {"nnpy.format": "1", "nnpy.labels": json.dumps(["cat", "dög"])}
    data = io.encode_safetensors(tensors, metadata)
    loaded = load(data)
    assert sorted(loaded) == sorted(tensors)
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)
    path = tmp_path / "ours.safetensors"
    io.save_safetensors(path, tensors, metadata)
    with safe_open(str(path), framework="numpy") as file:
        assert file.metadata() == metadata


def test_we_read_official_safetensors_bytes():
    from safetensors.numpy import save

    tensors = {f"{dtype}.{i}": random_array(dtype, shape, seed=i)
               for dtype in DTYPES for i, shape in enumerate(SHAPES)}
    decoded, metadata = io.decode_safetensors(save(tensors, metadata={"k": "v"}))
    assert metadata == {"k": "v"}
    assert sorted(decoded) == sorted(tensors)
    for name, array in tensors.items():
        assert decoded[name].dtype == array.dtype
        np.testing.assert_array_equal(decoded[name], array)


def test_we_read_torch_bfloat16_as_the_same_float32_values():
    torch = pytest.importorskip("torch")
    from safetensors.torch import save

    generator = torch.Generator().manual_seed(0)
    bf16 = (torch.randn(3, 5, generator=generator) * 100).to(torch.bfloat16)
    special = torch.tensor([0.0, -0.0, float("inf"), -float("inf"), 1e-40], dtype=torch.bfloat16)
    data = save({"w": bf16, "s": special, "h": bf16.to(torch.float16), "i": torch.arange(4)})
    decoded, _ = io.decode_safetensors(data)
    assert decoded["w"].dtype == np.float32
    np.testing.assert_array_equal(decoded["w"], bf16.float().numpy())
    np.testing.assert_array_equal(decoded["s"], special.float().numpy())
    np.testing.assert_array_equal(np.signbit(decoded["s"]), np.signbit(special.float().numpy()))
    np.testing.assert_array_equal(decoded["h"], bf16.to(torch.float16).numpy())
    np.testing.assert_array_equal(decoded["i"], np.arange(4))


# --------------------------------------------------------------------------- malformed input

FOUR = b"\0\0\x80\x3f"  # 1.0 as little-endian float32
MALFORMED = {
    "too short": (b"\x10\0\0", "shorter than the 8-byte header length"),
    "header longer than file": ((1000).to_bytes(8, "little") + b"{}", "larger than the file"),
    "header over the cap": ((200_000_000).to_bytes(8, "little") + b"{}", "size cap"),
    "not utf-8": (raw_file(b'{"\xff\xfe": 1}'), "not UTF-8"),
    "not json": (raw_file(b"{'a': 1}"), "not valid JSON"),
    "json integer too long": (raw_file(b"9" * 5000), "not valid JSON"),
    "json not an object": (raw_file([1, 2]), "must be a JSON object, found list"),
    "deeply nested json": (raw_file(b"[" * 200_000), "nested more than 64 levels"),
    "duplicate name": (raw_file(b'{"a": {}, "a": {}}'), "names 'a' twice"),
    "metadata not an object": (raw_file({"__metadata__": ["x"]}), "__metadata__ must be"),
    "metadata value not str": (raw_file({"__metadata__": {"k": 3}}), r"__metadata__\['k'\]"),
    "entry not an object": (raw_file({"w": [1, 2]}), "'w' must be an object"),
    "entry lacks keys": (raw_file({"w": {"dtype": "F32"}}), "lacks shape, data_offsets"),
    "unknown dtype": (raw_file({"w": entry(dtype="F8")}, FOUR), "unknown dtype 'F8'"),
    "dtype not a string": (raw_file({"w": entry(dtype=4)}, FOUR), "unknown dtype 4"),
    "shape not a list": (raw_file({"w": {**entry(), "shape": 4}}, FOUR), "has shape 4"),
    "negative shape": (raw_file({"w": entry(shape=[-1])}, FOUR), r"has shape \[-1\]"),
    "bool in shape": (raw_file({"w": entry(shape=[True])}, FOUR), r"has shape \[True\]"),
    "float in shape": (raw_file({"w": entry(shape=[1.0])}, FOUR), "non-negative integers"),
    "too many axes": (raw_file({"w": entry(shape=[1] * 40)}, FOUR), "40 dimensions"),
    "offsets not a pair": (raw_file({"w": entry(offsets=[0])}, FOUR), r"expected \[begin, end\]"),
    "negative offset": (raw_file({"w": entry(offsets=[-4, 0])}, FOUR), "data_offsets"),
    "begin after end": (raw_file({"w": entry(offsets=[4, 0])}, FOUR), "begin > end"),
    "shape and bytes disagree": (raw_file({"w": entry(shape=[2])}, FOUR),
                                 r"needs 8 bytes but data_offsets \[0, 4\] hold 4"),
    "absurd shape": (raw_file({"w": entry(shape=[10**12, 10**12])}, FOUR), "absurd shape"),
    "offsets past the data": (raw_file({"w": entry(offsets=[4, 8])}, FOUR),
                              "truncated: expected 8 bytes of tensor data, found 4"),
    "overlap": (raw_file({"a": entry(shape=[2], offsets=[0, 8]), "b": entry(offsets=[4, 8])},
                         FOUR * 2), "'b' overlaps"),
    "hole": (raw_file({"a": entry(), "b": entry(offsets=[8, 12])}, FOUR * 3),
             r"hole: bytes 4\.\.8"),
    "trailing bytes": (raw_file({"w": entry()}, FOUR * 2), "4 bytes after the last tensor"),
    "bool bytes not 0 or 1": (raw_file({"w": entry(dtype="BOOL", shape=[4])}, b"\0\1\2\1"),
                              "other than 0 and 1"),
}


@pytest.mark.parametrize("data, match", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_raises_a_specific_model_format_error(data, match):
    with pytest.raises(ModelFormatError, match=match):
        io.decode_safetensors(data)


def test_truncated_file_says_so_and_what_to_do():
    data = small_file()
    with pytest.raises(ModelFormatError) as caught:
        io.decode_safetensors(data[:-5])
    assert str(caught.value) == (
        "the file is truncated: expected 30 bytes of tensor data, found 25 "
        "— re-download or re-save the model")


def test_truncation_at_every_byte_raises_only_model_format_error():
    data = small_file()
    for length in range(len(data)):
        with pytest.raises(ModelFormatError):
            io.decode_safetensors(data[:length])


def test_random_header_byte_flips_decode_or_raise_model_format_error():
    data = small_file()
    header_end = 8 + int.from_bytes(data[:8], "little")
    rng = random.Random(1234)
    outcomes = {"decoded": 0, "rejected": 0}
    for _ in range(400):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(header_end)] = rng.randrange(256)
        try:
            io.decode_safetensors(damaged)
            outcomes["decoded"] += 1
        except ModelFormatError:
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 200  # the flips really did damage the header
    assert outcomes["decoded"] > 0  # e.g. a flipped letter inside a name or metadata value


@pytest.mark.parametrize("shape", [[10**12, 10**12], [2**62] * 32, [10**4000, 10**4000]])
def test_absurd_shapes_are_rejected_fast_without_allocating(shape):
    data = raw_file({"w": entry(shape=shape)}, FOUR)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ModelFormatError, match="absurd shape"):
            io.decode_safetensors(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000
    assert time.perf_counter() - started < 1.0


def test_huge_header_length_is_rejected_before_reading_the_header():
    data = (2**64 - 1).to_bytes(8, "little") + b" " * 64
    with pytest.raises(ModelFormatError, match="size cap"):
        io.decode_safetensors(data)


# --------------------------------------------------------------------------- files


def test_read_accepts_paths_and_every_bytes_like(tmp_path):
    path = tmp_path / "weights.safetensors"
    tensors = {"w": np.arange(3, dtype=np.float32)}
    io.save_safetensors(path, tensors, {"k": "v"})
    data = path.read_bytes()
    for source in (path, str(path), data, bytearray(data), memoryview(data)):
        decoded, metadata = io.read_safetensors(source)
        np.testing.assert_array_equal(decoded["w"], tensors["w"])
        assert metadata == {"k": "v"}


def test_read_errors_name_the_file_and_say_what_to_do(tmp_path):
    with pytest.raises(IsADirectoryError, match="pass the path of the .safetensors file"):
        io.read_safetensors(tmp_path)
    with pytest.raises(FileNotFoundError, match="check the path"):
        io.read_safetensors(tmp_path / "missing.safetensors")
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(small_file()[:-1])
    with pytest.raises(ModelFormatError, match=f"^{damaged}: the file is truncated"):
        io.read_safetensors(damaged)


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch,
                                                                     failing):
    path = tmp_path / "model.safetensors"
    io.save_safetensors(path, {"w": np.ones(3, np.float32)}, {"version": "good"})

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space left"):
        io.save_safetensors(path, {"w": np.zeros(5, np.float32)}, {"version": "new"})
    monkeypatch.undo()
    tensors, metadata = io.read_safetensors(path)
    assert metadata == {"version": "good"}
    np.testing.assert_array_equal(tensors["w"], np.ones(3, np.float32))
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_save_replaces_the_previous_file(tmp_path):
    path = tmp_path / "model.safetensors"
    io.save_safetensors(path, {"w": np.ones(3, np.float32)})
    io.save_safetensors(path, {"v": np.zeros(2, np.int8)}, {"k": "v"})
    tensors, metadata = io.read_safetensors(path)
    assert list(tensors) == ["v"] and metadata == {"k": "v"}
    assert os.listdir(tmp_path) == ["model.safetensors"]


# --------------------------------------------------------------------------- whole models

def trained_model():
    """A small classifier with every kind of saved tensor: kernels, biases, BatchNorm buffers."""
    model = Sequential([layers.Input((4, 4, 2)), layers.Conv2D(3, 3, activation="relu"),
                             layers.BatchNorm(), layers.Flatten(), layers.Dense(3)], seed=3)
    model.compile(optimizer=optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x, y = model_inputs(), np.arange(16) % 3
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.labels = ["cat", "dog", "émeu"]
    model.input_spec = {"size": [4, 4], "channels": 2, "scale": 1 / 255}
    return model


def model_inputs():
    return np.random.default_rng(7).standard_normal((16, 4, 4, 2)).astype(np.float32)


def edited(data, edit):
    """`data` (a model file) re-encoded after `edit(tensors, metadata)` changed it in place."""
    tensors, metadata = io.decode_safetensors(data)
    edit(tensors, metadata)
    return io.encode_safetensors(tensors, metadata)


def edit_config(change):
    def edit(tensors, metadata):
        config = json.loads(metadata["nnpy.config"])
        change(config)
        metadata["nnpy.config"] = json.dumps(config)
    return edit


@pytest.fixture(scope="module")
def model_file():
    return io.model_to_bytes(trained_model())


def test_save_and_load_give_identical_predictions_from_path_and_bytes(tmp_path):
    model = trained_model()
    path = tmp_path / "digits.safetensors"
    io.save_model(model, path)
    for source in (path, str(path), path.read_bytes(), io.model_to_bytes(model)):
        loaded = io.load_model(source)
        np.testing.assert_array_equal(loaded.predict(model_inputs()), model.predict(model_inputs()))
        for name, array in model.state_dict().items():
            np.testing.assert_array_equal(loaded.state_dict()[name], array)
            assert loaded.state_dict()[name].dtype == array.dtype


def test_labels_and_input_spec_survive(model_file):
    loaded = io.load_model(model_file)
    assert loaded.labels == ["cat", "dog", "émeu"]
    assert loaded.input_spec == {"size": [4, 4], "channels": 2, "scale": 1 / 255}


def test_model_file_is_plain_safetensors_for_the_official_reader(model_file):
    from safetensors.numpy import load

    tensors = load(model_file)
    assert sorted(tensors) == ["0.bias", "0.kernel", "1.beta", "1.gamma", "1.running_mean",
                               "1.running_var", "3.bias", "3.kernel"]
    assert tensors["0.kernel"].shape == (3, 3, 2, 3)  # (kh, kw, in, out)


def test_optimizer_state_is_saved_only_when_asked_and_restored():
    model = trained_model()
    assert not any(n.startswith("optimizer.") for n in io.decode_safetensors(
        io.model_to_bytes(model))[0])
    loaded = io.load_model(io.model_to_bytes(model, include_optimizer=True))
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
        io.load_model(edited(model_file, edit))


def test_optimizer_state_that_does_not_fit_is_a_model_format_error():
    data = io.model_to_bytes(trained_model(), include_optimizer=True)
    damaged = edited(data, lambda t, m: t.update({"optimizer.iterations": np.arange(3)}))
    with pytest.raises(ModelFormatError, match="optimizer state does not fit Adam"):
        io.load_model(damaged)


def test_model_errors_name_the_file(tmp_path, model_file):
    path = tmp_path / "model.safetensors"
    path.write_bytes(edited(model_file, lambda t, m: m.update({"nnpy.format": "7"})))
    with pytest.raises(ModelFormatError, match=f"^{path}: .*upgrade nnpy"):
        io.load_model(path)


def test_random_model_header_flips_load_or_raise_model_format_error(model_file):
    header_end = 8 + int.from_bytes(model_file[:8], "little")
    rng = random.Random(99)
    rejected = 0
    for _ in range(300):
        damaged = bytearray(model_file)
        damaged[rng.randrange(header_end)] = rng.randrange(256)
        try:
            io.load_model(damaged)
        except ModelFormatError:
            rejected += 1
    assert rejected > 100


def test_truncated_model_at_every_byte_raises_only_model_format_error(model_file):
    for length in range(len(model_file)):
        with pytest.raises(ModelFormatError):
            io.load_model(model_file[:length])


def test_failed_save_model_keeps_the_previous_model(tmp_path, monkeypatch):
    model, path = trained_model(), tmp_path / "model.safetensors"
    io.save_model(model, path)
    model.labels = ["changed"] * 3

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        io.save_model(model, path)
    monkeypatch.undo()
    assert io.load_model(path).labels == ["cat", "dog", "émeu"]
    assert os.listdir(tmp_path) == ["model.safetensors"]


# --------------------------------------------------------------------------- weights from PyTorch


def test_torch_to_nnpy_moves_output_channels_last():
    linear = np.arange(6.0).reshape(3, 2)  # (out, in)
    np.testing.assert_array_equal(io.torch_to_nnpy("fc.weight", linear), linear.T)
    conv = np.arange(120.0).reshape(5, 4, 3, 2)  # (out, in, kh, kw)
    converted = io.torch_to_nnpy("conv.weight", conv)
    assert converted.shape == (3, 2, 4, 5) and converted.flags.c_contiguous
    assert converted[2, 1, 3, 4] == conv[4, 3, 2, 1]
    bias = np.arange(5.0)
    np.testing.assert_array_equal(io.torch_to_nnpy("conv.bias", bias), bias)
    np.testing.assert_array_equal(io.torch_to_nnpy("bn.weight", bias), bias)


TORCH_TO_NNPY_NAMES = {
    "0.weight": "0.kernel", "0.bias": "0.bias",
    "1.weight": "1.gamma", "1.bias": "1.beta",
    "1.running_mean": "1.running_mean", "1.running_var": "1.running_var",
    "5.weight": "4.kernel", "5.bias": "4.bias",
}


def torch_name_map(name, array):
    if name not in TORCH_TO_NNPY_NAMES:  # e.g. 1.num_batches_tracked: nnpy has no such counter
        return None
    return TORCH_TO_NNPY_NAMES[name], io.torch_to_nnpy(name, array)


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
    model = io.load_weights_by_name(nnpy_twin(), data, torch_name_map)
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
        io.load_weights_by_name(nnpy_twin(), data, name_map)


def test_load_weights_by_name_copies_an_nnpy_model_into_a_fresh_twin(model_file):
    source = io.load_model(model_file)
    twin = Sequential([layers.Input((4, 4, 2)), layers.Conv2D(3, 3, activation="relu"),
                            layers.BatchNorm(), layers.Flatten(), layers.Dense(3)], seed=99).build()
    io.load_weights_by_name(twin, model_file)
    np.testing.assert_array_equal(twin.forward(model_inputs()), source.forward(model_inputs()))
    with pytest.raises(ValueError, match="model.build"):
        io.load_weights_by_name(Sequential([layers.Dense(3)]), model_file)
