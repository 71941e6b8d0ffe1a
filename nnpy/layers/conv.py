"""Convolution and pooling over NHWC images, by im2col and GEMM: no Python loop over pixels or
examples, only over the kernel's taps (kh * kw small slices) when gradients are scattered back."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import initializers
from ..errors import ShapeError
from ..kernels import matmul
from . import activations
from .base import Layer


def _pair(value):
    return (int(value), int(value)) if np.isscalar(value) else tuple(int(v) for v in value)


def _output_and_padding(size, window, stride, padding):
    """Output length and (before, after) padding along one axis, as TensorFlow/Keras define them."""
    if padding == "valid":
        if size < window:
            raise ShapeError(f"input size {size} is smaller than the window {window} with "
                             "padding='valid'; use padding='same' or a larger input")
        return (size - window) // stride + 1, (0, 0)
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, (total // 2, total - total // 2)


def _check_padding(padding):
    if padding not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    return padding


class _Windowed(Layer):
    """Shared geometry of layers that slide a (kh, kw) window with strides over (H, W)."""

    def _geometry(self, height, width):
        (kh, kw), (sh, sw) = self.window, self.strides
        out_h, pad_h = _output_and_padding(height, kh, sh, self.padding)
        out_w, pad_w = _output_and_padding(width, kw, sw, self.padding)
        return out_h, out_w, pad_h, pad_w

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ShapeError(f"{type(self).__name__} expects images (N, H, W, C), got input shape "
                             f"(N, {', '.join(map(str, input_shape))}); add a Reshape layer first")
        out_h, out_w, _, _ = self._geometry(*input_shape[:2])
        return (out_h, out_w, self._channels_out(input_shape[2]))

    def _windows(self, x, fill=0.0):
        """x (N, H, W, C) -> padded x and its windows (N, Ho, Wo, C, kh, kw), a strided view."""
        _, height, width, _ = x.shape
        out_h, out_w, pad_h, pad_w = self._geometry(height, width)
        if any(pad_h + pad_w):
            x = np.pad(x, ((0, 0), pad_h, pad_w, (0, 0)), constant_values=fill)
        (sh, sw) = self.strides
        windows = sliding_window_view(x, self.window, axis=(1, 2))[:, ::sh, ::sw][:, :out_h, :out_w]
        return x, windows, (pad_h, pad_w)

    def _scatter(self, dtaps, padded_shape, pads, x_shape):
        """Adjoint of `_windows`: add each tap's gradient back onto x. dtaps is laid out
        (kh, kw, C, N, Ho, Wo) so every tap is one contiguous block (about 2x faster than
        channels-last here); returns dx (N, H, W, C) as a transposed view."""
        (kh, kw), (sh, sw) = self.window, self.strides
        out_h, out_w = dtaps.shape[-2:]
        n, height, width, channels = padded_shape
        dx = np.zeros((channels, n, height, width), dtype=dtaps.dtype)   # (C, N, Hp, Wp)
        for i in range(kh):
            for j in range(kw):
                dx[:, :, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw] += dtaps[i, j]
        (top, _), (left, _) = pads
        return dx[:, :, top:top + x_shape[1], left:left + x_shape[2]].transpose(1, 2, 3, 0)


class Conv2D(_Windowed):
    """(N, H, W, C) -> (N, H', W', filters). kernel (kh, kw, C, filters), bias (filters,)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 name=None):
        super().__init__(name)
        self.filters = int(filters)
        self.window = _pair(kernel_size)
        self.strides = _pair(strides)
        self.padding = _check_padding(padding)
        self.activation_name = activation
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def _channels_out(self, channels_in):
        return self.filters

    def build(self, input_shape, rng=None):
        super().build(input_shape, rng)
        rng = rng or np.random.default_rng(0)
        shape = (*self.window, self.input_shape[2], self.filters)
        self.params["kernel"] = initializers.get(self.kernel_initializer)(shape, rng)
        if self.use_bias:
            self.params["bias"] = initializers.get(self.bias_initializer)((self.filters,), rng)

    def forward(self, x, training=False):
        n = x.shape[0]
        xp, windows, self.pads = self._windows(x)
        self.x_shape, self.padded_shape = x.shape, xp.shape
        _, out_h, out_w = windows.shape[:3]
        # im2col: one copy into rows of (kh, kw, C) patches, ordered like the kernel
        self.cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * out_h * out_w, -1)
        kernel = self.params["kernel"].reshape(-1, self.filters)   # (kh*kw*C, F)
        z = matmul(self.cols, kernel)                              # (N*Ho*Wo, F)
        if self.use_bias:
            z += self.params["bias"]
        return self.activation.forward(z.reshape(n, out_h, out_w, self.filters), training)

    def backward(self, dy):
        dz = self.activation.backward(dy)                          # (N, Ho, Wo, F)
        n, out_h, out_w, _ = dz.shape
        dz2 = dz.reshape(-1, self.filters)                         # (N*Ho*Wo, F)
        kernel = self.params["kernel"]
        self.grads["kernel"] = matmul(self.cols.T, dz2).reshape(kernel.shape)
        if self.use_bias:
            self.grads["bias"] = dz2.sum(axis=0)
        if not self.input_grad:
            return None
        dtaps = matmul(kernel.reshape(-1, self.filters), dz2.T)    # (kh*kw*C, N*Ho*Wo)
        dtaps = dtaps.reshape(*kernel.shape[:3], n, out_h, out_w)  # (kh, kw, C, N, Ho, Wo)
        return self._scatter(dtaps, self.padded_shape, self.pads, self.x_shape)

    def get_config(self):
        return {
            "filters": self.filters,
            "kernel_size": list(self.window),
            "strides": list(self.strides),
            "padding": self.padding,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "name": self.name,
        }


class _Pool2D(_Windowed):
    def __init__(self, pool_size=2, strides=None, padding="valid", name=None):
        super().__init__(name)
        self.window = _pair(pool_size)
        self.strides = _pair(strides) if strides is not None else self.window
        self.padding = _check_padding(padding)

    def _channels_out(self, channels_in):
        return channels_in

    def get_config(self):
        return {"pool_size": list(self.window), "strides": list(self.strides),
                "padding": self.padding, "name": self.name}


class MaxPool2D(_Pool2D):
    """(N, H, W, C) -> (N, H', W', C): the largest value of each window; its gradient goes to
    that one position."""

    def _tiles(self):
        """True when windows tile the input without overlap or padding (the common pool 2/3)."""
        return self.strides == self.window and self.padding == "valid"

    def forward(self, x, training=False):
        self.x_shape = x.shape
        if self._tiles():
            # (N, Ho, kh, Wo, kw, C) is a plain reshape of the covered rows/columns: no gather
            (kh, kw), (n, height, width, channels) = self.window, x.shape
            out_h, out_w = height // kh, width // kw
            tiles = x[:, :out_h * kh, :out_w * kw].reshape(n, out_h, kh, out_w, kw, channels)
            flat = tiles.transpose(0, 1, 3, 5, 2, 4).reshape(n, out_h, out_w, channels, kh * kw)
        else:
            xp, windows, self.pads = self._windows(x, fill=-np.inf)
            self.padded_shape = xp.shape
            flat = windows.reshape(*windows.shape[:4], -1)  # (N, Ho, Wo, C, kh*kw)
        if not training:  # inference needs no record of the winners
            return flat.max(axis=-1)
        self.argmax = flat.argmax(axis=-1)                  # (N, Ho, Wo, C)
        return np.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dy):
        (kh, kw), (n, out_h, out_w, channels) = self.window, dy.shape
        # one-hot of the winning tap, times dy: (N, Ho, Wo, C, kh, kw)
        winner = self.argmax[..., None] == np.arange(kh * kw)
        dwindows = (dy[..., None] * winner).reshape(n, out_h, out_w, channels, kh, kw)
        if self._tiles():
            dx = np.zeros(self.x_shape, dtype=dy.dtype)
            dx[:, :out_h * kh, :out_w * kw] = dwindows.transpose(0, 1, 4, 2, 5, 3).reshape(
                n, out_h * kh, out_w * kw, channels)
            return dx
        return self._scatter(dwindows.transpose(4, 5, 3, 0, 1, 2), self.padded_shape,
                             self.pads, self.x_shape)


class AvgPool2D(_Pool2D):
    """(N, H, W, C) -> (N, H', W', C): the mean of each window (padding is not counted)."""

    def forward(self, x, training=False):
        xp, windows, self.pads = self._windows(x)
        self.x_shape, self.padded_shape = x.shape, xp.shape
        # how many real (unpadded) values each window holds
        _, ones, _ = self._windows(np.ones((1, *x.shape[1:3], 1), dtype=x.dtype))
        self.counts = ones.sum(axis=(-2, -1))            # (1, Ho, Wo, 1)
        return windows.sum(axis=(-2, -1)) / self.counts

    def backward(self, dy):
        share = (dy / self.counts).transpose(3, 0, 1, 2)  # (C, N, Ho, Wo)
        dtaps = np.broadcast_to(share, (*self.window, *share.shape))
        return self._scatter(dtaps, self.padded_shape, self.pads, self.x_shape)


class GlobalAveragePooling2D(Layer):
    """(N, H, W, C) -> (N, C): the mean over all positions."""

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ShapeError(f"GlobalAveragePooling2D expects (N, H, W, C), got (N, {input_shape})")
        return (input_shape[2],)

    def forward(self, x, training=False):
        self.x_shape = x.shape
        return x.mean(axis=(1, 2))

    def backward(self, dy):
        _n, height, width, _channels = self.x_shape
        return np.broadcast_to(dy[:, None, None, :] / (height * width), self.x_shape).copy()


MaxPooling2D = MaxPool2D
AveragePooling2D = AvgPool2D
GlobalAvgPool2D = GlobalAveragePooling2D
