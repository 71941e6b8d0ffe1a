"""Page operations for the webcam trainer (the <nnpy-webcam-classifier> element): one
`ImageClassifierProject` per handle, frames in as RGBA bytes, training as a Job of short
time-boxed steps. Only the browser worker uses them (through `nnpy.web.Session`), but they are
plain Python + NumPy, tested in CPython.

    project_new(class_names, mode)           a new project: {"project": handle, ...state}
    project_set_backbone(project, model)     pretrained mode's backbone (a loaded model's handle)
    project_open(data)                       a project from .safetensors bytes (ModelFormatError)
    project_add_samples(project, class_index, pixels, width, height, count, burst)   RGBA frames
    project_train_start(project, epochs, learning_rate, restart)   -> {"job", "state"}
    project_predict(project, pixels, width, height)   probabilities of one RGBA frame
    project_to_bytes(project)                the project file

The page drives a training job with the Session's `job_step(job, budget_ms)` and cancels it with
`job_stop(job)`; both give the project's state when training ends. Between two steps the worker
answers other requests (a live prediction, a recorded frame): the page never freezes and the
camera view keeps being classified while the network learns.
"""

import time

import numpy as np

from ..tasks.image_classifier import ImageClassifierProject
from .inputs import rgba_frames
from .session import Job, operation


def state(project):
    """What the page shows of a project (no samples: see project_samples)."""
    confusion = project.confusion if project.trained else None
    return {
        "class_names": list(project.class_names),
        "counts": project.counts(),
        "image_size": project.image_size,
        "trained": project.trained,
        "history": project.history,
        "confusion": None if confusion is None else confusion.tolist(),  # rows: true class
        "last_training": project.last_training,
        "mode": project.mode,
        "backbone": project.features.key if project.features else None,
        "needs_backbone": project.mode == "pretrained" and project.features is None,
    }


def _open(session, project):
    handle = session.new_handle()
    session.projects[handle] = project
    return {"project": handle, **state(project)}


@operation
def op_project_new(session, class_names=("Class 1", "Class 2"), mode="pretrained"):
    """A new project; in "pretrained" mode the page then gives it the backbone
    (project_set_backbone) before training."""
    # no mirror flips: a webcam's classes may be directional (a hand pointing left or right)
    return _open(session, ImageClassifierProject(list(class_names), flip=False, mode=mode))


@operation
def op_project_set_backbone(session, project, model, key=None):
    """Use the loaded model `model` (a handle from load_model, e.g. EfficientNet-Lite0) as the
    project's pretrained backbone; embeddings cached for the same `key` are kept."""
    found = session.project(project)
    found.set_backbone(session.model(model), key)
    return state(found)


@operation
def op_project_set_mode(session, project, mode):
    """"pretrained" or "scratch"; the next training starts a new model."""
    found = session.project(project)
    found.set_mode(mode)
    return state(found)


@operation
def op_project_open(session, data):
    return _open(session, ImageClassifierProject.from_bytes(bytes(data)))


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
    """Add RGBA frames to a class, recorded in one press of "record" called `burst` (a number
    the page counts up; whole bursts are held out for validation); returns the class's count."""
    found = session.project(project)
    for frame in rgba_frames(pixels, width, height, count):
        found.add_sample(class_index, frame, burst)
    return found.counts()[class_index]


@operation
def op_project_delete_sample(session, project, class_index, sample_index):
    found = session.project(project)
    found.delete_sample(class_index, sample_index)
    return found.counts()[class_index]


@operation
def op_project_samples(session, project, class_index):
    """Every sample of a class, (N, S, S, 3) uint8 RGB, oldest first: the page's thumbnails."""
    found = session.project(project)
    samples = found.class_samples(class_index)
    size = found.image_size
    return np.stack(samples) if samples else np.zeros((0, size, size, 3), np.uint8)


@operation
def op_project_train_start(session, project, epochs=None, learning_rate=None, restart=False):
    """{"job": handle, "state": ...}; the state shows whether the model started afresh (a new
    model when the classes changed or `restart`) and its history. The job gives {"state"} when
    it ends, whether it finished or was stopped (then with the best weights so far)."""
    found = session.project(project)
    if epochs is not None and int(epochs) < 1:
        raise ValueError(f"train for at least 1 epoch, not {epochs}")
    logs = found.train_iter(epochs=epochs and int(epochs),
                            learning_rate=learning_rate and float(learning_rate),
                            restart=bool(restart))
    job = session.start_job(Job(logs, finish=lambda: {"state": state(found)}))
    return {"job": job, "state": state(found)}


@operation
def op_project_predict(session, project, pixels, width, height):
    """{"probabilities": float32 per class, "index", "label", "ms": time spent in Python}."""
    start = time.perf_counter()
    found = session.project(project)
    probabilities = found.predict(rgba_frames(pixels, width, height)[0])
    index = int(probabilities.argmax())
    return {"probabilities": probabilities.astype(np.float32), "index": index,
            "label": found.class_names[index], "ms": (time.perf_counter() - start) * 1000}


@operation
def op_project_to_bytes(session, project):
    return session.project(project).to_bytes()
