"""Dense: a fully connected layer, y = activation(x @ kernel + bias)."""

import numpy as np

from .. import initializers, validation
from ..backend import matmul
from ..errors import ShapeError
from . import activations
from .base import Layer


class Dense(Layer):
    """(N, in) -> (N, units). kernel (in, units), bias (units,).

    The layer contract by hand: `forward` caches what `backward` needs, and `backward` returns
    dx and fills `self.grads` (the same keys as `self.params`):

    >>> import numpy as np
    >>> dense = Dense(3)
    >>> dense.build((4,))
    >>> {name: value.shape for name, value in dense.params.items()}
    {'kernel': (4, 3), 'bias': (3,)}
    >>> dense.forward(np.ones((2, 4), np.float32)).shape
    (2, 3)
    >>> dense.backward(np.ones((2, 3), np.float32)).shape
    (2, 4)
    >>> dense.grads["bias"]
    array([2., 2., 2.], dtype=float32)
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", name=None):
        super().__init__(name)
        self.units = validation.integer(units, "units", "Dense", example=10)
        self.activation_name = activation
        self.activation = activations.get(activation)
        self.use_bias = validation.boolean(use_bias, "use_bias", "Dense")
        self.kernel_initializer = initializers.checked(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.checked(bias_initializer, "bias_initializer")

    def build(self, input_shape, rng=None):
        shapes = self.weight_shapes(input_shape)
        super().build(input_shape, rng)
        rng = rng or np.random.default_rng(0)
        self.params["kernel"] = initializers.get(self.kernel_initializer)(shapes["kernel"], rng)
        if self.use_bias:
            self.params["bias"] = initializers.get(self.bias_initializer)(shapes["bias"], rng)

    def weight_shapes(self, input_shape):
        self.compute_output_shape(input_shape)
        shapes = {"kernel": (input_shape[0], self.units)}        # (in, units)
        return shapes | ({"bias": (self.units,)} if self.use_bias else {})

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ShapeError(
                f"Dense expects flat inputs (N, features) but got (N, {', '.join(map(str, input_shape))}); "
                "put a Flatten() layer before it"
            )
        return (self.units,)

    def forward(self, x, training=False):
        self.x = x                                   # (N, in)
        z = matmul(x, self.params["kernel"])         # (N, units)
        if self.use_bias:
            z += self.params["bias"]
        return self.activation.forward(z, training)

    def backward(self, dy):
        dz = self.activation.backward(dy)            # (N, units)
        self.grads["kernel"] = matmul(self.x.T, dz)  # (in, units)
        if self.use_bias:
            self.grads["bias"] = dz.sum(axis=0)      # (units,)
        if not self.input_grad:
            return None
        return matmul(dz, self.params["kernel"].T)   # (N, in)

    def get_config(self):
        return {
            "units": self.units,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "name": self.name,
        }
