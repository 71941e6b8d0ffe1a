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
