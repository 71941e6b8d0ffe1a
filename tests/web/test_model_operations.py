"""The page operations on any model (nnpy/web/operations.py), called as the worker calls them:
through `Session.dispatch`, on the shipped digit model."""

from pathlib import Path

import numpy as np
import pytest

import nnpy
from nnpy.data import prepare_digit
from nnpy.saving import encode_safetensors
from nnpy.web import Session
from nnpy.web.operations import finetune_data

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "web" / "models" / "digits.safetensors"
REPLAY = ROOT / "web" / "models" / "digits-replay.safetensors"


def call(session, op, **args):
    reply = session.dispatch(op, args)
    assert "error" not in reply, reply.get("error")
    return reply["ok"]


def array(encoded):
    return np.frombuffer(encoded["data"], dtype=encoded["__ndarray__"]).reshape(encoded["shape"])


def drawing(kind, size=140):
    """RGBA pixels of a drawing on a transparent canvas (the ink is the alpha)."""
    alpha = np.zeros((size, size), np.uint8)
    if kind == "one":
        alpha[20:120, 64:78] = 255
    elif kind == "zero":
        rows, cols = np.mgrid[0:size, 0:size]
        radius = np.hypot((rows - 70) / 50, (cols - 70) / 35)
        alpha[(radius > 0.8) & (radius < 1.0)] = 255
    else:  # a cross: the "new class" of the tests
        for k in range(-6, 7):
            diagonal = np.arange(20, 120)
            alpha[diagonal, np.clip(diagonal + k, 0, size - 1)] = 255
            alpha[diagonal, np.clip(size - diagonal + k, 0, size - 1)] = 255
    rgba = np.zeros((size, size, 4), np.uint8)
    rgba[..., 3] = alpha
    return {"pixels": rgba.tobytes(), "width": size, "height": size}


@pytest.fixture
def session():
    session = Session()
    handle = call(session, "load_model", data=MODEL.read_bytes())["__model__"]
    session.handle = handle
    return session


def test_predict_returns_the_input_the_network_sees_and_every_layers_activity(session):
    result = call(session, "predict_activity", model=session.handle, inputs=drawing("one"))
    assert result["label"] == "1"
    pixels = np.frombuffer(drawing("one")["pixels"], np.uint8).reshape(140, 140, 4)
    seen = array(result["input"])
    assert seen.shape == (28, 28, 1)
    np.testing.assert_array_equal(seen[..., 0], np.round(prepare_digit(pixels) * 255))
    activity = {a["layer"]: a for a in result["activity"]}
    assert sorted(activity) == [0, 2, 5, 7]  # Conv2D, Conv2D, Dense, Dense (the output)
    assert array(activity[0]["maps"]).shape == (16, 28, 28)
    assert array(activity[2]["maps"]).shape == (32, 14, 14)
    assert array(activity[2]["maps"]).max() == 255 and activity[2]["peak"] > 0
    assert array(activity[5]["values"]).shape == (64,)
    probabilities = array(result["probabilities"])
    np.testing.assert_array_equal(array(activity[7]["values"]), probabilities)
    model = nnpy.load_model(MODEL)
    np.testing.assert_allclose(probabilities, model.predict(seen[None] / 255)[0], atol=1e-5)
    # without activity: the same answer, nothing else
    quick = call(session, "predict_activity", model=session.handle, inputs=drawing("one"),
                 activity=False)
    assert quick["activity"] == [] and quick["index"] == 1
    np.testing.assert_allclose(array(quick["probabilities"]), probabilities, rtol=1e-5, atol=1e-7)


def test_network_lists_columns_and_their_strongest_weights(session):
    network = call(session, "network_outline", model=session.handle)
    kinds = [c["kind"] for c in network["columns"]]
    assert kinds == ["input", "conv", "conv", "dense", "output"]
    assert network["labels"] == [str(i) for i in range(10)]
    model = nnpy.load_model(MODEL)
    columns = network["columns"]
    sizes = [1, 16, 32, 64, 10]
    for before, column, size in zip(sizes, columns[1:], sizes[1:]):
        edges = {key: array(value) for key, value in column["edges"].items()}
        assert edges["source"].max() < before and edges["target"].max() < size
        assert set(edges["target"]) == set(range(size)), "every unit has a line in"
    output = {key: array(value) for key, value in columns[4]["edges"].items()}
    kernel = model.layers[7].params["kernel"]  # (64, 10)
    assert np.abs(output["weight"]).max() == np.abs(kernel).max()
    np.testing.assert_allclose(output["weight"], kernel[output["source"], output["target"]])
    # Dense after Flatten: a line per (feature map, unit), the sum of its 7x7 weights
    dense = {key: array(value) for key, value in columns[3]["edges"].items()}
    per_map = model.layers[5].params["kernel"].reshape(49, 32, 64).sum(axis=0)
    np.testing.assert_allclose(dense["weight"], per_map[dense["source"], dense["target"]],
                               rtol=1e-5)


def test_a_new_class_keeps_what_the_model_knows(session):
    before = call(session, "predict_activity", model=session.handle, inputs=drawing("zero"))
    assert session.describe(session.model(session.handle))["card"]["accuracy"].endswith(
        "held-out MNIST digits")
    grown = call(session, "add_class", model=session.handle, name="cross")
    assert grown["__model__"] == session.handle and grown["labels"][-1] == "cross"
    assert grown["card"] is None  # the shipped model's accuracy says nothing of the grown one
    after = call(session, "predict_activity", model=session.handle, inputs=drawing("zero"))
    logits_before = array(before["activity"][-1]["logits"])
    logits_after = array(after["activity"][-1]["logits"])
    np.testing.assert_array_equal(logits_after[:10], logits_before)
    assert logits_after[10] < logits_after.max() and after["label"] == before["label"] == "0"
    saved = nnpy.load_model(session.models[session.handle].to_bytes())
    assert saved.labels[-1] == "cross" and saved.output_shape == (11,)
    reply = session.dispatch("add_class", {"model": session.handle, "name": "cross"})
    assert reply["error"]["type"] == "ValueError" and "already" in reply["error"]["message"]


def test_fine_tuning_learns_a_new_class_and_mixes_in_the_replay(session):
    call(session, "add_class", model=session.handle, name="cross")
    seen = array(call(session, "predict_activity", model=session.handle,
                      inputs=drawing("cross"))["input"])[..., 0]
    images = np.stack([seen] * 4)  # (4, 28, 28) uint8; augmentation varies them
    start = call(session, "finetune_start", model=session.handle,
                 images={"data": images.tobytes(), "dtype": "uint8", "shape": [4, 28, 28]},
                 labels=[10] * 4, replay=REPLAY.read_bytes(), augment="digits", epochs=3)
    assert start["examples"] == 4 * 33 + 200  # the drawings are ~40% of what it trains on
    steps = 0
    while not (step := call(session, "job_step", job=start["job"]))["done"]:
        steps += step["batch"] is not None
    assert steps == start["batches"]
    assert step["history"]["loss"][-1] < step["history"]["loss"][0]
    assert call(session, "predict_activity", model=session.handle,
                inputs=drawing("cross"))["label"] == "cross"
    assert call(session, "predict_activity", model=session.handle,
                inputs=drawing("one"))["label"] == "1"
    reply = session.dispatch("finetune_start", {
        "model": session.handle, "images": {"data": images.tobytes(), "dtype": "uint8",
                                            "shape": [4, 28, 28]}, "labels": [11] * 4})
    assert reply["error"]["type"] == "ValueError" and "0..10" in reply["error"]["message"]
    reply = session.dispatch("finetune_start", {
        "model": session.handle, "images": {"data": images.tobytes(), "dtype": "uint8",
                                            "shape": [4, 28, 28]}, "labels": [1] * 4,
        "augment": "mirror"})
    assert reply["error"]["type"] == "ValueError" and "'digits'" in reply["error"]["message"]


@pytest.mark.parametrize("tensors, says", [
    ({"labels": np.array([1], np.int64)}, "no images tensor"),
    ({"images": np.zeros((1, 28, 28), np.uint8)}, "no labels tensor"),
    ({"images": np.zeros((2, 14, 14), np.uint8), "labels": np.array([1, 2], np.int64)},
     "input shape [28, 28, 1]"),
    ({"images": np.zeros((1, 28, 28), np.float32), "labels": np.array([1], np.int64)}, "uint8"),
    ({"images": np.zeros((1, 28, 28), np.uint8), "labels": np.array([400], np.int64)}, "class numbers 0.."),
])
def test_a_replay_file_for_another_model_is_refused_by_name(session, tensors, says):
    replay = encode_safetensors(tensors)
    reply = session.dispatch("finetune_start", {
        "model": session.handle, "images": {"data": bytes(28 * 28), "dtype": "uint8",
                                            "shape": [1, 28, 28]}, "labels": [1],
        "replay": replay})
    assert reply["error"]["type"] == "ModelFormatError", reply
    assert says in reply["error"]["message"]


def test_finetune_data_without_replay_and_with_nothing():
    x, y = finetune_data(np.zeros((3, 28, 28, 1), np.float32), np.array([1, 2, 3]))
    assert x.shape == (3, 28, 28, 1) and list(y) == [1, 2, 3]
    with pytest.raises(ValueError, match="keep an example"):
        finetune_data(np.zeros((0, 28, 28, 1), np.float32), np.array([]))


def test_a_stopped_job_is_gone_and_stopping_twice_is_harmless(session):
    images = {"data": bytes(2 * 28 * 28), "dtype": "uint8", "shape": [2, 28, 28]}
    start = call(session, "finetune_start", model=session.handle, images=images, labels=[1, 2],
                 epochs=50, batch_size=1)
    first = call(session, "job_step", job=start["job"])
    assert first["batch"]["batch"] == 0 and not first["done"]
    assert len(call(session, "job_stop", job=start["job"])["history"]) == 0  # no epoch ended
    assert call(session, "job_stop", job=start["job"]) is None
    reply = session.dispatch("job_step", {"job": start["job"]})
    assert reply["error"]["type"] == "ValueError" and "job" in reply["error"]["message"]


def _state(net):
    return [array.copy() for layer in net.layers
            for array in (*layer.params.values(), *getattr(layer, "state", {}).values())]


@pytest.mark.parametrize("kind", ["digits", "image", "vector"])
def test_warm_up_predicts_a_made_up_input_and_changes_nothing(kind):
    """What the worker runs while a page is idle: the prediction path of each kind of model, its
    answer dropped, the model as it was."""
    session = Session()
    if kind == "digits":
        net = nnpy.load_model(MODEL)
    elif kind == "image":
        from nnpy.tasks.image_classifier import default_model
        net = default_model(32, 3)
        net.build()
    else:
        net = nnpy.Sequential([nnpy.layers.Dense(4, activation="relu"), nnpy.layers.Dense(2)])
        net.build((5,))
    handle = session.describe(net)["__model__"]
    before = _state(net)
    calls = []
    real_predict = session.op_predict
    session.op_predict = lambda model, inputs: calls.append(inputs) or real_predict(model, inputs)
    assert call(session, "warm_up", model=handle) is None
    assert len(calls) == 1  # one prediction, through the page's own path
    for old, new in zip(before, _state(net), strict=True):
        np.testing.assert_array_equal(old, new)
    if kind == "digits":  # the made-up drawing has ink: the crop-and-centre path ran
        x = session.inputs(net, calls[0])
        assert x.shape == (1, 28, 28, 1) and x.max() == pytest.approx(1.0)
    assert "error" in session.dispatch("warm_up", {"model": 999})  # a closed model: an error
