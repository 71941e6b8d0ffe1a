"""Layers over sequences (N, L, C): a length L of steps (e.g. the frames of a spectrogram), C
values per step (e.g. its mel bands). Conv1D slides a kernel along L by im2col and one GEMM,
MaxPool1D keeps the largest value of each window, GlobalAveragePooling1D the mean over all steps.
Padding and output lengths follow TensorFlow/Keras, as the 2-D layers in conv.py do."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import initializers, validation
from ..backend import matmul
from ..errors import ShapeError
from . import activations
from .base import Layer
from .conv import _output_and_padding


def _sequence_shape(layer, input_shape):
    if len(input_shape) != 2:
        raise ShapeError(f"{type(layer).__name__} expects sequences (N, L, C), got input shape "
                         f"(N, {', '.join(map(str, input_shape))}); add a Reshape layer first")
    return input_shape


def _padding_name(padding, where):
    return validation.one_of(padding, "padding", ("same", "valid"), where)


def _length(value, name, where):
    """A window length or stride: an int, or a 1-long sequence as Keras also accepts."""
    if hasattr(value, "__len__") and len(value) == 1:
        value = value[0]
    return validation.integer(value, name, where, example=3)


class _Windowed1D(Layer):
    """Shared geometry of layers that slide a window of `size` steps by `stride` along L."""

    def _windows(self, x, fill=0.0):
        """x (N, L, C) -> its windows (N, L', C, size) as a strided view of the padded x."""
        n, length, channels = x.shape
        out, (before, after) = _output_and_padding(length, self.size, self.stride, self.padding)
        self.x_shape, self.before = x.shape, before
        if before or after:
            padded = np.full((n, before + length + after, channels), fill, dtype=x.dtype)
            padded[:, before:before + length] = x
            x = padded
        self.padded_length = x.shape[1]
        return sliding_window_view(x, self.size, axis=1)[:, ::self.stride][:, :out]

    def _scatter(self, dwindows):
        """Adjoint of `_windows`: dwindows (N, L', size, C) added back onto dx (N, L, C)."""
        n, out, size, channels = dwindows.shape
        dx = np.zeros((n, self.padded_length, channels), dtype=dwindows.dtype)   # (N, Lp, C)
        for tap in range(size):
            dx[:, tap:tap + self.stride * (out - 1) + 1:self.stride] += dwindows[:, :, tap]
        return dx[:, self.before:self.before + self.x_shape[1]]

    def compute_output_shape(self, input_shape):
        length, channels = _sequence_shape(self, input_shape)
        out, _ = _output_and_padding(length, self.size, self.stride, self.padding)
        return (out, self._channels_out(channels))


class Conv1D(_Windowed1D):
    """(N, L, C) -> (N, L', filters). kernel (size, C, filters), bias (filters,), as in Keras."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 name=None):
        super().__init__(name)
        self.filters = validation.integer(filters, "filters", "Conv1D", example=8)
        self.size = _length(kernel_size, "kernel_size", "Conv1D")
        self.stride = _length(strides, "strides", "Conv1D")
        self.padding = _padding_name(padding, "Conv1D")
        self.activation_name = activation
        self.activation = activations.get(activation)
        self.use_bias = validation.boolean(use_bias, "use_bias", "Conv1D")
        self.kernel_initializer = initializers.checked(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.checked(bias_initializer, "bias_initializer")

    def _channels_out(self, channels_in):
        return self.filters

    def build(self, input_shape, rng=None):
        shapes = self.weight_shapes(input_shape)
        super().build(input_shape, rng)
        rng = rng or np.random.default_rng(0)
        self.params["kernel"] = initializers.get(self.kernel_initializer)(shapes["kernel"], rng)
        if self.use_bias:
            self.params["bias"] = initializers.get(self.bias_initializer)(shapes["bias"], rng)

    def weight_shapes(self, input_shape):
        self.compute_output_shape(input_shape)
        shapes = {"kernel": (self.size, input_shape[1], self.filters)}  # (size, C, F)
        return shapes | ({"bias": (self.filters,)} if self.use_bias else {})

    def forward(self, x, training=False):
        windows = self._windows(x)                                   # (N, L', C, size)
        n, out = windows.shape[:2]
        self.cols = windows.transpose(0, 1, 3, 2).reshape(n * out, -1)   # (N*L', size*C)
        z = matmul(self.cols, self.params["kernel"].reshape(-1, self.filters))  # (N*L', F)
        if self.use_bias:
            z += self.params["bias"]
        return self.activation.forward(z.reshape(n, out, self.filters), training)

    def backward(self, dy):
        dz = self.activation.backward(dy)                            # (N, L', F)
        n, out, _ = dz.shape
        dz2 = dz.reshape(-1, self.filters)                           # (N*L', F)
        kernel = self.params["kernel"]                               # (size, C, F)
        self.grads["kernel"] = matmul(self.cols.T, dz2).reshape(kernel.shape)
        if self.use_bias:
            self.grads["bias"] = dz2.sum(axis=0)
        if not self.input_grad:
            return None
        dcols = matmul(dz2, kernel.reshape(-1, self.filters).T)      # (N*L', size*C)
        return self._scatter(dcols.reshape(n, out, self.size, -1))

    def get_config(self):
        return {
            "filters": self.filters,
            "kernel_size": self.size,
            "strides": self.stride,
            "padding": self.padding,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "name": self.name,
        }


class MaxPool1D(_Windowed1D):
    """(N, L, C) -> (N, L', C): the largest value of each window; its gradient goes to that one
    step (the first one on ties)."""

    def __init__(self, pool_size=2, strides=None, padding="valid", name=None):
        super().__init__(name)
        self.size = _length(pool_size, "pool_size", "MaxPool1D")
        self.stride = _length(strides, "strides", "MaxPool1D") if strides is not None else self.size
        self.padding = _padding_name(padding, "MaxPool1D")

    def _channels_out(self, channels_in):
        return channels_in

    def forward(self, x, training=False):
        windows = self._windows(x, fill=-np.inf)                     # (N, L', C, size)
        self.argmax = windows.argmax(axis=-1)                        # (N, L', C)
        return np.take_along_axis(windows, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dy):
        winner = self.argmax[..., None] == np.arange(self.size)      # (N, L', C, size)
        return self._scatter((dy[..., None] * winner).transpose(0, 1, 3, 2))

    def get_config(self):
        return {"pool_size": self.size, "strides": self.stride, "padding": self.padding,
                "name": self.name}


class GlobalAveragePooling1D(Layer):
    """(N, L, C) -> (N, C): the mean over all steps, so a sound counts wherever it starts."""

    def compute_output_shape(self, input_shape):
        return (_sequence_shape(self, input_shape)[1],)

    def forward(self, x, training=False):
        self.x_shape = x.shape
        return x.mean(axis=1)

    def backward(self, dy):
        return np.broadcast_to(dy[:, None, :] / self.x_shape[1], self.x_shape).copy()


MaxPooling1D = MaxPool1D
GlobalAvgPool1D = GlobalAveragePooling1D
