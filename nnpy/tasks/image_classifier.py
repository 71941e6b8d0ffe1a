"""An image-classifier project, as a webcam trainer needs it: named classes, the samples recorded
for each, a small CNN trained on them, and one file that holds it all so work can be resumed.

    project = ImageClassifierProject(["Thumbs up", "Thumbs down"])
    project.add_sample(0, frame)                 # frame: (H, W, 3|4) uint8, any size
    for log in project.train_iter(epochs=20):    # one log dict per batch / epoch
        ...
    project.predict(frame)                       # probabilities, one per class
    data = project.to_bytes()                    # samples, model, optimizer, history: one file
    same = ImageClassifierProject.from_bytes(data)
"""

import json
import math

import numpy as np

from .. import layers, optimizers, validation
from ..callbacks import EarlyStopping
from ..data import resize
from ..errors import ModelFormatError, ShapeError
from ..model import Sequential
from ..saving import decode_safetensors, encode_safetensors, model_from_state, model_state
from ..saving.safetensors import parse_json, short_repr

PROJECT_FORMAT = 1  # "nnpy.project_format"; the model inside keeps the model file's "nnpy.format"
MODEL_PREFIX = "model."
MIN_CLASSES, MAX_CLASSES = 2, 10
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 16, 512  # the default model pools 16x; 512 is past any webcam use


def square_crop(image):
    """The largest centred square of (H, W, C): what the model sees of a wide webcam frame."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[top:top + side, left:left + side]


def to_sample(image, size):
    """Any (H, W), (H, W, 3) or (H, W, 4) image -> (size, size, 3) uint8 RGB (alpha dropped)."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or 0 in image.shape[:2]:
        raise ShapeError(f"a sample must be an (H, W, 3) or (H, W, 4) image, got shape {image.shape}")
    image = square_crop(image[:, :, :3])
    if image.dtype == np.uint8 and image.shape[0] == size:  # a frame the page already resized
        return image.copy()
    if image.dtype != np.uint8:
        image = np.clip(image * (255 if image.max() <= 1 else 1), 0, 255)
    if image.shape[0] != size:
        image = resize(image, size, size)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def augment_frames(x, rng, max_shift=0.1, flip=True, brightness=0.2):
    """A batch (N, S, S, 3) float32 in [0, 1] with random shifts (edge-padded), horizontal flips
    and brightness changes, so a few dozen samples teach more than a few dozen views."""
    n, size = x.shape[0], x.shape[1]
    pad = max(1, round(size * max_shift))
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    top = rng.integers(0, 2 * pad + 1, n)
    left = rng.integers(0, 2 * pad + 1, n)
    rows = top[:, None] + np.arange(size)                                 # (N, S)
    cols = left[:, None] + np.arange(size)                                # (N, S)
    out = padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    if flip:
        mirrored = rng.random(n) < 0.5
        out[mirrored] = out[mirrored, :, ::-1]
    out *= rng.uniform(1 - brightness, 1 + brightness, (n, 1, 1, 1)).astype(out.dtype)
    return np.clip(out, 0, 1, out=out)


def default_model(image_size, num_classes, seed=0):
    """A small CNN for a few dozen samples per class that predicts within a video frame's time.

    It ends in Flatten over a 4x4 grid rather than global average pooling: webcam classes often
    differ by *where* something is (a hand raised left or right), which an average forgets."""
    return Sequential([
        layers.Input((image_size, image_size, 3)),
        layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),   # (32, 32, 8)
        layers.BatchNormalization(momentum=0.9),  # few steps per epoch: statistics must keep up
        layers.MaxPool2D(2),                                                  # (16, 16, 8)
        layers.Conv2D(16, 3, padding="same", activation="relu"),             # (16, 16, 16)
        layers.BatchNormalization(momentum=0.9),
        layers.MaxPool2D(2),                                                  # (8, 8, 16)
        layers.Conv2D(32, 3, padding="same", activation="relu"),             # (8, 8, 32)
        layers.MaxPool2D(2),                                                  # (4, 4, 32)
        layers.Flatten(),                                                     # (512,)
        layers.Dropout(0.3),
        layers.Dense(num_classes),                                            # logits
    ], seed=seed, name="webcam-classifier")


class ImageClassifierProject:
    def __init__(self, class_names=("Class 1", "Class 2"), image_size=64, flip=True, seed=0):
        if not MIN_CLASSES <= len(class_names) <= MAX_CLASSES:
            raise ValueError(f"a project has {MIN_CLASSES} to {MAX_CLASSES} classes, "
                             f"got {len(class_names)}")
        self.class_names = [str(name) for name in class_names]
        self.samples = [[] for _ in self.class_names]  # per class: (S, S, 3) uint8 arrays
        self.image_size = validation.integer(image_size, "image_size", "ImageClassifierProject",
                                             minimum=MIN_IMAGE_SIZE, example=64)
        if self.image_size > MAX_IMAGE_SIZE:
            raise ValueError(f"ImageClassifierProject: image_size must be at most "
                             f"{MAX_IMAGE_SIZE}, got {self.image_size}")
        self.flip = validation.boolean(flip, "flip", "ImageClassifierProject")
        self.seed = validation.seed(seed, "seed", "ImageClassifierProject") or 0
        self.model = None
        self.history = {}
        self.confusion = None
        self.trained_classes = None  # class names the current model was trained on
        self.last_training = None  # how the last train_iter ended: best and stopped epochs

    # ---- classes and samples ---------------------------------------------------------------
    def _check_class(self, index):
        if not 0 <= index < len(self.class_names):
            raise IndexError(f"no class {index}; the project has {len(self.class_names)} classes")

    def add_class(self, name=None):
        if len(self.class_names) >= MAX_CLASSES:
            raise ValueError(f"a project has at most {MAX_CLASSES} classes")
        self.class_names.append(name or f"Class {len(self.class_names) + 1}")
        self.samples.append([])
        return len(self.class_names) - 1

    def rename_class(self, index, name):
        """A new name for class `index`; a model trained on the old name keeps working."""
        self._check_class(index)
        if not str(name).strip():
            raise ValueError("a class name cannot be empty")
        if self.trained:
            self.trained_classes[index] = str(name).strip()
        self.class_names[index] = str(name).strip()

    def delete_class(self, index):
        self._check_class(index)
        if len(self.class_names) <= MIN_CLASSES:
            raise ValueError(f"a project needs at least {MIN_CLASSES} classes")
        del self.class_names[index]
        del self.samples[index]

    def add_sample(self, index, image):
        """Record one image for class `index`; returns the stored (S, S, 3) uint8 sample."""
        self._check_class(index)
        sample = to_sample(image, self.image_size)
        self.samples[index].append(sample)
        return sample

    def delete_sample(self, index, sample_index):
        self._check_class(index)
        del self.samples[index][sample_index]

    def counts(self):
        return [len(samples) for samples in self.samples]

    def class_samples(self, index):
        """The (S, S, 3) uint8 samples of class `index`, oldest first."""
        self._check_class(index)
        return self.samples[index]

    def dataset(self):
        """(x float32 (N, S, S, 3) in [0, 1], y int64 (N,)) over all classes."""
        x = [np.stack(s) for s in self.samples if s]
        y = [np.full(len(s), i) for i, s in enumerate(self.samples) if s]
        if not x:
            return np.zeros((0, self.image_size, self.image_size, 3), np.float32), np.zeros(0, int)
        return np.concatenate(x).astype(np.float32) / 255, np.concatenate(y)

    # ---- training and prediction -----------------------------------------------------------------
    @property
    def trained(self):
        """Whether a model exists for exactly the current classes (it can predict)."""
        return self.model is not None and self.trained_classes == self.class_names

    def train_iter(self, epochs=20, learning_rate=1e-3, batch_size=16, validation_split=0.2,
                   patience=8, restart=False):
        """Train (or continue training) on every sample, yielding fit_iter's log dicts. A new
        model starts when the classes changed since the last training or when `restart`."""
        counts = self.counts()
        if min(counts) < 2:
            empty = [self.class_names[i] for i, c in enumerate(counts) if c < 2]
            raise ValueError(f"record at least 2 samples for every class first: {', '.join(empty)}")
        x, y = self.dataset()
        if restart or not self.trained:
            self.model = default_model(self.image_size, len(self.class_names), self.seed)
            self.model.compile(optimizer=optimizers.Adam(learning_rate),
                               loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            self.history = {}
        self.model.optimizer.learning_rate = learning_rate
        self.trained_classes = list(self.class_names)
        # a stratified split: every class keeps some validation samples, chosen with the seed
        rng = np.random.default_rng(self.seed)
        validation = np.zeros(len(y), bool)
        for label in range(len(self.class_names)):
            members = rng.permutation(np.flatnonzero(y == label))
            validation[members[:max(1, round(len(members) * validation_split))]] = True
        stopper = EarlyStopping("val_loss", patience=patience, restore_best_weights=True)
        done = len(next(iter(self.history.values()), []))
        for log in self.model.fit_iter(
                x[~validation], y[~validation], epochs=done + epochs, initial_epoch=done,
                batch_size=batch_size, validation_data=(x[validation], y[validation]),
                callbacks=[stopper], seed=self.seed + done,
                augment=lambda batch, r: augment_frames(batch, r, flip=self.flip)):
            if log["kind"] == "epoch":
                for key, value in log.items():
                    if key not in ("kind", "epoch", "epochs"):
                        self.history.setdefault(key, []).append(value)
            yield log
        self.last_training = {"best_epoch": stopper.best_epoch,
                              "stopped_epoch": stopper.stopped_epoch}
        predicted = self.model.predict(x[validation]).argmax(axis=1)
        self.confusion = confusion_matrix(y[validation], predicted, len(self.class_names))

    def predict(self, image):
        """Class probabilities for one image (any size, RGB or RGBA)."""
        if not self.trained:
            raise RuntimeError("train the model first (the classes changed since it was trained)")
        sample = to_sample(image, self.image_size).astype(np.float32) / 255
        return self.model.predict(sample[None])[0]

    # ---- the project file --------------------------------------------------------------------------
    def to_bytes(self):
        """Samples (uint8), class names, settings, history, and the model (weights, optimizer
        state, architecture) written by the model file's own writer under the "model." prefix."""
        tensors = {f"samples.{i}": (np.stack(s) if s else
                                    np.zeros((0, self.image_size, self.image_size, 3), np.uint8))
                   for i, s in enumerate(self.samples)}
        info = {"class_names": self.class_names, "image_size": self.image_size, "flip": self.flip,
                "seed": self.seed, "history": self.history, "trained_classes": self.trained_classes,
                "confusion": None if self.confusion is None else self.confusion.tolist()}
        metadata = {"nnpy.project_format": str(PROJECT_FORMAT), "nnpy.project": json.dumps(info)}
        if self.model is not None:
            model_tensors, model_metadata = model_state(self.model, prefix=MODEL_PREFIX,
                                                        include_optimizer=True)
            tensors.update(model_tensors)
            metadata.update(model_metadata)
        return encode_safetensors(tensors, metadata, checksum=True)

    @classmethod
    def from_bytes(cls, data):
        """A project from `to_bytes` output. Anything that is not a whole, consistent project
        raises ModelFormatError naming the field: the settings, every class's samples, the
        history, the confusion matrix and the model (against the classes and image size)."""
        tensors, metadata = decode_safetensors(data)
        if "nnpy.project" not in metadata:
            raise ModelFormatError("this is not an nnpy project file (no nnpy.project metadata); "
                                   "a model file is opened with nnpy.load_model instead")
        version = metadata.get("nnpy.project_format", "1")  # files before the key existed: 1
        if version != str(PROJECT_FORMAT):
            raise ModelFormatError(f"this project was saved in project format {short_repr(version)}; "
                                   f"this nnpy reads format {PROJECT_FORMAT}: upgrade nnpy")
        info = parse_json(metadata["nnpy.project"], "'nnpy.project' metadata (the project)")
        project = _project_from_info(cls, info)
        for i in range(len(project.class_names)):
            project.samples[i] = list(_samples(tensors, i, project.image_size))
        if "nnpy.config" in metadata:
            project.model = model_from_state(tensors, metadata, prefix=MODEL_PREFIX)
            _check_model(project)
        return project


def _damaged(field, problem):
    return ModelFormatError(f"the project file is damaged or incomplete: {field} {problem}; "
                            "download a fresh copy or start a new project")


def _project_from_info(cls, info):
    """The project's settings, history and confusion matrix from its 'nnpy.project' JSON."""
    if not isinstance(info, dict):
        raise _damaged("'nnpy.project'", "is not a JSON object")
    names = info.get("class_names")
    if not (isinstance(names, list) and all(isinstance(name, str) for name in names)):
        raise _damaged("class_names", f"must be a list of strings, got {short_repr(names)}")
    try:
        project = cls(names, info.get("image_size"), info.get("flip", True), info.get("seed", 0))
    except (TypeError, ValueError) as error:
        raise _damaged("the settings", f"are refused ({error})") from None
    history = info.get("history") or {}
    if not (isinstance(history, dict) and all(
            isinstance(values, list) and all(_is_finite_number(v) for v in values)
            for values in history.values())):
        raise _damaged("history", "must map metric names to lists of numbers")
    project.history = history
    trained = info.get("trained_classes")
    if trained is not None and not (isinstance(trained, list)
                                    and MIN_CLASSES <= len(trained) <= MAX_CLASSES
                                    and all(isinstance(name, str) for name in trained)):
        raise _damaged("trained_classes", f"must be a list of {MIN_CLASSES} to {MAX_CLASSES} "
                                          f"class names, got {short_repr(trained)}")
    project.trained_classes = trained
    confusion = info.get("confusion")
    if confusion is not None:
        size = len(confusion) if isinstance(confusion, list) else 0  # classes when trained
        if not (isinstance(confusion, list) and MIN_CLASSES <= size <= MAX_CLASSES and all(
                isinstance(row, list) and len(row) == size and all(
                    isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**53 for v in row)
                for row in confusion)):
            raise _damaged("confusion", "must be a square table of counts, one row per class")
        project.confusion = np.array(confusion, dtype=np.int64).reshape(size, size)
    return project


def _is_finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _samples(tensors, index, size):
    name = f"samples.{index}"
    if name not in tensors:
        raise _damaged(name, "is missing")
    samples = tensors[name]
    if samples.dtype != np.uint8 or samples.ndim != 4 or samples.shape[1:] != (size, size, 3):
        raise _damaged(name, f"must be uint8 images (N, {size}, {size}, 3), got "
                             f"{samples.dtype} {samples.shape}")
    return samples


def _check_model(project):
    """The saved model must be the one training makes for these classes: it takes the
    project's images, has one output per trained class, and can go on training."""
    model, size = project.model, project.image_size
    if project.trained_classes is None:
        raise _damaged("trained_classes", "is missing though the file holds a model")
    if tuple(model.input_shape) != (size, size, 3):
        raise _damaged("the model", f"takes inputs {model.input_shape}, not the project's "
                                    f"({size}, {size}, 3) images")
    if model.output_shape != (len(project.trained_classes),):
        raise _damaged("the model", f"has outputs {model.output_shape}, not one per class "
                                    f"({len(project.trained_classes)})")
    if model.optimizer is None or model.loss is None or not model.loss.classification:
        raise _damaged("the model", "is not compiled for classification, so it cannot go on "
                                    "training")


def confusion_matrix(true, predicted, num_classes):
    """(num_classes, num_classes) counts: row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true, int), np.asarray(predicted, int)), 1)
    return matrix
