"""An image-classifier project, as a webcam trainer needs it: named classes, the samples recorded
for each, a model trained on them, and one file that holds it all so work can be resumed.

Two ways to learn (`mode`):
- "pretrained" (the default): a pretrained backbone (nnpy.applications' EfficientNet-Lite0) turns
  every sample into an embedding once (cached; recomputed only for another backbone), and a
  small head (Dense -> softmax, optionally a hidden layer and dropout) learns from those vectors
  in well under a second. It tells real objects apart from 20 samples, in other light.
- "scratch": a small CNN learns from the pixels alone (64x64): fine for flat colours and
  positions, weak on real objects under another crop, light, distance or a covering hand.

    project = ImageClassifierProject(["Mug", "Book"])      # pretrained mode
    project.set_backbone(nnpy.load_model("efficientnet-lite0.safetensors"))
    project.add_sample(0, frame, burst=1)        # frame: (H, W, 3|4) uint8, any size
    for log in project.train_iter():             # one log dict per embedding batch / batch / epoch
        ...
    project.predict(frame)                       # probabilities, one per class
    data = project.to_bytes()                    # samples, model, optimizer, history: one file
    same = ImageClassifierProject.from_bytes(data)

Honest validation: frames recorded in one press of "record" are ~100 ms apart and nearly the
same picture, so a random validation split would score near 100% while new views fail. The
validation set is made of whole recording bursts (`burst` ids) instead; a class recorded in one
burst gives the last contiguous run of its frames.
"""

import json

import numpy as np

from .. import optimizers
from ..applications.efficientnet_lite import embedding_model
from ..callbacks import EarlyStopping
from ..data import resize
from ..errors import ModelFormatError, ShapeError
from ..saving import decode_safetensors, encode_safetensors, model_from_state, model_state
from .pretrained_features import PretrainedFeatures, head_model
from .scratch_cnn import augment_frames, default_model

PROJECT_FORMAT = 2  # "nnpy.project_format"; the model inside keeps the model file's "nnpy.format"
READABLE_FORMATS = ("1", "2")  # 1: before pretrained mode (a CNN on 64x64 samples)
MODEL_PREFIX = "model."
MIN_CLASSES, MAX_CLASSES = 2, 10
MODES = ("pretrained", "scratch")
SCRATCH_SIZE = 64  # the CNN's input
PRETRAINED_SIZE = 160  # samples and backbone input in pretrained mode (224 costs twice as much)


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


class ImageClassifierProject:
    def __init__(self, class_names=("Class 1", "Class 2"), image_size=None, flip=True, seed=0,
                 mode="pretrained", hidden=0, dropout=0.0):
        if not MIN_CLASSES <= len(class_names) <= MAX_CLASSES:
            raise ValueError(f"a project has {MIN_CLASSES} to {MAX_CLASSES} classes, "
                             f"got {len(class_names)}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.class_names = [str(name) for name in class_names]
        self.samples = [[] for _ in self.class_names]  # per class: (S, S, 3) uint8 arrays
        self.bursts = [[] for _ in self.class_names]  # per class: the recording burst of each
        self.mode = mode
        self.image_size = int(image_size or (PRETRAINED_SIZE if mode == "pretrained"
                                             else SCRATCH_SIZE))
        self.flip = bool(flip)
        self.seed = seed
        self.hidden, self.dropout = int(hidden), float(dropout)
        self.features = None  # PretrainedFeatures, once set_backbone is called
        self.embeddings = None  # per class: (features,) float32 arrays, or None until computed
        self.embedding_key = None  # the backbone the cached embeddings came from
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
        self.bursts.append([])
        if self.embeddings is not None:
            self.embeddings.append([])
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
        for per_class in (self.class_names, self.samples, self.bursts, self.embeddings):
            if per_class is not None:
                del per_class[index]

    def add_sample(self, index, image, burst=None):
        """Record one image for class `index`; returns the stored (S, S, 3) uint8 sample.
        `burst` names the recording it belongs to (one press of "record"); by default the
        class's previous sample's."""
        self._check_class(index)
        sample = to_sample(image, self.image_size)
        previous = self.bursts[index][-1] if self.bursts[index] else 0
        self.samples[index].append(sample)
        self.bursts[index].append(previous if burst is None else int(burst))
        if self.embeddings is not None:
            self.embeddings[index].append(None)
        return sample

    def delete_sample(self, index, sample_index):
        self._check_class(index)
        for per_class in (self.samples, self.bursts, self.embeddings):
            if per_class is not None:
                del per_class[index][sample_index]

    def counts(self):
        return [len(samples) for samples in self.samples]

    def class_samples(self, index):
        """The (S, S, 3) uint8 samples of class `index`, oldest first."""
        self._check_class(index)
        return self.samples[index]

    def dataset(self):
        """(x float32 (N, S, S, 3) in [0, 1], y int64 (N,)) over all classes, at the CNN's size
        in scratch mode."""
        x = [np.stack(s) for s in self.samples if s]
        y = [np.full(len(s), i) for i, s in enumerate(self.samples) if s]
        size = self._cnn_size()
        if not x:
            return np.zeros((0, size, size, 3), np.float32), np.zeros(0, int)
        x = np.concatenate(x).astype(np.float32) / 255
        if size != self.image_size:
            x = np.stack([resize(image, size, size) for image in x])
        return x, np.concatenate(y)

    def _cnn_size(self):
        return min(self.image_size, SCRATCH_SIZE)  # larger samples (pretrained mode's) shrink

    # ---- pretrained features ---------------------------------------------------------------
    def set_backbone(self, model, key=None):
        """Use `model` (an nnpy.applications backbone, e.g. EfficientNet-Lite0) for pretrained
        mode, run at the samples' size. Cached embeddings from the same `key` are kept."""
        self.features = PretrainedFeatures(embedding_model(model, self.image_size), key)
        if self.embedding_key != self.features.key:
            self.embedding_key = self.features.key
            self.embeddings = [[None] * len(samples) for samples in self.samples]
            if self.mode == "pretrained":
                self.model = None  # a head trained on another backbone's vectors is meaningless

    def set_mode(self, mode):
        """Switch between "pretrained" and "scratch"; the next training starts a new model."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if mode != self.mode:
            self.mode, self.model, self.history, self.confusion = mode, None, {}, None

    def _require_features(self):
        if self.features is None:
            raise RuntimeError("pretrained mode needs a backbone: call set_backbone(model) "
                               "(the page loads EfficientNet-Lite0 for it)")
        return self.features

    def embed_iter(self, batch_size=8):
        """Compute the embeddings not cached yet, yielding {"kind": "embed", "done", "total"}
        after each batch (a worker answers other requests between them)."""
        features = self._require_features()
        missing = [(c, i) for c, per_class in enumerate(self.embeddings)
                   for i, vector in enumerate(per_class) if vector is None]
        for start in range(0, len(missing), batch_size):
            chunk = missing[start:start + batch_size]
            vectors = features.embed(np.stack([self.samples[c][i] for c, i in chunk]))
            for (c, i), vector in zip(chunk, vectors):
                self.embeddings[c][i] = vector
            yield {"kind": "embed", "done": start + len(chunk), "total": len(missing)}

    def _embedded_dataset(self):
        x = [np.stack(e) for e in self.embeddings if e]
        y = [np.full(len(e), i) for i, e in enumerate(self.embeddings) if e]
        return np.concatenate(x), np.concatenate(y)

    # ---- training and prediction -----------------------------------------------------------------
    @property
    def trained(self):
        """Whether a model exists for exactly the current classes (it can predict)."""
        return self.model is not None and self.trained_classes == self.class_names

    def validation_mask(self, validation_split=0.2):
        """Which samples validate: per class, whole recording bursts, the latest first, until
        about `validation_split` of its samples (at least one burst, never all of them); a
        class recorded in one burst gives the last contiguous run of its frames instead."""
        mask = []
        for bursts in self.bursts:
            held = np.zeros(len(bursts), bool)
            want = max(1, round(len(bursts) * validation_split))
            order = list(dict.fromkeys(reversed(bursts)))  # burst ids, latest first
            for burst in order[:-1]:
                if held.sum() >= want:
                    break
                held |= np.asarray(bursts) == burst
            if not held.any():
                held[-want:] = True
            mask.append(held)
        return np.concatenate(mask) if mask else np.zeros(0, bool)

    def train_iter(self, epochs=None, learning_rate=None, batch_size=16, validation_split=0.2,
                   patience=8, restart=False):
        """Train (or continue training) on every sample, yielding fit_iter's log dicts (and,
        in pretrained mode, "embed" logs while new samples' embeddings are computed). A new
        model starts when the classes changed since the last training or when `restart`."""
        counts = self.counts()
        if min(counts) < 2:
            empty = [self.class_names[i] for i, c in enumerate(counts) if c < 2]
            raise ValueError(f"record at least 2 samples for every class first: {', '.join(empty)}")
        pretrained = self.mode == "pretrained"
        epochs = epochs or (40 if pretrained else 20)
        learning_rate = learning_rate or 1e-3
        if pretrained:
            yield from self.embed_iter()
            x, y = self._embedded_dataset()
        else:
            x, y = self.dataset()
        if restart or not self.trained:
            self.model = (head_model(x.shape[1], len(self.class_names), self.hidden,
                                     self.dropout, self.seed) if pretrained
                          else default_model(self._cnn_size(), len(self.class_names), self.seed))
            self.model.compile(optimizer=optimizers.Adam(learning_rate),
                               loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            self.history = {}
        self.model.optimizer.learning_rate = learning_rate
        self.trained_classes = list(self.class_names)
        validation = self.validation_mask(validation_split)
        stopper = EarlyStopping("val_loss", patience=patience, restore_best_weights=True)
        done = len(next(iter(self.history.values()), []))
        augment = None if pretrained else (lambda batch, r: augment_frames(batch, r, flip=self.flip))
        for log in self.model.fit_iter(
                x[~validation], y[~validation], epochs=done + epochs, initial_epoch=done,
                batch_size=batch_size, validation_data=(x[validation], y[validation]),
                callbacks=[stopper], seed=self.seed + done, augment=augment):
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
        sample = to_sample(image, self.image_size)
        if self.mode == "pretrained":
            return self.model.predict(self._require_features().embed(sample[None]))[0]
        x = sample.astype(np.float32) / 255
        if self._cnn_size() != self.image_size:
            x = resize(x, self._cnn_size(), self._cnn_size())
        return self.model.predict(x[None])[0]

    # ---- the project file --------------------------------------------------------------------------
    def to_bytes(self):
        """Samples (uint8) and their bursts, cached embeddings (float16), class names, settings,
        history, and the model (weights, optimizer state, architecture) written by the model
        file's own writer under the "model." prefix. The backbone is not in it (it is the same
        for every project): the file names it."""
        empty = np.zeros((0, self.image_size, self.image_size, 3), np.uint8)
        tensors = {f"samples.{i}": (np.stack(s) if s else empty) for i, s in enumerate(self.samples)}
        tensors.update({f"bursts.{i}": np.asarray(b, np.int64) for i, b in enumerate(self.bursts)})
        cached = self.embeddings is not None and all(
            v is not None for per_class in self.embeddings for v in per_class)
        if cached:
            width = self.features.size if self.features else next(
                len(v) for per_class in self.embeddings for v in per_class)
            tensors.update({f"embeddings.{i}": (np.stack(e) if e else np.zeros((0, width)))
                            .astype(np.float16) for i, e in enumerate(self.embeddings)})
        info = {"class_names": self.class_names, "image_size": self.image_size, "flip": self.flip,
                "seed": self.seed, "history": self.history, "trained_classes": self.trained_classes,
                "confusion": None if self.confusion is None else self.confusion.tolist(),
                "mode": self.mode, "hidden": self.hidden, "dropout": self.dropout,
                "embedding_key": self.embedding_key if cached else None}
        metadata = {"nnpy.project_format": str(PROJECT_FORMAT), "nnpy.project": json.dumps(info)}
        if self.model is not None:
            model_tensors, model_metadata = model_state(self.model, prefix=MODEL_PREFIX,
                                                        include_optimizer=True)
            tensors.update(model_tensors)
            metadata.update(model_metadata)
        return encode_safetensors(tensors, metadata)

    @classmethod
    def from_bytes(cls, data):
        """A project from `to_bytes` output; ModelFormatError when it is not a project file."""
        tensors, metadata = decode_safetensors(data)
        if "nnpy.project" not in metadata:
            raise ModelFormatError("this is not an nnpy project file (no nnpy.project metadata); "
                                   "a model file is opened with nnpy.load_model instead")
        version = metadata.get("nnpy.project_format", "1")  # files before the key existed: 1
        if version not in READABLE_FORMATS:
            raise ModelFormatError(f"this project was saved in project format {version!r}; this "
                                   f"nnpy reads formats {', '.join(READABLE_FORMATS)}: upgrade nnpy")
        try:
            info = json.loads(metadata["nnpy.project"])
            project = cls(info["class_names"], info["image_size"], info.get("flip", True),
                          info.get("seed", 0), info.get("mode", "scratch"), info.get("hidden", 0),
                          info.get("dropout", 0.0))
            for i in range(len(project.class_names)):
                samples = tensors[f"samples.{i}"]
                if samples.dtype != np.uint8 or samples.shape[1:] != (project.image_size,) * 2 + (3,):
                    raise ValueError(f"samples.{i} has shape {samples.shape}, dtype {samples.dtype}")
                project.samples[i] = list(samples)
                bursts = tensors.get(f"bursts.{i}", np.zeros(len(samples), np.int64))
                if bursts.shape != (len(samples),):
                    raise ValueError(f"bursts.{i} has shape {bursts.shape}, not ({len(samples)},)")
                project.bursts[i] = [int(b) for b in bursts]
            if info.get("embedding_key"):
                project.embedding_key = info["embedding_key"]
                project.embeddings = [list(tensors[f"embeddings.{i}"].astype(np.float32))
                                      for i in range(len(project.class_names))]
                if [len(e) for e in project.embeddings] != project.counts():
                    raise ValueError("the cached embeddings do not match the samples")
            project.history = info.get("history") or {}
            project.trained_classes = info.get("trained_classes")
            if info.get("confusion") is not None:
                project.confusion = np.array(info["confusion"])
        except (KeyError, ValueError, TypeError, ShapeError) as error:
            raise ModelFormatError(f"the project file is damaged or incomplete ({error}); "
                                   "download a fresh copy or start a new project") from None
        if "nnpy.config" in metadata:
            project.model = model_from_state(tensors, metadata, prefix=MODEL_PREFIX)
        return project


def confusion_matrix(true, predicted, num_classes):
    """(num_classes, num_classes) counts: row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true, int), np.asarray(predicted, int)), 1)
    return matrix
