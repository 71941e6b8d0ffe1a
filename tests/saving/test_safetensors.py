"""The safetensors codec: against the official reader, malformed input, atomic saves."""

import hashlib
import json
import os
import random
import time
import tracemalloc

import numpy as np
import pytest

from nnpy import saving
from nnpy.errors import ModelFormatError

# A bound on a refusal's wall time that only a hang or a quadratic blow-up crosses (they take
# minutes; a refusal takes milliseconds, tenths in Pyodide on a busy machine): not a speed test.
NO_HANG_S = 6.0

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
    return saving.encode_safetensors(tensors, {"nnpy.format": "1", "note": "héllo"})


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
    decoded, metadata = saving.decode_safetensors(saving.encode_safetensors(tensors))
    assert metadata == {}
    assert list(decoded) == list(tensors)
    for name, array in tensors.items():
        assert decoded[name].dtype == array.dtype
        assert decoded[name].shape == array.shape
        np.testing.assert_array_equal(decoded[name], array)


def test_decoded_arrays_are_writable_copies_of_read_only_bytes():
    data = bytes(small_file())
    tensors, _ = saving.decode_safetensors(memoryview(data))
    tensors["0.kernel"][0, 0] = 42.0
    assert saving.decode_safetensors(data)[0]["0.kernel"][0, 0] == 0.0


def test_layout_is_standard_padded_header_then_contiguous_data():
    tensors = {"a": np.ones(3, np.float64), "b": np.ones(1, np.uint8), "c": np.ones(2, np.int32)}
    data = saving.encode_safetensors(tensors, {"k": "v"})
    length = int.from_bytes(data[:8], "little")
    assert length % 8 == 0
    header = json.loads(data[8 : 8 + length])
    assert header["__metadata__"] == {"k": "v"}
    spans = sorted(tuple(header[name]["data_offsets"]) for name in tensors)
    assert spans == [(0, 24), (24, 25), (25, 33)]
    assert len(data) == 8 + length + 33


def test_big_endian_and_fortran_order_input_is_written_little_endian_c_order():
    tensors = {"be": np.arange(4, dtype=">i4"), "f": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
    decoded, _ = saving.decode_safetensors(saving.encode_safetensors(tensors))
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
        saving.encode_safetensors(tensors, metadata)


# --------------------------------------------------------------------------- the official reader


def test_official_safetensors_reads_our_bytes(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load

    tensors = {f"{dtype}.{i}": random_array(dtype, shape, seed=i)
               for dtype in DTYPES for i, shape in enumerate(SHAPES)}
    metadata = {"nnpy.format": "1", "nnpy.labels": json.dumps(["cat", "dög"])}
    data = saving.encode_safetensors(tensors, metadata)
    loaded = load(data)
    assert sorted(loaded) == sorted(tensors)
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)
    path = tmp_path / "ours.safetensors"
    saving.save_safetensors(path, tensors, metadata)
    with safe_open(str(path), framework="numpy") as file:
        assert file.metadata() == metadata


def test_we_read_official_safetensors_bytes():
    from safetensors.numpy import save

    tensors = {f"{dtype}.{i}": random_array(dtype, shape, seed=i)
               for dtype in DTYPES for i, shape in enumerate(SHAPES)}
    decoded, metadata = saving.decode_safetensors(save(tensors, metadata={"k": "v"}))
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
    decoded, _ = saving.decode_safetensors(data)
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
        saving.decode_safetensors(data)


def test_truncated_file_says_so_and_what_to_do():
    data = small_file()
    with pytest.raises(ModelFormatError) as caught:
        saving.decode_safetensors(data[:-5])
    assert str(caught.value) == (
        "the file is truncated: expected 30 bytes of tensor data, found 25 "
        "— re-download or re-save the model")


def test_truncation_at_every_byte_raises_only_model_format_error():
    data = small_file()
    for length in range(len(data)):
        with pytest.raises(ModelFormatError):
            saving.decode_safetensors(data[:length])


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
            saving.decode_safetensors(damaged)
            outcomes["decoded"] += 1
        except ModelFormatError:
            outcomes["rejected"] += 1
    assert outcomes["rejected"] > 200  # the flips really did damage the header
    assert outcomes["decoded"] > 0  # e.g. a flipped letter inside a name or metadata value


@pytest.mark.parametrize("shape, data", [
    ([10**12, 10**12], FOUR), ([2**62] * 32, FOUR), ([10**4000, 10**4000], FOUR),
    # empty tensors (0 bytes) whose other dimensions NumPy still refuses to count
    ([0, 2**63], b""), ([2**64, 0], b""), ([0, 2**40, 2**40], b""), ([0, 2**61, 4], b""),
], ids=str)
def test_absurd_shapes_are_rejected_fast_without_allocating(shape, data):
    offsets = (0, len(data))
    data = raw_file({"w": entry(shape=shape, offsets=offsets)}, data)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ModelFormatError, match="absurd shape"):
            saving.decode_safetensors(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000
    assert time.perf_counter() - started < NO_HANG_S


def test_huge_header_length_is_rejected_before_reading_the_header():
    data = (2**64 - 1).to_bytes(8, "little") + b" " * 64
    with pytest.raises(ModelFormatError, match="size cap"):
        saving.decode_safetensors(data)


# --------------------------------------------------------------------------- files


def test_read_accepts_paths_and_every_bytes_like(tmp_path):
    path = tmp_path / "weights.safetensors"
    tensors = {"w": np.arange(3, dtype=np.float32)}
    saving.save_safetensors(path, tensors, {"k": "v"})
    data = path.read_bytes()
    for source in (path, str(path), data, bytearray(data), memoryview(data)):
        decoded, metadata = saving.read_safetensors(source)
        np.testing.assert_array_equal(decoded["w"], tensors["w"])
        assert metadata == {"k": "v"}


def test_read_errors_name_the_file_and_say_what_to_do(tmp_path):
    with pytest.raises(IsADirectoryError, match="pass the path of the .safetensors file"):
        saving.read_safetensors(tmp_path)
    with pytest.raises(FileNotFoundError, match="check the path"):
        saving.read_safetensors(tmp_path / "missing.safetensors")
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(small_file()[:-1])
    with pytest.raises(ModelFormatError, match=f"^{damaged}: the file is truncated"):
        saving.read_safetensors(damaged)


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch,
                                                                     failing):
    path = tmp_path / "model.safetensors"
    saving.save_safetensors(path, {"w": np.ones(3, np.float32)}, {"version": "good"})

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="No space left"):
        saving.save_safetensors(path, {"w": np.zeros(5, np.float32)}, {"version": "new"})
    monkeypatch.undo()
    tensors, metadata = saving.read_safetensors(path)
    assert metadata == {"version": "good"}
    np.testing.assert_array_equal(tensors["w"], np.ones(3, np.float32))
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_save_replaces_the_previous_file(tmp_path):
    path = tmp_path / "model.safetensors"
    saving.save_safetensors(path, {"w": np.ones(3, np.float32)})
    saving.save_safetensors(path, {"v": np.zeros(2, np.int8)}, {"k": "v"})
    tensors, metadata = saving.read_safetensors(path)
    assert list(tensors) == ["v"] and metadata == {"k": "v"}
    assert os.listdir(tmp_path) == ["model.safetensors"]




def test_large_empty_tensors_numpy_can_make_still_decode():
    data = raw_file({"w": entry(dtype="I8", shape=[0, 2**30], offsets=(0, 0))})  # 32-bit too
    assert saving.decode_safetensors(data)[0]["w"].shape == (0, 2**30)


def test_a_checksum_is_written_on_request_verified_and_removed():
    tensors = {"w": np.arange(6, dtype=np.float32)}
    data = saving.encode_safetensors(tensors, {"a": "b"}, checksum=True)
    assert b'"nnpy.sha256":"' in data
    _decoded, metadata = saving.decode_safetensors(data)
    assert metadata == {"a": "b"}
    damaged = bytearray(data)
    damaged[-3] ^= 0x01  # one bit of one weight
    with pytest.raises(ModelFormatError, match="the file is damaged: its tensor data does not "
                                               "match the SHA-256 checksum"):
        saving.decode_safetensors(bytes(damaged))
    assert "nnpy.sha256" not in saving.encode_safetensors(tensors, {"a": "b"}).decode("latin-1")


def test_a_checksum_is_compared_with_a_digest_the_caller_computed(monkeypatch):
    """decode_safetensors(data_sha256=...) (the browser worker's native digest) compares that,
    and hashes nothing itself; a digest that differs is a damaged file."""
    data = saving.encode_safetensors({"w": np.arange(6, dtype=np.float32)}, checksum=True)
    start = 8 + int.from_bytes(data[:8], "little")
    digest = hashlib.sha256(data[start:]).hexdigest()
    monkeypatch.setattr(hashlib, "sha256", None)  # calling it would fail
    tensors, metadata = saving.decode_safetensors(data, data_sha256=digest)
    assert tensors["w"].tolist() == list(range(6)) and metadata == {}
    with pytest.raises(ModelFormatError, match="the file is damaged"):
        saving.decode_safetensors(data, data_sha256="0" * 64)


def test_deep_header_nesting_is_refused_before_parsing():
    nesting = b'{"a":' * 70 + b"1" + b"}" * 70
    with pytest.raises(ModelFormatError, match="nested more than 64 levels"):
        saving.decode_safetensors(raw_file(nesting))


def test_brackets_inside_strings_are_not_nesting():
    """A name or metadata value may hold any brackets: they are text, not structure."""
    tensors = {"[" * 100: np.zeros(1, np.float32)}
    data = saving.encode_safetensors(tensors, {"note": "{[" * 500 + '\\"[' * 10})
    decoded, metadata = saving.decode_safetensors(data)
    assert list(decoded) == ["[" * 100] and metadata["note"].startswith("{[{[")


@pytest.mark.parametrize("text", ['{"a": "' + '\\"' * 200_000, '{"a": "' + '\\' * 200_001,
                                  '"' * 400_000, "[" * 64 + '"' + "]" * 64],
                         ids=["escaped quotes", "backslashes", "quotes", "unterminated"])
def test_unterminated_strings_are_refused_in_linear_time(text):
    started = time.perf_counter()
    with pytest.raises(ModelFormatError, match="not valid JSON|nested"):
        saving.decode_safetensors(raw_file(text.encode()))
    assert time.perf_counter() - started < NO_HANG_S
