"""What every "teach it by example" project shares, whatever its samples are (webcam frames,
sound clips): named classes, the samples recorded for each, a small network trained on them with
a stratified validation split and early stopping, and one .safetensors file that holds it all.

A task subclasses `ClassifierProject` and says only what is its own:
    KIND                       "image", "sound": written in the file, checked when opening
    to_sample(raw)             whatever the page or a script records -> the stored sample
    sample_spec()              (shape, dtype) of a stored sample
    inputs(samples)            stored samples (N, ...) -> the model's float32 inputs
    default_model()            a fresh, uncompiled network for the current classes
    augment(batch, rng)        a training batch -> a varied one (fit_iter's `augment`)
    SETTINGS                   names of the constructor's keyword arguments (attributes of
                               the same names), saved in the file
and, where it learns from something other than `inputs(samples)` (cached features):
    training_iter()            a generator run before training (logs of work such as embedding)
    training_data()            (x, y) to fit; `dataset()` by default

Honest validation: samples recorded in one go (one press of "record": frames ~100 ms apart,
clips of one recording) are near copies of each other, so a random validation split scores
near 100% while new views fail. Every sample belongs to a recording `burst`, and validation
holds out whole bursts (the latest first); a class recorded in one burst gives the last
contiguous run of its samples.
"""

import json
import math
from types import MappingProxyType

import numpy as np

from .. import optimizers, validation
from ..callbacks import EarlyStopping
from ..errors import ModelFormatError
from ..saving import decode_safetensors, encode_safetensors, model_from_state, model_state
from ..saving.safetensors import parse_json, short_repr

PROJECT_FORMAT = 1  # "nnpy.project_format"; the model inside keeps the model file's "nnpy.format"
MODEL_PREFIX = "model."
MIN_CLASSES, MAX_CLASSES = 2, 10


def confusion_matrix(true, predicted, num_classes):
    """(num_classes, num_classes) counts: row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true, int), np.asarray(predicted, int)), 1)
    return matrix


def burst_split(bursts, fraction):
    """A boolean mask of validation samples over all classes' samples in order, from each
    class's list of burst ids: whole bursts, the latest first, until about `fraction` of the
    class (at least one sample; never every burst); a class recorded in one burst gives its
    last contiguous run of round(fraction * n) samples. Every class is learned and checked."""
    masks = []
    for class_bursts in bursts:
        ids = np.asarray(class_bursts)
        held = np.zeros(len(ids), bool)
        want = max(1, round(len(ids) * fraction))
        for burst in list(dict.fromkeys(reversed(class_bursts)))[:-1]:  # latest first
            if held.sum() >= want:
                break
            held |= ids == burst
        if not held.any():
            held[-want:] = True
        masks.append(held)
    return np.concatenate(masks) if masks else np.zeros(0, bool)


class ClassifierProject:
    KIND = None
    SETTINGS = ()
    FILE_DEFAULTS = MappingProxyType({})  # settings a file from before they existed is read with

    def __init__(self, class_names, seed=0):
        if not MIN_CLASSES <= len(class_names) <= MAX_CLASSES:
            raise ValueError(f"a project has {MIN_CLASSES} to {MAX_CLASSES} classes, "
                             f"got {len(class_names)}")
        self.class_names = [str(name) for name in class_names]
        self.samples = [[] for _ in self.class_names]  # per class: stored samples, oldest first
        self.bursts = [[] for _ in self.class_names]  # per class: each sample's recording burst
        self.seed = validation.seed(seed, "seed", type(self).__name__) or 0
        self.model = None
        self.history = {}
        self.confusion = None
        self.trained_classes = None  # class names the current model was trained on
        self.last_training = None  # how the last train_iter ended: best and stopped epochs

    # ---- what a task defines -------------------------------------------------------------------
    def to_sample(self, raw):
        raise NotImplementedError

    def sample_spec(self):
        raise NotImplementedError

    def inputs(self, samples):
        raise NotImplementedError

    def default_model(self):
        raise NotImplementedError

    def augment(self, batch, rng):
        return batch

    # ---- classes and samples ---------------------------------------------------------------------
    def _check_class(self, index):
        if not 0 <= index < len(self.class_names):
            raise IndexError(f"no class {index}; the project has {len(self.class_names)} classes")

    def add_class(self, name=None):
        if len(self.class_names) >= MAX_CLASSES:
            raise ValueError(f"a project has at most {MAX_CLASSES} classes")
        self.class_names.append(name or f"Class {len(self.class_names) + 1}")
        self.samples.append([])
        self.bursts.append([])
        self.classes_changed()
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
        del self.bursts[index]
        self.classes_changed(deleted=index)

    def classes_changed(self, deleted=None):
        """A class was added (or `deleted`): per-class caches of a task follow."""

    def add_sample(self, index, raw, burst=None):
        """Record one sample for class `index`; returns the stored sample. `burst` names the
        recording it came from (a number the page counts up); by default the class's last."""
        self._check_class(index)
        sample = self.to_sample(raw)
        previous = self.bursts[index][-1] if self.bursts[index] else 0
        self.samples[index].append(sample)
        self.bursts[index].append(previous if burst is None else int(burst))
        self.sample_added(index)
        return sample

    def sample_added(self, index):
        """A sample was appended to class `index`: per-sample caches of a task follow."""

    def delete_sample(self, index, sample_index):
        self._check_class(index)
        del self.samples[index][sample_index]
        del self.bursts[index][sample_index]
        self.sample_deleted(index, sample_index)

    def sample_deleted(self, index, sample_index):
        """Sample `sample_index` of class `index` was deleted."""

    def counts(self):
        return [len(samples) for samples in self.samples]

    def class_samples(self, index):
        """The stored samples of class `index`, oldest first."""
        self._check_class(index)
        return self.samples[index]

    def stacked(self, index):
        """Class `index`'s samples as one array (N, *shape), N may be 0."""
        shape, dtype = self.sample_spec()
        samples = self.class_samples(index)
        return np.stack(samples) if samples else np.zeros((0, *shape), dtype)

    def dataset(self):
        """(x: the model's inputs for every sample, y int64 (N,)) over all classes."""
        x = np.concatenate([self.stacked(i) for i in range(len(self.class_names))])
        y = np.concatenate([np.full(n, i) for i, n in enumerate(self.counts())]).astype(np.int64)
        return self.inputs(x), y

    # ---- training and prediction -----------------------------------------------------------------
    @property
    def trained(self):
        """Whether a model exists for exactly the current classes (it can predict)."""
        return self.model is not None and self.trained_classes == self.class_names

    def prepare_training(self, x, y):
        """Called with the training split before fitting (e.g. to keep noise to mix in)."""

    def training_iter(self):
        """Work before training, as a generator of log dicts (none by default)."""
        return iter(())

    def training_data(self):
        """(x, y) the model is fitted to: the inputs of every sample by default."""
        return self.dataset()

    def default_epochs(self):
        return 20

    def train_iter(self, epochs=None, learning_rate=1e-3, batch_size=16, validation_split=0.2,
                   patience=8, restart=False):
        """Train (or continue training) on every sample, yielding fit_iter's log dicts (after
        those of `training_iter`). A new model starts when the classes changed since the last
        training or when `restart`. Validation holds out whole recording bursts. The arguments
        are checked before anything changes (the model is kept on a bad one); `epochs` None
        lets the task choose."""
        where = "train_iter"
        if epochs is not None:
            validation.integer(epochs, "epochs", where, minimum=0, example=20)
        validation.integer(batch_size, "batch_size", where, example=16)
        validation.integer(patience, "patience", where, minimum=0, example=8)
        validation.number(learning_rate, "learning_rate", where, low=0)
        validation.number(validation_split, "validation_split", where, low=0, high=1,
                          low_open=True, high_open=True)
        counts = self.counts()
        if min(counts) < 2:
            empty = [self.class_names[i] for i, c in enumerate(counts) if c < 2]
            raise ValueError(f"record at least 2 samples for every class first: {', '.join(empty)}")
        return self._train_steps(epochs, learning_rate, batch_size, validation_split, patience,
                                 restart)

    def _train_steps(self, epochs, learning_rate, batch_size, validation_split, patience, restart):
        epochs = epochs or self.default_epochs()
        yield from self.training_iter()
        x, y = self.training_data()
        if restart or not self.trained:
            self.model = self.default_model()
            self.model.compile(optimizer=optimizers.Adam(learning_rate),
                               loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            self.history = {}
        self.model.optimizer.learning_rate = learning_rate
        self.trained_classes = list(self.class_names)
        held_out = burst_split(self.bursts, validation_split)
        self.prepare_training(x[~held_out], y[~held_out])
        stopper = EarlyStopping("val_loss", patience=patience, restore_best_weights=True)
        done = len(next(iter(self.history.values()), []))
        for log in self.model.fit_iter(
                x[~held_out], y[~held_out], epochs=done + epochs, initial_epoch=done,
                batch_size=batch_size, validation_data=(x[held_out], y[held_out]),
                callbacks=[stopper], seed=self.seed + done, augment=self.augment):
            if log["kind"] == "epoch":
                for key, value in log.items():
                    if key not in ("kind", "epoch", "epochs"):
                        self.history.setdefault(key, []).append(value)
            yield log
        self.last_training = {"best_epoch": stopper.best_epoch,
                              "stopped_epoch": stopper.stopped_epoch}
        predicted = self.model.predict(x[held_out]).argmax(axis=1)
        self.confusion = confusion_matrix(y[held_out], predicted, len(self.class_names))

    def predict(self, raw):
        """Class probabilities for one recorded sample (as `add_sample` takes it)."""
        if not self.trained:
            raise RuntimeError("train the model first (the classes changed since it was trained)")
        return self.model.predict(self.inputs(self.to_sample(raw)[None]))[0]

    # ---- the project file --------------------------------------------------------------------------
    def to_bytes(self):
        """Samples, class names, settings, history, and the model (weights, optimizer state,
        architecture) written by the model file's own writer under the "model." prefix."""
        tensors = {f"samples.{i}": self.stacked(i) for i in range(len(self.class_names))}
        tensors.update({f"bursts.{i}": np.asarray(b, np.int64) for i, b in enumerate(self.bursts)})
        info = {"task": self.KIND, "class_names": self.class_names, "seed": self.seed,
                "history": self.history, "trained_classes": self.trained_classes,
                "confusion": None if self.confusion is None else self.confusion.tolist(),
                **{key: getattr(self, key) for key in self.SETTINGS}}
        extra_tensors, extra_info = self.write_extra()
        tensors.update(extra_tensors)
        info.update(extra_info)
        metadata = {"nnpy.project_format": str(PROJECT_FORMAT), "nnpy.project": json.dumps(info)}
        if self.model is not None:
            model_tensors, model_metadata = model_state(self.model, prefix=MODEL_PREFIX,
                                                        include_optimizer=True)
            tensors.update(model_tensors)
            metadata.update(model_metadata)
        return encode_safetensors(tensors, metadata, checksum=True)

    @classmethod
    def from_bytes(cls, data):
        """A project from `to_bytes` output. Anything that is not a whole, consistent project of
        this task raises ModelFormatError naming the field: the settings, every class's samples,
        the history, the confusion matrix and the model (against the classes and samples)."""
        tensors, metadata = decode_safetensors(data)
        if "nnpy.project" not in metadata:
            raise ModelFormatError("this is not an nnpy project file (no nnpy.project metadata); "
                                   "a model file is opened with nnpy.load_model instead")
        version = metadata.get("nnpy.project_format", "1")  # files before the key existed: 1
        if version != str(PROJECT_FORMAT):
            raise ModelFormatError(f"this project was saved in project format "
                                   f"{short_repr(version)}; this nnpy reads format "
                                   f"{PROJECT_FORMAT}: upgrade nnpy")
        info = parse_json(metadata["nnpy.project"], "'nnpy.project' metadata (the project)")
        project = cls._from_info(info)
        shape, dtype = project.sample_spec()
        for i in range(len(project.class_names)):
            name = f"samples.{i}"
            samples = tensors.get(name)
            if samples is None:
                raise _damaged(name, "is missing")
            if samples.dtype != dtype or samples.shape[1:] != shape:
                raise _damaged(name, f"must be {dtype} samples (N, {', '.join(map(str, shape))}), "
                                     f"got {samples.dtype} {samples.shape}")
            project.samples[i] = list(samples)
            bursts = tensors.get(f"bursts.{i}", np.zeros(len(samples), np.int64))  # older files
            if bursts.shape != (len(samples),) or bursts.dtype != np.int64:
                raise _damaged(f"bursts.{i}", f"must be int64 ({len(samples)},), got "
                                              f"{bursts.dtype} {bursts.shape}")
            project.bursts[i] = [int(b) for b in bursts]
        project.read_extra(tensors, info)
        if "nnpy.config" in metadata:
            project.model = model_from_state(tensors, metadata, prefix=MODEL_PREFIX)
            project._check_model()
        return project

    @classmethod
    def _from_info(cls, info):
        """The project's settings, history and confusion matrix from its 'nnpy.project' JSON."""
        if not isinstance(info, dict):
            raise _damaged("'nnpy.project'", "is not a JSON object")
        kind = info.get("task", "image")  # image projects were the only kind before the key
        if kind != cls.KIND:
            kind = kind if isinstance(kind, str) else short_repr(kind)
            raise ModelFormatError(f"this is {'an' if kind[:1] in 'aeiou' else 'a'} {kind} "
                                   f"project; open it in the {kind} classifier")
        names = info.get("class_names")
        if not (isinstance(names, list) and all(isinstance(name, str) for name in names)):
            raise _damaged("class_names", f"must be a list of strings, got {short_repr(names)}")
        settings = {**cls.FILE_DEFAULTS, **{key: info[key] for key in cls.SETTINGS if key in info}}
        try:
            project = cls(names, seed=info.get("seed", 0), **settings)
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
                        isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**53
                        for v in row) for row in confusion)):
                raise _damaged("confusion", "must be a square table of counts, one row per class")
            project.confusion = np.array(confusion, dtype=np.int64).reshape(size, size)
        return project

    def write_extra(self):
        """({name: array}, {key: JSON value}) a task adds to its file (read by read_extra)."""
        return {}, {}

    def read_extra(self, tensors, info):
        """A task's own tensors of the file (e.g. cached features), after the samples."""

    def model_input_shape(self):
        """What the model takes: the inputs of one sample."""
        shape, dtype = self.sample_spec()
        return self.inputs(np.zeros((1, *shape), dtype)).shape[1:]

    def _check_model(self):
        """The saved model must be the one training makes for these classes: it takes the
        project's inputs, has one output per trained class, and can go on training."""
        model = self.model
        if self.trained_classes is None:
            raise _damaged("trained_classes", "is missing though the file holds a model")
        wanted = tuple(self.model_input_shape())
        if tuple(model.input_shape) != wanted:
            raise _damaged("the model", f"takes inputs {model.input_shape}, not the project's "
                                        f"{wanted}")
        if model.output_shape != (len(self.trained_classes),):
            raise _damaged("the model", f"has outputs {model.output_shape}, not one per class "
                                        f"({len(self.trained_classes)})")
        if model.optimizer is None or model.loss is None or not model.loss.classification:
            raise _damaged("the model", "is not compiled for classification, so it cannot go on "
                                        "training")


def _damaged(field, problem):
    return ModelFormatError(f"the project file is damaged or incomplete: {field} {problem}; "
                            "download a fresh copy or start a new project")


def _is_finite_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
