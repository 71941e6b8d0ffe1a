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

import numpy as np

from .. import layers, validation
from ..data import resize
from ..errors import ShapeError
from ..model import Sequential
from .classifier_project import ClassifierProject

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


class ImageClassifierProject(ClassifierProject):
    """Samples are (S, S, 3) uint8 RGB squares cut from frames of any size."""

    KIND = "image"
    SETTINGS = ("image_size", "flip")

    def __init__(self, class_names=("Class 1", "Class 2"), image_size=64, flip=True, seed=0):
        super().__init__(class_names, seed)
        self.image_size = validation.integer(image_size, "image_size", "ImageClassifierProject",
                                             minimum=MIN_IMAGE_SIZE, example=64)
        if self.image_size > MAX_IMAGE_SIZE:
            raise ValueError(f"ImageClassifierProject: image_size must be at most "
                             f"{MAX_IMAGE_SIZE}, got {self.image_size}")
        self.flip = validation.boolean(flip, "flip", "ImageClassifierProject")

    def to_sample(self, image):
        return to_sample(image, self.image_size)

    def sample_spec(self):
        return (self.image_size, self.image_size, 3), np.dtype(np.uint8)

    def inputs(self, samples):
        """(N, S, S, 3) uint8 -> float32 in [0, 1]."""
        return np.asarray(samples, np.float32) / 255

    def default_model(self):
        return default_model(self.image_size, len(self.class_names), self.seed)

    def augment(self, batch, rng):
        return augment_frames(batch, rng, flip=self.flip)
