"""TF.js models in and out, with TF.js itself (Node, cpu backend) as the oracle: the fixtures are
made by TF.js (tfjs_oracle.cjs), the real-world model is nsfwjs's MobileNetV2 from npm, and every
comparison feeds the very same float32 inputs to both.

npm packages go into the git-ignored .cache/interop-node/ (installed here on first use)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnpy
from nnpy.saving.tfjs_writer import save_tfjs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared sample models
from interop_models import sample_models

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / ".cache" / "interop-node"
PACKAGES = {"@tensorflow/tfjs": "4.22.0", "nsfwjs": "4.4.0"}
ORACLE = Path(__file__).with_name("tfjs_oracle.cjs")
TOLERANCE = 1e-5  # float32 arithmetic in a different order


def _installed():
    found = {}
    for name in PACKAGES:
        package = NODE_DIR / "node_modules" / name / "package.json"
        if package.exists():
            found[name] = json.loads(package.read_text())["version"]
    return found == PACKAGES


@pytest.fixture(scope="session")
def node_env():
    return ensure_node()


def ensure_node():
    """The environment for running tfjs_oracle.cjs, installing TF.js and nsfwjs if needed
    (skips the test without Node.js or npm); the browser tests use it too."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is needed to run TF.js as the oracle")
    if not _installed():
        if shutil.which("npm") is None:
            pytest.skip("npm is needed to install TF.js and nsfwjs")
        sys.path.insert(0, str(ROOT))
        import build  # here, not above: the in-Pyodide suite collects this file too

        build.npm_install(NODE_DIR, PACKAGES, "nnpy interop test peers (not part of nnpy)",
                          "the TF.js oracle")
    return {**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")}


def run_oracle(env, *args):
    subprocess.run(["node", str(ORACLE), *map(str, args)], env=env, check=True,
                   capture_output=True, text=True)


@pytest.fixture(scope="session")
def fixtures(node_env, tmp_path_factory):
    """TF.js-made models: sequential, nested, functional, teachable (a Teachable Machine export)."""
    directory = tmp_path_factory.mktemp("tfjs-fixtures")
    run_oracle(node_env, "make", directory)
    return directory


@pytest.fixture(scope="session")
def nsfwjs_dir(node_env, tmp_path_factory):
    directory = tmp_path_factory.mktemp("nsfwjs")
    run_oracle(node_env, "nsfwjs", directory)
    return directory


def tfjs_predict(env, model_dir, x, tmp_path):
    inputs, outputs = tmp_path / "inputs.bin", tmp_path / "outputs.bin"
    np.ascontiguousarray(x, "<f4").tofile(inputs)
    Path(f"{inputs}.json").write_text(json.dumps({"shape": list(x.shape)}))
    run_oracle(env, "predict", model_dir, inputs, outputs)
    shape = json.loads(Path(f"{outputs}.json").read_text())["shape"]
    return np.fromfile(outputs, "<f4").reshape(shape)


def _inputs(model, count=4, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (count, *model.input_shape)).astype("f4")


@pytest.mark.parametrize("name, layer_count", [("sequential", 17), ("nested", 4),
                                               ("functional", 8)])
def test_tfjs_made_models_predict_as_tfjs_does(node_env, fixtures, tmp_path, name, layer_count):
    model = nnpy.load_model(fixtures / name / "model.json")
    assert isinstance(model, nnpy.Model) and len(model.layers) == layer_count
    x = _inputs(model)
    ours, theirs = model.predict(x), tfjs_predict(node_env, fixtures / name, x, tmp_path)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < TOLERANCE


def test_the_sequential_fixture_holds_every_layer_kind_of_the_list(fixtures):
    model = nnpy.load_model(fixtures / "sequential" / "model.json")
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"Conv2D", "BatchNormalization", "MaxPool2D", "SeparableConv2D", "DepthwiseConv2D",
            "ZeroPadding2D", "AvgPool2D", "Tanh", "ReLU", "Flatten", "Dropout", "Dense",
            "Reshape", "LeakyReLU", "Softmax"} <= kinds


def _quantised(source, target, dtype):
    """A copy of a TF.js model with every weight stored as `dtype`, the way
    tensorflowjs_converter --quantize_* writes them (affine uint8/uint16, or float16)."""
    document = json.loads((source / "model.json").read_text())
    data = (source / "weights.bin").read_bytes()
    offset, blobs = 0, []
    for spec in document["weightsManifest"][0]["weights"]:
        count = int(np.prod(spec["shape"]))
        values = np.frombuffer(data, "<f4", count, offset)
        offset += 4 * count
        if dtype == "float16":
            blobs.append(values.astype("<f2").tobytes())
            spec["quantization"] = {"dtype": "float16"}
            continue
        levels = 255 if dtype == "uint8" else 65535
        low, high = float(values.min()), float(values.max())
        scale = (high - low) / levels or 1.0
        stored = np.round((values - low) / scale).astype("u1" if dtype == "uint8" else "<u2")
        blobs.append(stored.tobytes())
        spec["quantization"] = {"dtype": dtype, "scale": scale, "min": low}
    # shards split unevenly: the weights run across the boundary
    joined = b"".join(blobs)
    cut = len(joined) // 3
    document["weightsManifest"][0]["paths"] = ["group1-shard1of2.bin", "group1-shard2of2.bin"]
    target.mkdir()
    (target / "group1-shard1of2.bin").write_bytes(joined[:cut])
    (target / "group1-shard2of2.bin").write_bytes(joined[cut:])
    (target / "model.json").write_text(json.dumps(document))
    return target


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16"])
@pytest.mark.parametrize("name", ["sequential", "functional"])
def test_quantised_weights_give_what_tfjs_gives(node_env, fixtures, tmp_path, name, dtype):
    quantised = _quantised(fixtures / name, tmp_path / "quantised", dtype)
    model = nnpy.load_model(quantised / "model.json")
    x = _inputs(model, seed=1)
    theirs = tfjs_predict(node_env, quantised, x, tmp_path)
    assert np.abs(model.predict(x) - theirs).max() < TOLERANCE
    original = nnpy.load_model(fixtures / name / "model.json")
    assert np.abs(model.predict(x) - original.predict(x)).max() > 0  # quantisation did happen


def test_a_teachable_machine_export_runs_with_its_labels_and_image_size(node_env, fixtures,
                                                                        tmp_path):
    model = nnpy.load_model(fixtures / "teachable" / "model.json")
    assert model.labels == ["Class 1", "Class 2", "Background"]
    assert model.input_shape == (224, 224, 3)
    assert model.input_spec == {"height": 224, "width": 224, "channels": 3,
                                "scale": [-1.0, 255 / 127 - 1]}
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"ZeroPadding2D", "Conv2D", "BatchNormalization", "ReLU", "DepthwiseConv2D", "Add",
            "GlobalAveragePooling2D", "Dense"} == kinds
    x = _inputs(model, count=2, seed=2)
    ours, theirs = model.predict(x), tfjs_predict(node_env, fixtures / "teachable", x, tmp_path)
    assert np.abs(ours - theirs).max() < TOLERANCE
    np.testing.assert_allclose(ours.sum(axis=1), 1, rtol=1e-5)  # the softmax head


def photographs(size):
    """Real photographs bundled in scikit-image's wheel (no download), centre-cropped to a
    square and resized to size x size, as float32 RGB in [0, 1]."""
    skimage_data = pytest.importorskip("skimage.data")
    from PIL import Image

    images = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        pixels = getattr(skimage_data, name)()
        height, width = pixels.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        square = Image.fromarray(pixels[top:top + side, left:left + side])
        images.append(np.asarray(square.resize((size, size), Image.BILINEAR), dtype="f4") / 255)
    return np.stack(images)


def test_nsfwjs_mobilenet_v2_from_npm_matches_tfjs_on_photographs(node_env, nsfwjs_dir, tmp_path):
    model = nnpy.load_model(nsfwjs_dir / "model.json")
    assert model.input_shape == (224, 224, 3) and len(model.layers) == 161
    x = photographs(224)
    ours, theirs = model.predict(x), tfjs_predict(node_env, nsfwjs_dir, x, tmp_path)
    assert np.abs(ours - theirs).max() < TOLERANCE
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).all()
    classes = ["Drawing", "Hentai", "Neutral", "Porn", "Sexy"]
    assert [classes[i] for i in ours.argmax(axis=1)].count("Neutral") >= 3  # ordinary photos


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize("name", ["sequential", "functional"])
def test_tfjs_opens_an_exported_nnpy_model_with_the_same_predictions(node_env, tmp_path, name):
    model = sample_models()[name]
    save_tfjs(model, tmp_path / "exported")
    x = _inputs(model, seed=6)
    theirs = tfjs_predict(node_env, tmp_path / "exported", x, tmp_path)
    assert np.abs(model.predict(x) - theirs).max() < TOLERANCE
