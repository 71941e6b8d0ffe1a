"""The image-classifier project's pretrained mode: embeddings computed once and cached, a head
trained on them, validation on whole recording bursts, and real objects told apart."""

import sys
import time
from pathlib import Path

import numpy as np
import pytest

import nnpy
from nnpy.applications import efficientnet_lite0
from nnpy.tasks.classifier_project import burst_split
from nnpy.tasks.image_classifier import ImageClassifierProject

ROOT = Path(__file__).resolve().parents[2]


def small_project(size=32):
    """A pretrained-mode project on a randomly initialised Lite0 at 32x32: fast mechanics."""
    project = ImageClassifierProject(["a", "b"], image_size=size)
    project.set_backbone(efficientnet_lite0(), key="random-lite0")
    rng = np.random.default_rng(0)
    for burst in range(3):
        for label in (0, 1):
            for _ in range(4):
                image = rng.integers(0, 60, (40, 40, 3)).astype(np.uint8)
                image[..., 2 * label] += 180
                project.add_sample(label, image, burst=burst)
    return project


def test_validation_holds_out_whole_bursts_never_neighbouring_frames():
    project = ImageClassifierProject(["a", "b"], mode="scratch", image_size=16)
    for burst, count in [(1, 6), (2, 6), (3, 6)]:
        for _ in range(count):
            project.add_sample(0, np.zeros((16, 16, 3), np.uint8), burst=burst)
    for _ in range(10):  # one long recording: its last contiguous run validates
        project.add_sample(1, np.zeros((16, 16, 3), np.uint8))
    mask = burst_split(project.bursts, 0.2)
    assert list(mask[:18]) == [False] * 12 + [True] * 6          # the latest burst, whole
    assert list(mask[18:]) == [False] * 8 + [True] * 2            # the last 20%, contiguous


def test_embeddings_are_computed_once_and_again_for_another_backbone():
    project = small_project()
    logs = list(project.train_iter(epochs=3))
    assert logs[0] == {"kind": "embed", "done": 8, "total": 24}
    assert sum(log["kind"] == "embed" for log in logs) == 3
    assert project.model.layers[-1].params["kernel"].shape == (1280, 2)   # a head, not a CNN
    again = list(project.train_iter(epochs=1))
    assert not any(log["kind"] == "embed" for log in again)               # cached
    project.add_sample(0, np.zeros((32, 32, 3), np.uint8), burst=9)
    assert sum(log["kind"] == "embed" for log in project.train_iter(epochs=1)) == 1
    project.set_backbone(efficientnet_lite0(), key="another-backbone")
    assert not project.trained                                            # its head is void
    assert next(project.train_iter(epochs=1))["total"] == 25


def test_a_pretrained_project_file_keeps_samples_bursts_embeddings_and_head():
    project = small_project()
    for _ in project.train_iter(epochs=2):
        pass
    probe = np.full((32, 32, 3), 200, np.uint8)
    expected = project.predict(probe)
    same = ImageClassifierProject.from_bytes(project.to_bytes())
    assert same.mode == "pretrained" and same.bursts == project.bursts
    with pytest.raises(RuntimeError, match="backbone"):
        same.predict(probe)
    same.set_backbone(project.features.backbone, key="random-lite0")
    assert all(v is not None for per_class in same.embeddings for v in per_class)   # from the file
    np.testing.assert_allclose(same.predict(probe), expected, rtol=1e-5, atol=1e-6)
    assert not any(log["kind"] == "embed" for log in same.train_iter(epochs=1))


def test_switching_to_scratch_trains_the_cnn_on_the_same_samples():
    project = small_project()
    project.set_mode("scratch")
    for _ in project.train_iter(epochs=1):
        pass
    assert isinstance(project.model.layers[0], nnpy.layers.Conv2D)
    assert project.predict(np.zeros((50, 50, 3), np.uint8)).shape == (2,)


@pytest.fixture(scope="module")
def backbone():
    sys.path.insert(0, str(ROOT))
    build = pytest.importorskip("build", reason="the repository's build.py makes the backbone")

    if not build._cached_backbone().exists():
        pytest.skip("run `python build.py vendor` first: it makes the EfficientNet-Lite0 file")
    return nnpy.load_model(build._cached_backbone())


def views(image, rng, count, zoom=(0.55, 0.9), brightness=(0.7, 1.3)):
    """`count` random crops of a photo (other position and zoom) in other light."""
    height, width = image.shape[:2]
    out = []
    for _ in range(count):
        side = int(min(height, width) * rng.uniform(*zoom))
        top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
        crop = image[top:top + side, left:left + side].astype(np.float32)
        out.append(np.clip(crop * rng.uniform(*brightness), 0, 255).astype(np.uint8))
    return out


def test_real_objects_are_told_apart_after_20_samples_each_in_well_under_a_second(backbone):
    sys.path.insert(0, str(ROOT / "tests" / "applications"))
    photo = pytest.importorskip("photos").photo  # real photographs (scikit-image's samples)
    names = ["chelsea.png", "coffee.png", "astronaut.png"]
    project = ImageClassifierProject(["cat", "coffee", "astronaut"])
    project.set_backbone(backbone, key="efficientnet-lite0")
    rng = np.random.default_rng(0)
    for label, name in enumerate(names):
        for burst, sample in enumerate(views(photo(name), rng, 20)):
            project.add_sample(label, sample, burst=burst // 10)   # two recordings of 10
    list(project.embed_iter())
    start = time.perf_counter()
    for _ in project.train_iter():
        pass
    print(f"head trained in {time.perf_counter() - start:.3f} s")  # the bench reports speed
    test_rng = np.random.default_rng(1)
    right = [project.predict(view).argmax() == label for label, name in enumerate(names)
             for view in views(photo(name), test_rng, 10, zoom=(0.35, 1.0), brightness=(0.5, 1.5))]
    assert np.mean(right) >= 0.95


def test_before_any_sample_the_image_size_follows_the_mode():
    """The page switches a new project to "scratch" (or back) before recording: its frames then
    come at the CNN's 64x64, not at the backbone's 160 (resizing each in Python costs time)."""
    project = ImageClassifierProject(["a", "b"])
    project.set_backbone(efficientnet_lite0(), key="random-lite0")
    assert (project.mode, project.image_size, project.features.image_size) == ("pretrained", 160, 160)
    project.set_mode("scratch")
    assert project.image_size == 64
    project.set_mode("pretrained")
    assert (project.image_size, project.features.image_size, project.features.key) == (
        160, 160, "random-lite0")
    project.add_sample(0, np.zeros((160, 160, 3), np.uint8))
    project.set_mode("scratch")
    assert project.image_size == 160  # the samples keep their size; the CNN shrinks them
    chosen = ImageClassifierProject(["a", "b"], image_size=32, mode="scratch")
    chosen.set_mode("pretrained")
    assert chosen.image_size == 32


def teachable_machine_like(tmp_path, labels=("thumbs up", "thumbs down", "nothing")):
    """A TF.js export shaped like Teachable Machine's image model (a small convolutional graph up
    to a global average, then Dense(relu) and Dense(softmax, no bias)), with its metadata.json."""
    from nnpy import layers
    from nnpy.saving.tfjs_writer import save_tfjs

    inputs = layers.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.Conv2D(16, 1, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(10, activation="relu")(x)
    outputs = layers.Dense(len(labels), activation="softmax", use_bias=False)(x)
    model = nnpy.Model(inputs, outputs, seed=3)
    model.labels = list(labels)
    model.input_spec = {"height": 32, "width": 32, "channels": 3, "scale": [-1.0, 1.0]}
    return save_tfjs(model, tmp_path / "teachable"), model


def test_a_teachable_machine_model_opens_as_a_project_that_classifies_and_fine_tunes(tmp_path):
    path, _ = teachable_machine_like(tmp_path)
    opened = nnpy.load_model(path)
    project = ImageClassifierProject.from_classifier(opened, key="tm")
    assert project.class_names == ["thumbs up", "thumbs down", "nothing"]
    assert project.trained and project.image_size == 32 and project.counts() == [0, 0, 0]
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (32, 32, 3), np.uint8)
    low, high = opened.input_spec["scale"]  # Teachable Machine's pixels / 127 - 1
    pixels = np.float32(low) + frame[None].astype(np.float32) * np.float32((high - low) / 255)
    np.testing.assert_allclose(project.predict(frame), opened.forward(pixels)[0], atol=1e-6)
    for label in range(3):  # new samples: Train more continues from its weights
        for burst in (1, 2):
            for _ in range(3):
                image = rng.integers(0, 60, (32, 32, 3)).astype(np.uint8)
                image[..., label] += 190
                project.add_sample(label, image, burst=10 * label + burst)
    list(project.train_iter(epochs=30, learning_rate=1e-2))
    assert project.trained and len(project.history["loss"]) >= 1

    again = ImageClassifierProject.from_bytes(project.to_bytes())  # its backbone in the file
    assert again.features is not None and again.features.key == "tm"
    np.testing.assert_allclose(again.predict(frame), project.predict(frame), atol=1e-5)
    assert not any(log["kind"] == "embed" for log in again.train_iter(epochs=1))  # cached


def test_a_model_that_is_not_a_pooled_image_classifier_is_refused(tmp_path):
    from nnpy import layers

    model = nnpy.Sequential([layers.Input((8, 8, 3)), layers.Flatten(), layers.Dense(2)])
    with pytest.raises(nnpy.ModelFormatError, match="global average pooling and Dense"):
        ImageClassifierProject.from_classifier(model)
