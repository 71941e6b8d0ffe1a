"""Activation layers. Each caches what its derivative needs; shapes are unchanged."""

import math

import numpy as np

from .. import validation
from ..errors import ShapeError
from .base import Layer


class Linear(Layer):
    """The identity: what `activation=None` means."""

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        return dy


class ReLU(Layer):
    """max(x, 0), capped at `max_value` when given (ReLU6 is ReLU(max_value=6), as in MobileNet
    and EfficientNet-Lite: a bounded range that survives low-precision arithmetic)."""

    def __init__(self, max_value=None, name=None):
        super().__init__(name)
        self.max_value = None if max_value is None else validation.number(
            max_value, "max_value", "ReLU", low=0, low_open=True)

    def forward(self, x, training=False):
        # one pass; backward finds where the gradient flows from the output: 0 < y < max_value
        # exactly where 0 < x < max_value (a mask made in forward cost passes over every value)
        if self.max_value is not None:
            self.y = np.clip(x, 0, self.max_value).astype(x.dtype, copy=False)
        else:
            self.y = np.maximum(x, 0).astype(x.dtype, copy=False)
        return self.y

    def backward(self, dy):
        mask = self.y > 0
        if self.max_value is not None:
            mask &= self.y < self.max_value
        return dy * mask

    def get_config(self):
        return {"max_value": self.max_value, "name": self.name}


def ReLU6(name=None):
    """ReLU capped at 6."""
    return ReLU(max_value=6, name=name)


class LeakyReLU(Layer):
    def __init__(self, negative_slope=0.3, name=None):
        super().__init__(name)
        self.negative_slope = validation.number(negative_slope, "negative_slope", "LeakyReLU")

    def forward(self, x, training=False):
        self.mask = x > 0
        return np.where(self.mask, x, x * x.dtype.type(self.negative_slope))

    def backward(self, dy):
        return np.where(self.mask, dy, dy * dy.dtype.type(self.negative_slope))

    def get_config(self):
        return {"negative_slope": self.negative_slope, "name": self.name}


class Sigmoid(Layer):
    def forward(self, x, training=False):
        # tanh form: no overflow warning for large |x|, unlike 1 / (1 + exp(-x))
        self.y = 0.5 * (np.tanh(0.5 * x) + 1)
        return self.y

    def backward(self, dy):
        return dy * self.y * (1 - self.y)


class Tanh(Layer):
    def forward(self, x, training=False):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy):
        return dy * (1 - self.y * self.y)


def softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)  # exp never overflows
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Layer):
    def __init__(self, axis=-1, name=None):
        super().__init__(name)
        self.axis = validation.integer(axis, "axis", "Softmax", minimum=-validation.MAX_DIMENSIONS)
        if self.axis == 0:
            raise ValueError("Softmax: axis 0 is the batch axis; use axis=-1 (the features)")

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)  # the batch axis excluded: valid axes are 1..rank and -rank..-1
        if not (-rank <= self.axis <= rank):
            raise ShapeError(f"Softmax axis {self.axis} is out of range for inputs (N, "
                             f"{', '.join(map(str, input_shape))}); use an axis in 1..{rank} "
                             f"or -{rank}..-1")
        return input_shape

    def forward(self, x, training=False):
        self.y = softmax(x, self.axis)
        return self.y

    def backward(self, dy):
        # Jacobian-vector product of softmax: y * (dy - <dy, y>)
        return self.y * (dy - (dy * self.y).sum(axis=self.axis, keepdims=True))

    def get_config(self):
        return {"axis": self.axis, "name": self.name}


_erf = np.frompyfunc(math.erf, 1, 1)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class GELU(Layer):
    """GELU; `approximate=True` (default, fast) is the tanh form, `False` the exact erf form."""

    def __init__(self, approximate=True, name=None):
        super().__init__(name)
        self.approximate = validation.boolean(approximate, "approximate", "GELU")

    def forward(self, x, training=False):
        self.x = x
        if self.approximate:
            self.t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + _erf(x / math.sqrt(2)).astype(x.dtype))
        return x * self.cdf

    def backward(self, dy):
        x = self.x
        if self.approximate:
            dt = (1 - self.t**2) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x**2)
            return dy * (0.5 * (1 + self.t) + 0.5 * x * dt)
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return dy * (self.cdf + x * pdf)

    def get_config(self):
        return {"approximate": self.approximate, "name": self.name}


ACTIVATIONS = {
    None: Linear,
    "linear": Linear,
    "relu": ReLU,
    "relu6": ReLU6,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "softmax": Softmax,
    "gelu": GELU,
}


def get(name):
    """An activation layer from its name (`"relu"`, ...) or None."""
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        names = sorted(k for k in ACTIVATIONS if k)
        raise ValueError(f"unknown activation {name!r}; choose one of {names}") from None
