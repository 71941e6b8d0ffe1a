"""Page operations for the webcam trainer (web/webcam.js): one `ImageClassifierProject` per
handle, frames in as RGBA bytes, training in short time-boxed steps. Only the browser worker uses
them (through `nnpy.browser.Session`), but they are plain Python + NumPy, tested in CPython.

    project_new(class_names)                 a new project: {"project": handle, ...state}
    project_open(data)                       a project from .safetensors bytes (ModelFormatError)
    project_add_samples(project, class_index, pixels, width, height, count)   RGBA frames
    project_train_start(project, epochs, learning_rate, restart)   -> a job handle
    project_train_step(job, budget_ms)       the logs of as many batches as fit in budget_ms
    project_predict(project, pixels, width, height)   probabilities of one RGBA frame
    project_to_bytes(project)                the project file

Training runs as steps the page asks for, each a few batches long, so that between two steps the
worker answers other requests (a live prediction, a recorded frame): the page never freezes and
the camera view keeps being classified while the network learns.
"""

import time

import numpy as np

from nnpy.browser import operation, rgba_frames
from nnpy.project import ImageClassifierProject


def _projects(session):
    return session.__dict__.setdefault("webcam_projects", {})


def _training_jobs(session):
    return session.__dict__.setdefault("webcam_training_jobs", {})


def _project(session, handle):
    try:
        return _projects(session)[handle]
    except KeyError:
        raise ValueError(f"project {handle} was closed or never opened") from None


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
    }


def _open(session, project):
    handle = session._new_handle()
    _projects(session)[handle] = project
    return {"project": handle, **state(project)}


class TrainingJob:
    """`project.train_iter` driven a few batches at a time."""

    def __init__(self, project, epochs, **settings):
        if epochs < 1:
            raise ValueError(f"train for at least 1 epoch, not {epochs}")
        self.project = project
        self.logs = project.train_iter(epochs=epochs, **settings)
        self.waiting = [next(self.logs)]  # the first batch: a project that cannot train fails now

    def step(self, budget_ms):
        """Batches until `budget_ms` has passed (at least one): {"epochs": [every epoch log],
        "batch": the last batch log, "done": whether training has finished}."""
        start = time.perf_counter()
        epochs, batch = [], None
        while True:
            if self.waiting:
                log = self.waiting.pop()
            else:
                try:
                    log = next(self.logs)
                except StopIteration:
                    return {"epochs": epochs, "batch": batch, "done": True}
            if log["kind"] == "epoch":
                epochs.append(log)
            else:
                batch = log
            if (time.perf_counter() - start) * 1000 >= budget_ms:
                return {"epochs": epochs, "batch": batch, "done": False}

    def close(self):
        self.logs.close()  # fit_iter's callbacks end: EarlyStopping restores the best weights


@operation
def op_project_new(session, class_names=("Class 1", "Class 2")):
    # no mirror flips: a webcam's classes may be directional (a hand pointing left or right)
    return _open(session, ImageClassifierProject(list(class_names), flip=False))


@operation
def op_project_open(session, data):
    return _open(session, ImageClassifierProject.from_bytes(bytes(data)))


@operation
def op_project_close(session, project):
    _projects(session).pop(project, None)


@operation
def op_project_state(session, project):
    return state(_project(session, project))


@operation
def op_project_add_class(session, project, name=None):
    found = _project(session, project)
    found.add_class(name)
    return state(found)


@operation
def op_project_rename_class(session, project, class_index, name):
    found = _project(session, project)
    found.rename_class(class_index, name)
    return state(found)


@operation
def op_project_delete_class(session, project, class_index):
    found = _project(session, project)
    found.delete_class(class_index)
    return state(found)


@operation
def op_project_add_samples(session, project, class_index, pixels, width, height, count=1):
    """Add RGBA frames to a class; returns the class's new count."""
    found = _project(session, project)
    for frame in rgba_frames(pixels, width, height, count):
        found.add_sample(class_index, frame)
    return found.counts()[class_index]


@operation
def op_project_delete_sample(session, project, class_index, sample_index):
    found = _project(session, project)
    found.delete_sample(class_index, sample_index)
    return found.counts()[class_index]


@operation
def op_project_samples(session, project, class_index):
    """Every sample of a class, (N, S, S, 3) uint8 RGB, oldest first: the page's thumbnails."""
    found = _project(session, project)
    found._check_class(class_index)
    samples = found.samples[class_index]
    size = found.image_size
    return np.stack(samples) if samples else np.zeros((0, size, size, 3), np.uint8)


@operation
def op_project_train_start(session, project, epochs=20, learning_rate=1e-3, restart=False):
    found = _project(session, project)
    """{"job": handle, "state": ...}; the state shows whether the model started afresh (a new
    model when the classes changed or `restart`) and its history."""
    job = TrainingJob(found, epochs=int(epochs), learning_rate=float(learning_rate),
                      restart=bool(restart))
    handle = session._new_handle()
    _training_jobs(session)[handle] = job
    return {"job": handle, "state": state(found)}


@operation
def op_project_train_step(session, job, budget_ms=50):
    """Logs of the batches that fit in `budget_ms`; on the last step also the project's state."""
    found = _training_jobs(session)[job]
    result = found.step(budget_ms)
    if result["done"]:
        del _training_jobs(session)[job]
        result["state"] = state(found.project)
    return result


@operation
def op_project_train_stop(session, job):
    """Stop a training job (Cancel): the model keeps its best weights so far; returns the state."""
    found = _training_jobs(session).pop(job, None)
    if found is None:
        return None
    found.close()
    return state(found.project)


@operation
def op_project_predict(session, project, pixels, width, height):
    """{"probabilities": float32 per class, "index", "label", "ms": time spent in Python}."""
    start = time.perf_counter()
    found = _project(session, project)
    probabilities = found.predict(rgba_frames(pixels, width, height)[0])
    index = int(probabilities.argmax())
    return {"probabilities": probabilities.astype(np.float32), "index": index,
            "label": found.class_names[index], "ms": (time.perf_counter() - start) * 1000}


@operation
def op_project_to_bytes(session, project):
    return _project(session, project).to_bytes()
