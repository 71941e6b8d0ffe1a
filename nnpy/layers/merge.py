"""Layers that combine several inputs into one: Add (residual connections) and Concatenate.
They take a list of arrays and give back a list of gradients, one per input."""

import numpy as np

from .. import validation
from ..errors import ShapeError
from .base import Layer


class Add(Layer):
    """[(N, ...), (N, ...), ...] -> (N, ...): the element-wise sum (a residual connection)."""

    merges = True

    def compute_output_shape(self, input_shapes):
        if len(input_shapes) < 2 or any(shape != input_shapes[0] for shape in input_shapes):
            raise ShapeError(f"Add needs two or more inputs of one shape, got {input_shapes}")
        return input_shapes[0]

    def build(self, input_shapes, rng=None):
        self.input_shape = [tuple(int(d) for d in shape) for shape in input_shapes]
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def forward(self, xs, training=False):
        self.count = len(xs)
        total = xs[0].copy()
        for x in xs[1:]:
            total += x
        return total

    def backward(self, dy):
        return [dy] * self.count  # d(a + b)/da = d(a + b)/db = 1


class Concatenate(Layer):
    """[(N, ..., c1), (N, ..., c2), ...] -> (N, ..., c1 + c2 + ...) along `axis` (not the batch)."""

    merges = True

    def __init__(self, axis=-1, name=None):
        super().__init__(name)
        self.axis = validation.integer(axis, "axis", "Concatenate",
                                       minimum=-validation.MAX_DIMENSIONS)
        if self.axis == 0:
            raise ValueError("Concatenate cannot join along the batch axis (axis=0)")

    def compute_output_shape(self, input_shapes):
        rank = len(input_shapes[0]) if input_shapes else 0
        axis = self.axis - 1 if self.axis > 0 else self.axis + rank  # in the shape without batch
        if len(input_shapes) < 2 or not 0 <= axis < rank:
            raise ShapeError(f"Concatenate(axis={self.axis}) cannot join {input_shapes}")
        rest = {shape[:axis] + shape[axis + 1:] for shape in input_shapes}
        if len(rest) != 1 or any(len(shape) != rank for shape in input_shapes):
            raise ShapeError(f"Concatenate(axis={self.axis}) needs inputs that differ only along "
                             f"that axis, got {input_shapes}")
        joined = sum(shape[axis] for shape in input_shapes)
        return input_shapes[0][:axis] + (joined,) + input_shapes[0][axis + 1:]

    def build(self, input_shapes, rng=None):
        self.input_shape = [tuple(int(d) for d in shape) for shape in input_shapes]
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True

    def forward(self, xs, training=False):
        self.sizes = [x.shape[self.axis] for x in xs]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, dy):
        return np.split(dy, np.cumsum(self.sizes)[:-1], axis=self.axis)

    def get_config(self):
        return {"axis": self.axis, "name": self.name}
