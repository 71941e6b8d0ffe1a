"""Layers that move values around without weights: Flatten, Reshape, ZeroPadding2D, Dropout."""

import math

import numpy as np

from .. import initializers, validation
from ..errors import ShapeError
from .base import Layer


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x, training=False):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self.x_shape)


class Reshape(Layer):
    """(N, ...) -> (N, *target_shape); one dimension may be -1."""

    def __init__(self, target_shape, name=None):
        super().__init__(name)
        self.target_shape = validation.shape(target_shape, "target_shape", "Reshape",
                                             allow_unknown=True)

    def compute_output_shape(self, input_shape):
        size = math.prod(input_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if math.prod(shape) != size:
            raise ShapeError(f"cannot reshape {input_shape} ({size} values) into {self.target_shape}")
        return shape

    def forward(self, x, training=False):
        self.x_shape = x.shape
        return x.reshape((x.shape[0], *self.output_shape))

    def backward(self, dy):
        return dy.reshape(self.x_shape)

    def get_config(self):
        return {"target_shape": list(self.target_shape), "name": self.name}


class ZeroPadding2D(Layer):
    """(N, H, W, C) -> (N, top + H + bottom, left + W + right, C), zeros around the image.
    `padding`: n (all sides), (rows, columns), or ((top, bottom), (left, right)) as in Keras;
    ((0, 1), (0, 1)) is TensorFlow's "same" padding for a stride-2 3x3 convolution."""

    def __init__(self, padding=1, name=None):
        super().__init__(name)
        given = padding
        if np.isscalar(padding):
            padding = ((padding, padding), (padding, padding))
        elif hasattr(padding, "__len__") and all(np.isscalar(p) for p in padding):
            padding = [(side, side) for side in padding]
        if not (hasattr(padding, "__len__") and len(padding) == 2
                and all(hasattr(side, "__len__") and len(side) == 2 for side in padding)):
            raise TypeError(f"ZeroPadding2D: padding must be n, (rows, columns) or "
                            f"((top, bottom), (left, right)), got {given!r}")
        self.padding = tuple(tuple(validation.integer(count, "padding", "ZeroPadding2D",
                                                      minimum=0) for count in side)
                             for side in padding)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ShapeError(f"ZeroPadding2D expects images (N, H, W, C), got (N, {input_shape})")
        (top, bottom), (left, right) = self.padding
        height, width, channels = input_shape
        return (top + height + bottom, left + width + right, channels)

    def forward(self, x, training=False):
        (top, _), (left, _) = self.padding
        out = np.zeros((x.shape[0], *self.output_shape), dtype=x.dtype)
        out[:, top:top + x.shape[1], left:left + x.shape[2]] = x
        return out

    def backward(self, dy):
        (top, _), (left, _) = self.padding
        height, width, _ = self.input_shape
        return dy[:, top:top + height, left:left + width]

    def get_config(self):
        return {"padding": [list(side) for side in self.padding], "name": self.name}


class Dropout(Layer):
    """Inverted dropout: in training, zero a fraction `rate` of values and scale the rest by
    1 / (1 - rate), so inference needs no change."""

    def __init__(self, rate, seed=None, name=None):
        super().__init__(name)
        self.rate = validation.number(rate, "rate", "Dropout", low=0, high=1, high_open=True)
        self.seed = validation.seed(seed, "seed", "Dropout")
        # the generator is made on first use: a loaded model that only predicts never imports
        # numpy.random (nine extension modules, a noticeable part of a page's start)
        self._rng = None
        self._built_seed = None  # when built without a seed: one drawn from the model's generator

    @property
    def rng(self):
        """The generator of the masks, from `seed` (or, built without one, from the model's
        generator), made when first drawn from."""
        if self._rng is None:
            seed = self.seed if self._built_seed is None else self._built_seed
            self._rng = np.random.default_rng(initializers.seed_value(seed))
        return self._rng

    @rng.setter
    def rng(self, generator):
        self._rng = generator

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        if self.seed is None and rng is not None:
            self._rng, self._built_seed = None, initializers.derived_seed(rng)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self.mask = None
            return x
        keep = 1 - self.rate
        self.mask = (self.rng.random(x.shape) < keep).astype(x.dtype) / x.dtype.type(keep)
        return x * self.mask

    def backward(self, dy):
        return dy if self.mask is None else dy * self.mask

    def get_config(self):
        return {"rate": self.rate, "seed": self.seed, "name": self.name}
