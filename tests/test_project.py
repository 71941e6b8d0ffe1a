"""The webcam trainer's project: classes, samples, training, prediction and the one-file save."""

import numpy as np
import pytest

from nnpy.errors import ModelFormatError, ShapeError
from nnpy.project import ImageClassifierProject, augment_frames, confusion_matrix, to_sample


def frame(rng, colour, size=(48, 64)):
    """A noisy webcam-like frame dominated by one colour channel."""
    image = rng.integers(0, 70, (*size, 3)).astype(np.uint8)
    image[..., colour] += 170
    return image


@pytest.fixture
def project():
    rng = np.random.default_rng(0)
    project = ImageClassifierProject(["red", "blue"], image_size=32)
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
    project = ImageClassifierProject(["a", "b"], image_size=16)
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
    project = ImageClassifierProject(["left", "right"], flip=False)
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


# ---- the page operations (nnpy.browser_webcam), as the worker calls them ------------------------

def call(session, op, **args):
    reply = session.dispatch(op, args)
    assert "ok" in reply, reply.get("error")
    return reply["ok"]


def rgba(rng, colour, size=64):
    image = np.full((size, size, 4), 255, np.uint8)
    image[..., :3] = frame(rng, colour, (size, size))
    return image.tobytes()


def test_page_operations_record_train_in_steps_predict_and_save():
    from nnpy.browser import Session
    session, rng = Session(), np.random.default_rng(0)
    opened = call(session, "project_new", class_names=["red", "blue"])
    project = opened["project"]
    assert opened["counts"] == [0, 0] and not opened["trained"]
    for colour, index in ((0, 0), (2, 1)):
        pixels = b"".join(rgba(rng, colour) for _ in range(10))
        assert call(session, "project_add_samples", project=project, class_index=index,
                    pixels=pixels, width=64, height=64, count=10) == 10
    assert call(session, "project_delete_sample", project=project, class_index=1,
                sample_index=0) == 9
    thumbnails = call(session, "project_samples", project=project, class_index=0)
    assert thumbnails["__ndarray__"] == "uint8" and thumbnails["shape"] == [10, 64, 64, 3]

    started = call(session, "project_train_start", project=project, epochs=4, learning_rate=3e-3)
    job = started["job"]
    assert started["state"]["trained"] and started["state"]["history"] == {}
    steps, epochs = 0, []
    while True:
        step = call(session, "project_train_step", job=job, budget_ms=0)  # one batch a step
        steps += 1
        epochs += step["epochs"]
        if step["done"]:
            break
    assert [log["epoch"] for log in epochs] == [0, 1, 2, 3] and steps > 4
    assert step["state"]["trained"] and len(step["state"]["history"]["val_loss"]) == 4
    assert np.asarray(step["state"]["confusion"]).shape == (2, 2)

    answer = call(session, "project_predict", project=project, pixels=rgba(rng, 2),
                  width=64, height=64)
    assert answer["label"] == "blue" and answer["index"] == 1 and answer["ms"] > 0
    data = call(session, "project_to_bytes", project=project)
    again = call(session, "project_open", data=data)
    assert again["project"] != project and again["counts"] == [10, 9] and again["trained"]

    job = call(session, "project_train_start", project=project, epochs=50)["job"]
    call(session, "project_train_step", job=job, budget_ms=0)
    stopped = call(session, "project_train_stop", job=job)  # Cancel
    assert stopped["trained"] and len(stopped["history"]["loss"]) == 4  # no epoch finished
    call(session, "project_close", project=project)
    assert "closed" in session.dispatch("project_state", {"project": project})["error"]["message"]


def test_page_operations_refuse_what_cannot_work():
    from nnpy.browser import Session
    session = Session()
    project = call(session, "project_new")["project"]
    assert call(session, "project_state", project=project)["class_names"] == ["Class 1", "Class 2"]
    error = session.dispatch("project_train_start", {"project": project})["error"]
    assert error["type"] == "ValueError" and "Class 1, Class 2" in error["message"]
    error = session.dispatch("project_add_samples", {"project": project, "class_index": 0,
                                                     "pixels": b"1234", "width": 64, "height": 64})
    assert "expected 1 RGBA frames of 64x64" in error["error"]["message"]
    error = session.dispatch("project_open", {"data": b"not a project"})["error"]
    assert error["type"] == "ModelFormatError"
    error = session.dispatch("project_predict", {"project": project, "pixels": bytes(64 * 64 * 4),
                                                 "width": 64, "height": 64})["error"]
    assert error["type"] == "RuntimeError" and "train" in error["message"]
