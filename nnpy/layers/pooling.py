"""Pooling over NHWC images: the largest or the mean value of each window, and the mean over
all positions."""

import numpy as np

from .. import validation
from ..errors import ShapeError
from .base import Layer
from .conv import _check_padding, _Windowed


class _Pool2D(_Windowed):
    def __init__(self, pool_size=2, strides=None, padding="valid", name=None):
        super().__init__(name)
        where = type(self).__name__
        self.window = validation.pair(pool_size, "pool_size", where)
        self.strides = validation.pair(strides, "strides", where) if strides is not None else self.window
        self.padding = _check_padding(padding, where)

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

    def _taps(self, x):
        """For tiling windows: kh*kw strided views (N, Ho, Wo, C), tap (i, j) of every window,
        in the window's row-major order."""
        (kh, kw), (_, height, width, _) = self.window, x.shape
        rows, columns = height // kh * kh, width // kw * kw
        return [x[:, i:rows:kh, j:columns:kw] for i in range(kh) for j in range(kw)]

    def forward(self, x, training=False):
        self.x_shape = x.shape
        if self._tiles():
            # tap by tap over whole feature maps: NumPy's inner loops stay long, where a max
            # over a last axis of kh*kw values runs ~3x slower in Pyodide
            taps = self._taps(x)
            y = taps[0].copy()                                   # (N, Ho, Wo, C)
            if training:
                self.argmax = np.zeros(y.shape, dtype=np.uint8 if len(taps) < 256 else np.intp)
            for index, tap in enumerate(taps[1:], 1):
                if training:  # strictly greater: on ties the first tap wins, as with argmax
                    np.putmask(self.argmax, tap > y, index)
                np.maximum(y, tap, out=y)
            return y
        xp, windows, self.pads = self._windows(x, fill=-np.inf)
        self.padded_shape = xp.shape
        flat = windows.reshape(*windows.shape[:4], -1)      # (N, Ho, Wo, C, kh*kw)
        if not training:  # inference needs no record of the winners
            return flat.max(axis=-1)
        self.argmax = flat.argmax(axis=-1)                  # (N, Ho, Wo, C)
        return np.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0]

    def backward(self, dy):
        (kh, kw), (n, out_h, out_w, channels) = self.window, dy.shape
        if self._tiles():
            dx = np.zeros(self.x_shape, dtype=dy.dtype)
            for index, dtap in enumerate(self._taps(dx)):   # views into dx
                np.multiply(dy, self.argmax == index, out=dtap)
            return dx
        # one-hot of the winning tap, times dy: (N, Ho, Wo, C, kh, kw)
        winner = self.argmax[..., None] == np.arange(kh * kw)
        dwindows = (dy[..., None] * winner).reshape(n, out_h, out_w, channels, kh, kw)
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
