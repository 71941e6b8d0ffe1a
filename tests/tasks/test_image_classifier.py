"""The webcam trainer's project: classes, samples, training, prediction and the one-file save."""

import json

import numpy as np
import pytest

from nnpy.errors import ModelFormatError, ShapeError
from nnpy.saving import decode_safetensors, encode_safetensors
from nnpy.tasks.classifier_project import confusion_matrix
from nnpy.tasks.image_classifier import ImageClassifierProject, augment_frames, to_sample


def frame(rng, colour, size=(48, 64)):
    """A noisy webcam-like frame dominated by one colour channel."""
    image = rng.integers(0, 70, (*size, 3)).astype(np.uint8)
    image[..., colour] += 170
    return image


@pytest.fixture
def project():
    rng = np.random.default_rng(0)
    project = ImageClassifierProject(["red", "blue"], image_size=32, mode="scratch")
    for _ in range(12):
        project.add_sample(0, frame(rng, 0))
        project.add_sample(1, frame(rng, 2))
    return project


def test_classes_can_be_added_renamed_and_deleted_within_limits():
    project = ImageClassifierProject(["a", "b"])
    assert project.add_class() == 2 and project.class_names[2] == "Class 3"
    project.rename_class(2, "  cat ")
    assert project.class_names == ["a", "b", "cat"]
    project.delete_class(0)
    assert project.class_names == ["b", "cat"] and len(project.samples) == 2
    with pytest.raises(ValueError, match="at least 2"):
        project.delete_class(0)
    with pytest.raises(ValueError, match="empty"):
        project.rename_class(0, " ")
    for _ in range(8):
        project.add_class()
    with pytest.raises(ValueError, match="at most 10"):
        project.add_class()
    with pytest.raises(IndexError):
        project.add_sample(10, np.zeros((4, 4, 3), np.uint8))


def test_samples_are_square_cropped_resized_rgb_uint8():
    wide = np.zeros((30, 90, 4), np.uint8)
    wide[:, 30:60, 1] = 255  # the centred square is green, the sides black
    sample = to_sample(wide, 16)
    assert sample.shape == (16, 16, 3) and sample.dtype == np.uint8
    assert sample[..., 1].min() == 255 and sample[..., 0].max() == 0
    assert to_sample(np.ones((8, 8, 3)) * 0.5, 8).max() == 128  # floats in [0, 1] are scaled
    with pytest.raises(ShapeError, match=r"\(H, W, 3\)"):
        to_sample(np.zeros((8, 8, 2)), 8)


def test_augmentation_keeps_shape_and_range_and_varies():
    rng = np.random.default_rng(0)
    x = np.random.default_rng(1).random((6, 16, 16, 3)).astype(np.float32)
    out = augment_frames(x.copy(), rng)
    assert out.shape == x.shape and out.dtype == np.float32
    assert 0 <= out.min() and out.max() <= 1 and not np.allclose(out, x)


def test_training_needs_samples_in_every_class():
    project = ImageClassifierProject(["a", "b"], image_size=16, mode="scratch")
    project.add_sample(0, np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="a, b"):
        next(project.train_iter())


def test_trains_and_classifies_new_frames(project):
    logs = list(project.train_iter(epochs=12, learning_rate=3e-3))
    epochs = [log for log in logs if log["kind"] == "epoch"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[-1])
    rng = np.random.default_rng(99)
    assert project.predict(frame(rng, 0)).argmax() == 0
    assert project.predict(frame(rng, 2)).argmax() == 1
    assert project.confusion.trace() == project.confusion.sum()


def test_project_file_round_trips_and_training_resumes(project):
    for _ in project.train_iter(epochs=3):
        pass
    data = project.to_bytes()
    again = ImageClassifierProject.from_bytes(data)
    assert again.class_names == project.class_names and again.counts() == project.counts()
    for mine, theirs in zip(project.samples, again.samples):
        np.testing.assert_array_equal(np.stack(mine), np.stack(theirs))
    probe = frame(np.random.default_rng(5), 0)
    np.testing.assert_allclose(again.predict(probe), project.predict(probe), rtol=1e-6)
    assert again.model.optimizer.iterations == project.model.optimizer.iterations
    assert again.history == project.history
    again.add_sample(1, frame(np.random.default_rng(6), 2))
    for _ in again.train_iter(epochs=2, patience=50):
        pass
    assert len(again.history["loss"]) == len(project.history["loss"]) + 2  # continued, not restarted


def test_cancelled_training_can_resume(project):
    generator = project.train_iter(epochs=5)
    next(generator)
    generator.close()  # what the Cancel button does
    steps = project.model.optimizer.iterations
    assert steps == 1
    for _ in project.train_iter(epochs=1):
        pass
    assert project.model.optimizer.iterations > steps


def test_changing_the_classes_retrains_from_scratch(project):
    for _ in project.train_iter(epochs=1):
        pass
    project.add_class("green")
    with pytest.raises(RuntimeError, match="train"):
        project.predict(np.zeros((8, 8, 3), np.uint8))


def test_renaming_a_class_keeps_the_trained_model(project):
    for _ in project.train_iter(epochs=2):
        pass
    probe = frame(np.random.default_rng(7), 0)
    before = project.predict(probe)
    project.rename_class(0, "crimson")
    np.testing.assert_array_equal(project.predict(probe), before)
    assert project.trained_classes == ["crimson", "blue"]
    assert set(project.last_training) == {"best_epoch", "stopped_epoch"}


def test_the_default_model_tells_where_something_is():
    """Classes that differ only by position (a hand left or right) are learnt: the model keeps a
    coarse grid of where features are instead of averaging them away."""
    def scene(rng, side):
        image = rng.integers(80, 140, (64, 64, 3)).astype(np.uint8)
        top, left = rng.integers(10, 40), rng.integers(4, 22) + 32 * side
        image[top:top + 14, left:left + 10] = [230, 190, 160]
        return image

    rng = np.random.default_rng(0)
    project = ImageClassifierProject(["left", "right"], flip=False, mode="scratch")
    for _ in range(12):
        project.add_sample(0, scene(rng, 0))
        project.add_sample(1, scene(rng, 1))
    for _ in project.train_iter(epochs=10, learning_rate=2e-3):
        pass
    hits = [project.predict(scene(rng, side)).argmax() == side for side in (0, 1) for _ in range(20)]
    assert np.mean(hits) >= 0.9


def test_damaged_project_files_raise_model_format_error(project):
    data = project.to_bytes()
    for cut in (0, 7, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(ModelFormatError):
            ImageClassifierProject.from_bytes(data[:cut])
    from nnpy import Sequential, layers
    model_file = Sequential([layers.Input((2,)), layers.Dense(1)]).build().to_bytes()
    with pytest.raises(ModelFormatError, match="not an nnpy project"):
        ImageClassifierProject.from_bytes(model_file)


def test_confusion_matrix_counts():
    np.testing.assert_array_equal(confusion_matrix([0, 0, 1, 2], [0, 1, 1, 0], 3),
                                  [[1, 1, 0], [0, 1, 0], [1, 0, 0]])


# --------------------------------------------------------------------------- damaged project files


@pytest.fixture(scope="module")
def trained_file():
    rng = np.random.default_rng(1)
    project = ImageClassifierProject(["left", "right"], image_size=16, mode="scratch")
    for index in (0, 1):
        for _ in range(3):
            project.add_sample(index, frame(rng, 2 * index, size=(16, 16)))
    for _ in project.train_iter(epochs=1, batch_size=4):
        pass
    return project.to_bytes()


def edited(data, edit):
    tensors, metadata = decode_safetensors(data)
    info = json.loads(metadata["nnpy.project"])
    config = json.loads(metadata["nnpy.config"])
    project_text = edit(tensors, metadata, info, config)  # text replaces the project JSON
    metadata["nnpy.project"] = project_text or json.dumps(info)
    metadata["nnpy.config"] = json.dumps(config)
    return encode_safetensors(tensors, metadata)


def no_model_and_no_samples(tensors, metadata, info, config):
    """The probe's case: empty samples and a model without layers (or weights)."""
    for name in list(tensors):
        if name.startswith(("model.", "optimizer.")):
            del tensors[name]
    for index in (0, 1):
        tensors[f"samples.{index}"] = np.zeros((0, 16, 16, 3), np.uint8)
    config["layers"] = []


DAMAGED_PROJECTS = {
    "no samples, no layers": (no_model_and_no_samples, "bursts.0 must be int64"),
    "class_names not a list": (lambda t, m, i, c: i.update(class_names="ab"),
                               "class_names must be a list of strings"),
    "one class": (lambda t, m, i, c: i.update(class_names=["a"]), "settings are refused"),
    "class names numbers": (lambda t, m, i, c: i.update(class_names=[1, 2]), "class_names"),
    "image_size 0": (lambda t, m, i, c: i.update(image_size=0), "image_size"),
    "image_size string": (lambda t, m, i, c: i.update(image_size="16"), "image_size"),
    "image_size huge": (lambda t, m, i, c: i.update(image_size=10**9), "image_size"),
    "image_size not the samples'": (lambda t, m, i, c: i.update(image_size=32),
                                    r"samples.0 must be uint8 samples \(N, 32, 32, 3\)"),
    "samples float": (lambda t, m, i, c: t.update({"samples.1": t["samples.1"] / 255.0}),
                      "samples.1 must be uint8 samples"),
    "samples missing": (lambda t, m, i, c: t.__delitem__("samples.0"), "samples.0 is missing"),
    "flip string": (lambda t, m, i, c: i.update(flip="yes"), "flip must be True or False"),
    "seed string": (lambda t, m, i, c: i.update(seed="x"), "seed"),
    "history not a dict": (lambda t, m, i, c: i.update(history=[1]), "history must map"),
    "history strings": (lambda t, m, i, c: i.update(history={"loss": ["a"]}), "history must map"),
    "trained_classes one": (lambda t, m, i, c: i.update(trained_classes=["a"]), "trained_classes"),
    "trained_classes missing": (lambda t, m, i, c: i.update(trained_classes=None),
                                "trained_classes is missing though the file holds a model"),
    "trained_classes three": (lambda t, m, i, c: i.update(trained_classes=["a", "b", "c"]),
                              r"the model has outputs \(2,\), not one per class \(3\)"),
    "confusion ragged": (lambda t, m, i, c: i.update(confusion=[[1, 2], [3]]),
                         "confusion must be a square table"),
    "confusion negative": (lambda t, m, i, c: i.update(confusion=[[1, -2], [3, 4]]), "confusion"),
    "confusion huge": (lambda t, m, i, c: i.update(confusion=[[10**400] * 2] * 2), "confusion"),
    "model for other images": (lambda t, m, i, c: c.update(input_shape=[32, 32, 3]),
                               "shape mismatch|takes inputs"),
    "model not compiled": (lambda t, m, i, c: c.update(compile=None),
                           "not compiled for classification"),
    "project not an object": (lambda t, m, i, c: "[1]", "'nnpy.project' is not a JSON object"),
    "project format": (lambda t, m, i, c: m.update({"nnpy.project_format": "2"}), "upgrade nnpy"),
}


@pytest.mark.parametrize("edit, match", DAMAGED_PROJECTS.values(), ids=DAMAGED_PROJECTS.keys())
def test_inconsistent_project_files_raise_model_format_error_naming_the_field(trained_file, edit,
                                                                              match):
    with pytest.raises(ModelFormatError, match=match):
        ImageClassifierProject.from_bytes(edited(trained_file, edit))


def test_escaped_brackets_in_the_project_json_are_refused_before_parsing(trained_file):
    header = json.dumps({"__metadata__": {"nnpy.project": "[" * 3000}})
    header = header.replace("[" * 3000, "\\u005b" * 3000).encode()  # escaped in the file
    data = len(header).to_bytes(8, "little") + header
    with pytest.raises(ModelFormatError, match="'nnpy.project' metadata .*nested more than 64"):
        ImageClassifierProject.from_bytes(data)


def test_a_trained_project_file_carries_a_checksum_and_reloads(trained_file):
    assert b'"nnpy.sha256":"' in trained_file
    project = ImageClassifierProject.from_bytes(trained_file)
    assert project.trained and project.counts() == [3, 3]
    damaged = bytearray(trained_file)
    damaged[-1] ^= 0x01
    with pytest.raises(ModelFormatError, match="the file is damaged"):
        ImageClassifierProject.from_bytes(bytes(damaged))
