"""The image classifier's "scratch" mode: a small CNN that learns from the pixels alone, with
augmentation so a few dozen samples teach more than a few dozen views."""

import numpy as np

from .. import layers
from ..model import Sequential


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
