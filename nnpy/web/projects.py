"""Page operations for the trainers that learn from examples: the webcam trainer
(<nnpy-webcam-classifier>, an `ImageClassifierProject`, kind "image") and the microphone trainer
(<nnpy-sound-classifier>, a `SoundClassifierProject`, kind "sound"). One project per handle,
training as a Job of short time-boxed steps. Only the browser worker uses them (through
`nnpy.web.Session`), but they are plain Python + NumPy, tested in CPython.

    project_new(class_names, kind, mode)     a new project: {"project": handle, ...state}
    project_set_backbone(project, model)     an image project's pretrained backbone (a model handle)
    project_set_mode(project, mode)          "pretrained" or "scratch" (image projects)
    project_open(data, kind)                 a project from .safetensors bytes (ModelFormatError)
    project_from_model(model)                an image project that fine-tunes a loaded classifier
    project_add_samples(project, class_index, pixels, width, height, count, burst)   RGBA frames
    project_add_sound(project, class_index, samples, clips, rate)   a recording -> clips
    project_train_start(project, epochs, learning_rate, restart)   -> {"job", "state"}
    project_predict(project, pixels, width, height)   probabilities of one RGBA frame
    project_listen(project, samples, rate)   probabilities of the last second of sound
    project_to_bytes(project)                the project file

The page drives a training job with the Session's `job_step(job, budget_ms)` and cancels it with
`job_stop(job)`; both give the project's state when training ends. Between two steps the worker
answers other requests (a live prediction, a recorded frame): the page never freezes and the
camera view keeps being classified while the network learns.
"""

import time

import numpy as np

from ..audio import SAMPLE_RATE, resample, to_clips
from ..tasks.image_classifier import ImageClassifierProject
from ..tasks.sound_classifier import SoundClassifierProject
from .inputs import as_array, rgba_frames
from .session import Job, operation


def state(project):
    """What the page shows of a project (no samples: see project_samples)."""
    confusion = project.confusion if project.trained else None
    return {
        "kind": project.KIND,
        "class_names": list(project.class_names),
        "counts": project.counts(),
        **{key: getattr(project, key) for key in project.SETTINGS},  # image_size, flip; ...
        "trained": project.trained,
        "history": project.history,
        "confusion": None if confusion is None else confusion.tolist(),  # rows: true class
        "last_training": project.last_training,
        "validation": "whole recording bursts",
        "last_burst": _last_burst(project),  # the page numbers new recordings after it
        **_backbone_state(project),
    }


def _last_burst(project):
    return max((b for bursts in project.bursts for b in bursts), default=0)


def _backbone_state(project):
    features = getattr(project, "features", False)
    if features is False:  # a kind without pretrained features
        return {}
    return {"backbone": features.key if features else None,
            "needs_backbone": project.mode == "pretrained" and features is None}


def _open(session, project):
    handle = session.new_handle()
    session.projects[handle] = project
    return {"project": handle, **state(project)}


PROJECTS = {"image": ImageClassifierProject, "sound": SoundClassifierProject}


def _kind(kind):
    if kind not in PROJECTS:
        raise ValueError(f"no project kind {kind!r}; the kinds are {', '.join(PROJECTS)}")
    return PROJECTS[kind]


@operation
def op_project_new(session, class_names=("Class 1", "Class 2"), kind="image", mode="pretrained"):
    """A new project. An image project learns on pretrained features by default and then needs
    project_set_backbone (the page loads EfficientNet-Lite0 for it; when it cannot, it switches
    the project to "scratch" with project_set_mode and says why)."""
    if kind == "image":  # no mirror flips: a webcam's classes may be directional (a hand
        return _open(session, ImageClassifierProject(list(class_names), flip=False,  # pointing)
                                                     mode=mode))
    return _open(session, _kind(kind)(list(class_names)))


@operation
def op_project_set_backbone(session, project, model, key=None):
    """Use the loaded model `model` (a handle from load_model, e.g. EfficientNet-Lite0) as the
    image project's pretrained backbone; embeddings cached under the same `key` are kept."""
    found = session.project(project)
    found.set_backbone(session.model(model), key)
    return state(found)


@operation
def op_project_set_mode(session, project, mode):
    """An image project's "pretrained" or "scratch" mode; the next training starts afresh."""
    found = session.project(project)
    found.set_mode(mode)
    return state(found)


@operation
def op_project_open(session, data, kind="image"):
    return _open(session, _kind(kind).from_bytes(bytes(data)))


@operation
def op_project_from_model(session, model):
    """An image project from a loaded image classifier (a handle from load_model or load_tfjs,
    e.g. a Teachable Machine export): its classes, its features as the backbone, its head to
    fine-tune on new samples (ModelFormatError if it is not such a classifier)."""
    return _open(session, ImageClassifierProject.from_classifier(session.model(model)))


@operation
def op_project_close(session, project):
    session.projects.pop(project, None)


@operation
def op_project_state(session, project):
    return state(session.project(project))


@operation
def op_project_add_class(session, project, name=None):
    found = session.project(project)
    found.add_class(name)
    return state(found)


@operation
def op_project_rename_class(session, project, class_index, name):
    found = session.project(project)
    found.rename_class(class_index, name)
    return state(found)


@operation
def op_project_delete_class(session, project, class_index):
    found = session.project(project)
    found.delete_class(class_index)
    return state(found)


@operation
def op_project_add_samples(session, project, class_index, pixels, width, height, count=1,
                           burst=None):
    """Add RGBA frames to a class, recorded in one press of "record" numbered `burst` (whole
    bursts are held out for validation); returns the class's new count."""
    found = session.project(project)
    for frame in rgba_frames(pixels, width, height, count):
        found.add_sample(class_index, frame, burst)
    return found.counts()[class_index]


def _sound(samples, rate):
    """Float32 bytes (or an array) of a recording at `rate` -> at 16 kHz, at least one frame."""
    recording = resample(as_array(samples, "float32").reshape(-1), float(rate))
    if recording.size < 512:
        raise ValueError(f"{recording.size} samples are too short a sound: record at least 512 "
                         f"samples ({512 / SAMPLE_RATE * 1000:.0f} ms at {SAMPLE_RATE} Hz)")
    return recording


@operation
def op_project_add_sound(session, project, class_index, samples, clips=1, rate=SAMPLE_RATE):
    """Add a recording (float32 in [-1, 1], `rate` samples a second) to a class as its `clips`
    loudest non-overlapping seconds (a word said four times in five seconds: clips=4); returns
    the class's new count."""
    found = session.project(project)
    burst = 1 + _last_burst(found)
    for clip in to_clips(_sound(samples, rate), count=max(1, int(clips))):
        found.add_sample(class_index, clip, burst)  # one recording: validated as a whole
    return found.counts()[class_index]


@operation
def op_project_delete_sample(session, project, class_index, sample_index):
    found = session.project(project)
    found.delete_sample(class_index, sample_index)
    return found.counts()[class_index]


@operation
def op_project_samples(session, project, class_index):
    """Every sample of a class, oldest first: (N, S, S, 3) uint8 RGB frames (the page's
    thumbnails) or (N, 16000) int16 clips (to play them back)."""
    return session.project(project).stacked(class_index)


@operation
def op_project_train_start(session, project, epochs=None, learning_rate=1e-3, restart=False):
    """{"job": handle, "state": ...}; the state shows whether the model started afresh (a new
    model when the classes changed or `restart`) and its history. The job gives {"state"} when
    it ends, whether it finished or was stopped (then with the best weights so far)."""
    found = session.project(project)
    if epochs is not None and int(epochs) < 1:
        raise ValueError(f"train for at least 1 epoch, not {epochs}")
    logs = found.train_iter(epochs=epochs and int(epochs), learning_rate=float(learning_rate),
                            restart=bool(restart))
    job = session.start_job(Job(logs, finish=lambda: {"state": state(found)}))
    return {"job": job, "state": state(found)}


@operation
def op_project_predict(session, project, pixels, width, height):
    """{"probabilities": float32 per class, "index", "label", "ms": time spent in Python}."""
    start = time.perf_counter()
    found = session.project(project)
    return _answer(found, found.predict(rgba_frames(pixels, width, height)[0]), start)


@operation
def op_project_listen(session, project, samples, rate=SAMPLE_RATE):
    """The answer for the last second of sound (float32, `rate` samples a second; a shorter
    stretch is centred between zeros), as project_predict gives it for a frame."""
    start = time.perf_counter()
    found = session.project(project)
    return _answer(found, found.predict(_sound(samples, rate)[-SAMPLE_RATE:]), start)


def _answer(found, probabilities, start):
    index = int(probabilities.argmax())
    return {"probabilities": probabilities.astype(np.float32), "index": index,
            "label": found.class_names[index], "ms": (time.perf_counter() - start) * 1000}


@operation
def op_project_to_bytes(session, project):
    return session.project(project).to_bytes()
