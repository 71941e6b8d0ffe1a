"""An image-classifier project, as a webcam trainer needs it: named classes, the samples recorded
for each, a model trained on them, and one file that holds it all so work can be resumed.

Two ways to learn (`mode`):
- "pretrained" (the default): a pretrained backbone (nnpy.applications' EfficientNet-Lite0) turns
  every sample into an embedding once (cached, also in the file; recomputed only for another
  backbone), and a small head (Dense -> softmax, optionally a hidden layer and dropout) learns
  from those vectors in well under a second. It tells real objects apart from 20 samples each,
  in other light, farther away, partly covered.
- "scratch": a small CNN learns from the pixels alone (at most 64x64): fine for flat colours and
  positions, weak on real objects under another crop, light or distance.

    project = ImageClassifierProject(["Mug", "Book"])          # pretrained mode
    project.set_backbone(nnpy.load_model("efficientnet-lite0.safetensors"))
    project.add_sample(0, frame, burst=1)        # frame: (H, W, 3|4) uint8, any size
    for log in project.train_iter():             # embedding logs, then one per batch / epoch
        ...
    project.predict(frame)                       # probabilities, one per class
    data = project.to_bytes()                    # samples, embeddings, model, history: one file
    same = ImageClassifierProject.from_bytes(data)
"""

from types import MappingProxyType

import numpy as np

from .. import layers, optimizers, validation
from ..applications.efficientnet_lite import embedding_model
from ..data import resize
from ..errors import ModelFormatError, ShapeError
from ..model import Sequential
from ..saving import model_from_state, model_state
from .classifier_project import ClassifierProject
from .pretrained_features import PretrainedFeatures, features_up_to, head_model

MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 16, 512  # the default model pools 16x; 512 is past any webcam use
MODES = ("pretrained", "scratch")
SCRATCH_SIZE = 64  # the CNN's largest input: bigger samples (pretrained mode's) shrink to it
PRETRAINED_SIZE = 160  # samples and backbone input in pretrained mode (224 costs twice as much)
BACKBONE_PREFIX = "backbone."  # a project's own backbone in its file


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


class ImageClassifierProject(ClassifierProject):
    """Samples are (S, S, 3) uint8 RGB squares cut from frames of any size."""

    KIND = "image"
    SETTINGS = ("image_size", "flip", "mode", "hidden", "dropout")
    FILE_DEFAULTS = MappingProxyType({"mode": "scratch"})  # files from before modes: scratch

    def __init__(self, class_names=("Class 1", "Class 2"), image_size=None, flip=True, seed=0,
                 mode="pretrained", hidden=0, dropout=0.0):
        super().__init__(class_names, seed)
        if mode not in MODES:
            raise ValueError(f"ImageClassifierProject: mode must be one of {MODES}, not {mode!r}")
        self.mode = mode
        self.size_follows_mode = image_size is None  # until a sample is recorded
        if image_size is None:
            image_size = PRETRAINED_SIZE if mode == "pretrained" else SCRATCH_SIZE
        size = image_size
        self.image_size = validation.integer(size, "image_size", "ImageClassifierProject",
                                             minimum=MIN_IMAGE_SIZE, example=64)
        if self.image_size > MAX_IMAGE_SIZE:
            raise ValueError(f"ImageClassifierProject: image_size must be at most "
                             f"{MAX_IMAGE_SIZE}, got {self.image_size}")
        self.flip = validation.boolean(flip, "flip", "ImageClassifierProject")
        self.hidden = validation.integer(hidden, "hidden", "ImageClassifierProject", minimum=0,
                                         example=64)
        self.dropout = float(dropout)
        if not 0 <= self.dropout < 1:
            raise ValueError(f"ImageClassifierProject: dropout must be in [0, 1), got {dropout!r}")
        self.backbone = None  # the backbone model given to set_backbone
        self.embedded_backbone = False  # whether the file keeps it (from_classifier)
        self.features = None  # PretrainedFeatures of it at image_size, once set_backbone is called
        self.embedding_key = None  # the backbone the cached embeddings came from
        self.embeddings = [[] for _ in self.class_names]  # per sample: a vector or None

    def default_epochs(self):
        return 40 if self.mode == "pretrained" else 20  # a head's epochs take milliseconds

    def to_sample(self, image):
        return to_sample(image, self.image_size)

    def sample_spec(self):
        return (self.image_size, self.image_size, 3), np.dtype(np.uint8)

    def _cnn_size(self):
        return min(self.image_size, SCRATCH_SIZE)

    def inputs(self, samples):
        """(N, S, S, 3) uint8 -> the model's inputs: embeddings (N, 1280) in pretrained mode,
        else float32 in [0, 1] at the CNN's size."""
        if self.mode == "pretrained":
            return self._require_features().embed(samples)
        x = np.asarray(samples, np.float32) / 255
        if self._cnn_size() != self.image_size:
            x = np.stack([resize(image, self._cnn_size(), self._cnn_size()) for image in x])
        return x.reshape(-1, self._cnn_size(), self._cnn_size(), 3)

    def model_input_shape(self):
        if self.mode == "pretrained":
            size = self.features.size if self.features else self.model.input_shape[0]
            return (size,)
        return (self._cnn_size(), self._cnn_size(), 3)

    def default_model(self):
        if self.mode == "pretrained":
            return head_model(self._require_features().size, len(self.class_names), self.hidden,
                              self.dropout, self.seed)
        return default_model(self._cnn_size(), len(self.class_names), self.seed)

    def augment(self, batch, rng):
        if self.mode == "pretrained":
            return batch  # the vectors are fixed; the backbone already sees through light and crop
        return augment_frames(batch, rng, flip=self.flip)

    # ---- pretrained features -----------------------------------------------------------------
    def set_backbone(self, model, key=None):
        """Use *model* (an nnpy.applications backbone, e.g. EfficientNet-Lite0) for pretrained
        mode, run at the samples' size. Cached embeddings from the same `key` are kept."""
        self.backbone = model  # kept to run at another size (set_mode before any sample)
        self.embedded_backbone = False
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
            if self.size_follows_mode and not any(self.counts()):  # samples at the mode's size
                self.image_size = PRETRAINED_SIZE if mode == "pretrained" else SCRATCH_SIZE
                if self.backbone is not None:
                    self.set_backbone(self.backbone, self.features.key)

    def _require_features(self):
        if self.features is None:
            raise RuntimeError("pretrained mode needs a backbone: call set_backbone(model) "
                               "(the page loads EfficientNet-Lite0 for it)")
        return self.features

    def classes_changed(self, deleted=None):
        if deleted is None:
            self.embeddings.append([])
        else:
            del self.embeddings[deleted]

    def sample_added(self, index):
        self.embeddings[index].append(None)

    def sample_deleted(self, index, sample_index):
        del self.embeddings[index][sample_index]

    def embed_iter(self, batch_size=8):
        """Compute the embeddings not cached yet, yielding {"kind": "embed", "done", "total"}
        after each batch (the worker answers other requests between them)."""
        features = self._require_features()
        missing = [(c, i) for c, per_class in enumerate(self.embeddings)
                   for i, vector in enumerate(per_class) if vector is None]
        for start in range(0, len(missing), batch_size):
            chunk = missing[start:start + batch_size]
            vectors = features.embed(np.stack([self.samples[c][i] for c, i in chunk]))
            for (c, i), vector in zip(chunk, vectors):
                self.embeddings[c][i] = vector
            yield {"kind": "embed", "done": start + len(chunk), "total": len(missing)}

    def training_iter(self):
        return self.embed_iter() if self.mode == "pretrained" else iter(())

    def training_data(self):
        if self.mode != "pretrained":
            return self.dataset()
        x = np.concatenate([np.stack(e) for e in self.embeddings if e])
        y = np.concatenate([np.full(len(e), i) for i, e in enumerate(self.embeddings)])
        return x, y.astype(np.int64)

    def write_extra(self):
        """Cached embeddings (float16) with the backbone's key, when every sample has one; and
        the backbone itself when the project brought its own (`from_classifier`): the page can
        load EfficientNet-Lite0 again, not a model someone opened from their disk."""
        tensors, info = {}, {}
        if self.embedded_backbone:
            tensors, metadata = model_state(self.features.backbone, prefix=BACKBONE_PREFIX)
            info["backbone"] = {"key": self.features.key, "metadata": metadata}
        if self.embedding_key is None or any(v is None for e in self.embeddings for v in e):
            return tensors, info
        width = self.features.size if self.features else len(
            next(v for e in self.embeddings for v in e))
        tensors.update({f"embeddings.{i}": (np.stack(e) if e else np.zeros((0, width)))
                        .astype(np.float16) for i, e in enumerate(self.embeddings)})
        return tensors, {**info, "embedding_key": self.embedding_key}

    def read_extra(self, tensors, info):
        own = info.get("backbone")
        if own is not None:  # the project's own backbone (an opened Teachable Machine model)
            if not isinstance(own, dict) or not isinstance(own.get("metadata"), dict):
                raise ModelFormatError("the project file is damaged: its 'backbone' must be "
                                       "{key, metadata}")
            backbone = model_from_state(tensors, own["metadata"], prefix=BACKBONE_PREFIX)
            self.features = PretrainedFeatures(backbone, str(own.get("key")))
            self.embedded_backbone = True
        key = info.get("embedding_key")
        self.embeddings = [[None] * n for n in self.counts()]
        if not key:
            return
        for i, count in enumerate(self.counts()):
            vectors = tensors.get(f"embeddings.{i}")
            if vectors is None or vectors.ndim != 2 or len(vectors) != count:
                raise ModelFormatError(f"the project file is damaged: embeddings.{i} must hold "
                                       f"one vector per sample ({count})")
            self.embeddings[i] = list(vectors.astype(np.float32))
        self.embedding_key = str(key)

    # ---- a trained image classifier to fine-tune ------------------------------------------------
    @classmethod
    def from_classifier(cls, model, key=None):
        """A project from a trained image classifier (a Teachable Machine export: MobileNet up
        to a global average, then Dense layers): its labels become the classes, everything up
        to the global average becomes the project's own backbone (saved in the project file)
        and its Dense layers the head, so new samples fine-tune it. No samples yet: it
        classifies at once, and Train more continues from its weights. `key` names the backbone
        (default: the model's name and size)."""
        pools = [i for i, layer in enumerate(model.layers)
                 if isinstance(layer, layers.GlobalAveragePooling2D)]
        dense = model.layers[pools[-1] + 1:] if pools else []
        if not pools or not dense or not all(isinstance(layer, layers.Dense) for layer in dense):
            raise ModelFormatError("this model is not an image classifier this trainer can "
                                   "fine-tune: it must end in a global average pooling and Dense "
                                   "layers (as a Teachable Machine image model does)")
        size, labels = model.input_shape[0], list(model.labels or [])
        if len(labels) != dense[-1].units:
            labels = [f"Class {i + 1}" for i in range(dense[-1].units)]
        hidden = dense[0].units if len(dense) == 2 else 0
        project = cls(labels, image_size=size, flip=False, mode="pretrained", hidden=hidden)
        key = key or f"{model.name}-{model.count_params()}"
        backbone = features_up_to(model, model.layers[pools[-1]].name, size)
        project.features = PretrainedFeatures(backbone, key)
        project.embedding_key, project.embedded_backbone = key, True
        head = project.default_model()
        for mine, theirs in zip([each for each in head.layers if isinstance(each, layers.Dense)],
                                dense):
            mine.params["kernel"][...] = theirs.params["kernel"]
            if "bias" in theirs.params:
                mine.params["bias"][...] = theirs.params["bias"]
            elif "bias" in mine.params:  # the last layer of a Teachable Machine head has none
                mine.params["bias"][...] = 0
        head.compile(optimizer=optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                     metrics=["accuracy"])
        project.model, project.trained_classes = head, list(project.class_names)
        return project
