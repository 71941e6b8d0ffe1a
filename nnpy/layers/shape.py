"""Layers that move values around without weights: Flatten, Reshape, Dropout."""

import math

import numpy as np

from .. import validation
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


class Dropout(Layer):
    """Inverted dropout: in training, zero a fraction `rate` of values and scale the rest by
    1 / (1 - rate), so inference needs no change."""

    def __init__(self, rate, seed=None, name=None):
        super().__init__(name)
        self.rate = validation.number(rate, "rate", "Dropout", low=0, high=1, high_open=True)
        self.seed = validation.seed(seed, "seed", "Dropout")
        self.rng = np.random.default_rng(seed)

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        if self.seed is None and rng is not None:
            self.rng = np.random.default_rng(rng.integers(2**63))

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
