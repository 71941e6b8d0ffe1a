"""The webcam trainer's page operations (nnpy/web/projects.py), called as the worker calls them:
through `Session.dispatch`."""

import numpy as np

from nnpy.audio import resample
from nnpy.web import Session


def call(session, op, **args):
    reply = session.dispatch(op, args)
    assert "ok" in reply, reply.get("error")
    return reply["ok"]


def rgba(rng, colour, size=64):
    """RGBA bytes of a noisy webcam-like frame dominated by one colour channel."""
    image = np.full((size, size, 4), 255, np.uint8)
    image[..., :3] = rng.integers(0, 70, (size, size, 3))
    image[..., colour] += 170
    return image.tobytes()


def test_page_operations_record_train_in_steps_predict_and_save():
    session, rng = Session(), np.random.default_rng(0)
    opened = call(session, "project_new", class_names=["red", "blue"], mode="scratch")
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
        step = call(session, "job_step", job=job, budget_ms=0)  # one batch a step
        steps += 1
        epochs += step["epochs"]
        if step["done"]:
            break
    assert [log["epoch"] for log in epochs] == [0, 1, 2, 3] and steps > 4
    assert step["state"]["trained"] and len(step["state"]["history"]["val_loss"]) == 4
    assert np.asarray(step["state"]["confusion"]).shape == (2, 2)

    answer = call(session, "project_predict", project=project, pixels=rgba(rng, 2),
                  width=64, height=64)
    probabilities = np.frombuffer(answer["probabilities"]["data"], np.float32)
    assert answer["label"] == "blue" and answer["index"] == 1 == probabilities.argmax()
    assert abs(probabilities.sum() - 1) < 1e-5
    data = call(session, "project_to_bytes", project=project)
    again = call(session, "project_open", data=data)
    assert again["project"] != project and again["counts"] == [10, 9] and again["trained"]

    job = call(session, "project_train_start", project=project, epochs=50)["job"]
    call(session, "job_step", job=job, budget_ms=0)
    stopped = call(session, "job_stop", job=job)["state"]  # Cancel
    assert stopped["trained"] and len(stopped["history"]["loss"]) == 4  # no epoch finished
    call(session, "project_close", project=project)
    assert "closed" in session.dispatch("project_state", {"project": project})["error"]["message"]


def test_page_operations_refuse_what_cannot_work():
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


def noise_clips(rng, tilt, count, samples=16000):
    """Float32 bytes of `count` noises whose power falls (tilt > 0) or rises with pitch."""
    spectrum = np.fft.rfft(rng.standard_normal((count, samples)), axis=1)
    spectrum /= np.maximum(np.arange(spectrum.shape[1]), 1) ** (tilt / 2)
    clips = np.fft.irfft(spectrum, n=samples, axis=1)
    return (clips / np.abs(clips).max() * 0.1).astype(np.float32).tobytes()


def test_sound_page_operations_record_clips_train_listen_and_save():
    session, rng = Session(), np.random.default_rng(0)
    opened = call(session, "project_new", class_names=["Background noise", "rumble", "hiss"],
                  kind="sound")
    project = opened["project"]
    assert opened["kind"] == "sound" and opened["background_class"] == 0
    for index, tilt in enumerate((0, 2, -1)):
        # a 6.5 s recording becomes its 6 loudest non-overlapping seconds
        assert call(session, "project_add_sound", project=project, class_index=index,
                    samples=noise_clips(rng, tilt, 1, samples=104000), clips=6) == 6
    clips = call(session, "project_samples", project=project, class_index=1)
    assert clips["__ndarray__"] == "int16" and clips["shape"] == [6, 16000]
    job = call(session, "project_train_start", project=project, epochs=4,
               learning_rate=3e-3)["job"]
    while not (step := call(session, "job_step", job=job, budget_ms=50))["done"]:
        pass
    assert step["state"]["trained"] and np.asarray(step["state"]["confusion"]).shape == (3, 3)
    # live listening: the page sends the last 1.25 s it heard; the last second is classified
    answer = call(session, "project_listen", project=project,
                  samples=noise_clips(rng, 2, 1, samples=20000))
    assert answer["label"] == "rumble" and answer["ms"] >= 0
    # a browser that records at 48 kHz: the sound is resampled in Python
    hiss = np.frombuffer(noise_clips(rng, -1, 1), np.float32)
    answer = call(session, "project_listen", project=project, rate=48000,
                  samples=resample(hiss, 16000, 48000).tobytes())
    assert answer["label"] == "hiss"
    data = call(session, "project_to_bytes", project=project)
    again = call(session, "project_open", data=data, kind="sound")
    assert again["class_names"] == opened["class_names"] and again["trained"]
    error = session.dispatch("project_open", {"data": data})["error"]  # as an image project
    assert error["type"] == "ModelFormatError" and "sound classifier" in error["message"]
    error = session.dispatch("project_add_sound", {"project": project, "class_index": 0,
                                                   "samples": bytes(4 * 300)})["error"]
    assert "record at least 512 samples" in error["message"]
    error = session.dispatch("project_new", {"kind": "smell"})["error"]
    assert "the kinds are image, sound" in error["message"]


def test_a_new_image_project_learns_on_pretrained_features_and_can_fall_back_to_scratch():
    """project_new's default is pretrained mode, which waits for a backbone (the page loads
    EfficientNet-Lite0 for it); a page that cannot load one switches the project to scratch.
    The state names the last recording (burst) so the page numbers new ones after it."""
    from nnpy.applications import efficientnet_lite0

    session, rng = Session(), np.random.default_rng(0)
    opened = call(session, "project_new", class_names=["red", "blue"])
    project = opened["project"]
    assert opened["mode"] == "pretrained" and opened["image_size"] == 160
    assert opened["needs_backbone"] and opened["last_burst"] == 0
    for burst, index in ((1, 0), (2, 1), (3, 0), (4, 1)):
        call(session, "project_add_samples", project=project, class_index=index, burst=burst,
             pixels=b"".join(rgba(rng, 2 * index, 32) for _ in range(3)), width=32, height=32,
             count=3)
    assert call(session, "project_state", project=project)["last_burst"] == 4
    error = session.dispatch("project_train_start", {"project": project})["error"]
    assert error["type"] == "RuntimeError" and "backbone" in error["message"]

    fallback = call(session, "project_set_mode", project=project, mode="scratch")
    assert fallback["mode"] == "scratch" and not fallback["needs_backbone"]
    call(session, "project_set_mode", project=project, mode="pretrained")
    backbone = session.new_handle()
    session.models[backbone] = efficientnet_lite0()  # random weights: the mechanics only
    ready = call(session, "project_set_backbone", project=project, model=backbone, key="random")
    assert ready["backbone"] == "random" and not ready["needs_backbone"]
    job = call(session, "project_train_start", project=project, epochs=2)["job"]
    logs = []
    while not (step := call(session, "job_step", job=job, budget_ms=0))["done"]:
        logs.append(step["batch"])
    assert logs[0]["kind"] == "embed" and step["state"]["trained"]
    assert step["state"]["history"]["loss"] and len(step["state"]["history"]["loss"]) <= 2


def test_a_teachable_machine_model_becomes_a_project_through_the_page_operations(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))
    from test_pretrained_mode import teachable_machine_like

    path, _ = teachable_machine_like(tmp_path, labels=("left", "right"))
    folder = Path(path).parent
    session = Session()
    loaded = call(session, "load_tfjs", model_json=(folder / "model.json").read_bytes(),
                  shards={"weights.bin": (folder / "weights.bin").read_bytes()},
                  metadata=(folder / "metadata.json").read_bytes())
    opened = call(session, "project_from_model", model=loaded["__model__"])
    assert opened["class_names"] == ["left", "right"] and opened["trained"]
    assert opened["mode"] == "pretrained" and not opened["needs_backbone"]
    assert opened["image_size"] == 32 and opened["counts"] == [0, 0]
    answer = call(session, "project_predict", project=opened["project"],
                  pixels=bytes(32 * 32 * 4), width=32, height=32)
    assert answer["label"] in ("left", "right")
    from nnpy import Sequential, layers

    flat = session.new_handle()  # a classifier without a global average: no features to keep
    session.models[flat] = Sequential([layers.Input((8, 8, 3)), layers.Flatten(), layers.Dense(2)])
    error = session.dispatch("project_from_model", {"model": flat})["error"]
    assert error["type"] == "ModelFormatError" and "global average" in error["message"]
