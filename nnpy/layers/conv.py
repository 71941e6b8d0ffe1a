"""Convolution over NHWC images: Conv2D by im2col and GEMM, DepthwiseConv2D tap by tap. No Python
loop over pixels or examples, only over the kernel's taps (kh * kw small slices). `_Windowed` is
the sliding-window geometry that pooling (pooling.py) shares."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import initializers, validation
from ..backend import depthwise, matmul
from ..errors import ShapeError
from . import activations
from .base import Layer


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


def _pad(x, pad_h, pad_w, fill=0.0):
    """x (N, H, W, C) with (before, after) rows and columns of `fill` around H and W. The same as
    np.pad, which costs ~10x more (in Pyodide 0.4 ms for a batch of MNIST digits)."""
    n, height, width, channels = x.shape
    out = np.full((n, height + sum(pad_h), width + sum(pad_w), channels), fill, dtype=x.dtype)
    out[:, pad_h[0]:pad_h[0] + height, pad_w[0]:pad_w[0] + width] = x
    return out


def _check_padding(padding, where):
    return validation.one_of(padding, "padding", ("same", "valid"), where)


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
        (height, width, channels), (kh, kw) = input_shape, self.window
        out_h, out_w, pad_h, pad_w = self._geometry(height, width)
        # what forward allocates per example: the padded image and (at most) every window
        validation.values_per_example((height + sum(pad_h), width + sum(pad_w), channels),
                                      "the padded input")
        validation.values_per_example((out_h, out_w, channels, kh, kw), "its windows")
        return (out_h, out_w, self._channels_out(channels))

    def _windows(self, x, fill=0.0):
        """x (N, H, W, C) -> padded x and its windows (N, Ho, Wo, C, kh, kw), a strided view."""
        _, height, width, _ = x.shape
        out_h, out_w, pad_h, pad_w = self._geometry(height, width)
        if any(pad_h + pad_w):
            x = _pad(x, pad_h, pad_w, fill)
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
        self.filters = validation.integer(filters, "filters", "Conv2D", example=8)
        self.window = validation.pair(kernel_size, "kernel_size", "Conv2D")
        self.strides = validation.pair(strides, "strides", "Conv2D")
        self.padding = _check_padding(padding, "Conv2D")
        self.activation_name = activation
        self.activation = activations.get(activation)
        self.use_bias = validation.boolean(use_bias, "use_bias", "Conv2D")
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
        shapes = {"kernel": (*self.window, input_shape[2], self.filters)}  # (kh, kw, C, F)
        return shapes | ({"bias": (self.filters,)} if self.use_bias else {})

    def forward(self, x, training=False):
        n = x.shape[0]
        if self.window == (1, 1) and self.strides == (1, 1):
            # a pointwise convolution (MobileNet's and EfficientNet's 1x1 layers) is a GEMM on the
            # pixels as they are: (N*H*W, C) @ (C, F), no window copy
            self.x_shape = self.padded_shape = x.shape
            self.pads = ((0, 0), (0, 0))
            _, out_h, out_w, channels = x.shape
            self.cols = x.reshape(-1, channels)
            kernel = self.params["kernel"].reshape(-1, self.filters)
            z = matmul(self.cols, kernel).reshape(n * out_h, out_w * self.filters)
            if self.use_bias:
                z += np.tile(self.params["bias"], out_w)
            return self.activation.forward(z.reshape(n, out_h, out_w, self.filters), training)
        xp, windows, self.pads = self._windows(x)
        self.x_shape, self.padded_shape = x.shape, xp.shape
        _, out_h, out_w, channels = windows.shape[:4]
        # im2col: rows of (kh, kw, C) patches, ordered like the kernel: (N*Ho*Wo, kh*kw*C).
        # NumPy copies runs of kw*C values of a patch row at a time; where the image rows are
        # longer (few channels, e.g. the first layer) copying tap by tap is ~3x faster.
        if out_w > self.window[1] * channels:
            self.cols = self._im2col_by_taps(xp, out_h, out_w).T   # a transposed view
        else:
            self.cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * out_h * out_w, -1)
        kernel = self.params["kernel"].reshape(-1, self.filters)   # (kh*kw*C, F)
        z = matmul(self.cols, kernel).reshape(n * out_h, out_w * self.filters)  # (N*Ho, Wo*F)
        if self.use_bias:  # the additions of z + bias, in inner loops Wo times longer (~3x faster)
            z += np.tile(self.params["bias"], out_w)
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
        if self.strides != (1, 1):
            dtaps = matmul(kernel.reshape(-1, self.filters), dz2.T)    # (kh*kw*C, N*Ho*Wo)
            dtaps = dtaps.reshape(*kernel.shape[:3], n, out_h, out_w)  # (kh, kw, C, N, Ho, Wo)
            return self._scatter(dtaps, self.padded_shape, self.pads, self.x_shape)
        # Stride 1: give dz the padded input's width Wp (zero columns), so each tap's gradient
        # lands on one contiguous run of Ho*Wp values of the flattened padded rows; the zero
        # columns add zeros. ~2x faster than _scatter's short rows, for a GEMM ~20% larger.
        width = self.padded_shape[2]
        dz_wide = np.zeros((n, out_h, width, self.filters), dtype=dz.dtype)    # (N, Ho, Wp, F)
        dz_wide[:, :, :out_w] = dz
        dtaps = matmul(kernel.reshape(-1, self.filters), dz_wide.reshape(-1, self.filters).T)
        return self._scatter_rows(dtaps.reshape(*kernel.shape[:3], n, out_h * width))

    def _im2col_by_taps(self, xp, out_h, out_w):
        """The im2col matrix transposed, (kh*kw*C, N*Ho*Wo), built with one copy per tap of
        whole image rows (channels first)."""
        (kh, kw), (sh, sw), (n, _, _, channels) = self.window, self.strides, xp.shape
        planes = xp.transpose(3, 0, 1, 2)                            # (C, N, Hp, Wp)
        if channels > 1:
            planes = np.ascontiguousarray(planes)
        cols = np.empty((kh, kw, channels, n, out_h, out_w), dtype=xp.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[i, j] = planes[:, :, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw]
        return cols.reshape(kh * kw * channels, n * out_h * out_w)

    def _scatter_rows(self, dtaps):
        """Adjoint of the stride-1 windows, from dtaps (kh, kw, C, N, Ho*Wp) whose columns past
        Wo are zero: tap (i, j) adds to the flattened padded image from i*Wp + j on."""
        (kh, kw), (n, height, width, channels) = self.window, self.padded_shape
        run = dtaps.shape[-1]                                        # Ho * Wp
        flat = np.zeros((channels, n, height * width + kw - 1), dtype=dtaps.dtype)
        for i in range(kh):
            for j in range(kw):
                flat[:, :, i * width + j:i * width + j + run] += dtaps[i, j]
        dx = flat[:, :, :height * width].reshape(channels, n, height, width)  # (C, N, Hp, Wp)
        (top, _), (left, _) = self.pads
        _, x_height, x_width, _ = self.x_shape
        return dx[:, :, top:top + x_height, left:left + x_width].transpose(1, 2, 3, 0)

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


class DepthwiseConv2D(_Windowed):
    """(N, H, W, C) -> (N, H', W', C * depth_multiplier): every channel convolved on its own with
    `depth_multiplier` filters (MobileNet's and EfficientNet's cheap spatial convolution).
    kernel (kh, kw, C, depth_multiplier), bias (C * depth_multiplier,); output channel
    c * depth_multiplier + m comes from input channel c, as in Keras."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None):
        super().__init__(name)
        where = "DepthwiseConv2D"
        self.window = validation.pair(kernel_size, "kernel_size", where)
        self.strides = validation.pair(strides, "strides", where)
        self.padding = _check_padding(padding, where)
        self.depth_multiplier = validation.integer(depth_multiplier, "depth_multiplier", where,
                                                   example=1)
        self.activation_name = activation
        self.activation = activations.get(activation)
        self.use_bias = validation.boolean(use_bias, "use_bias", where)
        self.depthwise_initializer = initializers.checked(depthwise_initializer,
                                                          "depthwise_initializer")
        self.bias_initializer = initializers.checked(bias_initializer, "bias_initializer")

    def _channels_out(self, channels_in):
        return channels_in * self.depth_multiplier

    def build(self, input_shape, rng=None):
        shapes = self.weight_shapes(input_shape)
        super().build(input_shape, rng)
        rng = rng or np.random.default_rng(0)
        self.params["kernel"] = initializers.get(self.depthwise_initializer)(shapes["kernel"], rng)
        if self.use_bias:
            self.params["bias"] = initializers.get(self.bias_initializer)(shapes["bias"], rng)

    def weight_shapes(self, input_shape):
        channels = self.compute_output_shape(input_shape)[2]
        shapes = {"kernel": (*self.window, input_shape[2], self.depth_multiplier)}  # (kh, kw, C, M)
        return shapes | ({"bias": (channels,)} if self.use_bias else {})

    def forward(self, x, training=False):
        kernel = self.params["kernel"]                      # (kh, kw, C, M)
        if self.depth_multiplier == 1 and not training:  # a page's wasm kernel, where installed
            out_h, out_w, pad_h, pad_w = self._geometry(*x.shape[1:3])
            fast = depthwise(x, kernel[..., 0], self.params.get("bias"), self.strides,
                             (pad_h, pad_w), (out_h, out_w))
            if fast is not None:
                return self.activation.forward(fast, training)    # the bias is in already
        xp, self.windows, self.pads = self._windows(x)   # windows (N, Ho, Wo, C, kh, kw)
        self.x_shape, self.padded_shape = x.shape, xp.shape
        n, out_h, out_w, channels = self.windows.shape[:4]
        if self.depth_multiplier == 1:
            z = self._taps_one_filter(xp, kernel[..., 0], out_h, out_w)   # (N, Ho, Wo, C)
        else:
            z = np.zeros((n, out_h, out_w, channels, self.depth_multiplier), dtype=x.dtype)
            for i in range(self.window[0]):
                for j in range(self.window[1]):  # tap (i, j) of every window, all channels at once
                    z += self.windows[..., i, j, None] * kernel[i, j]   # (N, Ho, Wo, C, M)
            z = z.reshape(n, out_h, out_w, -1)                  # (N, Ho, Wo, C*M)
        if self.use_bias:
            z += self.params["bias"]
        return self.activation.forward(z, training)

    def _taps_one_filter(self, xp, kernel, out_h, out_w):
        """The usual depth_multiplier 1: each tap is a strided slice of the padded image, channels
        last and contiguous, times one weight per channel, added in place (no 5-D temporaries):
        ~3x faster, the depthwise layers' share of EfficientNet-Lite's time."""
        (sh, sw) = self.strides
        z = tap_product = None
        for i in range(self.window[0]):
            for j in range(self.window[1]):
                tap = xp[:, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw]
                if z is None:
                    z = tap * kernel[i, j]                          # (N, Ho, Wo, C)
                    tap_product = np.empty_like(z)
                else:
                    z += np.multiply(tap, kernel[i, j], out=tap_product)
        return z

    def backward(self, dy):
        dz = self.activation.backward(dy)                   # (N, Ho, Wo, C*M)
        kernel = self.params["kernel"]                      # (kh, kw, C, M)
        (kh, kw), channels = self.window, kernel.shape[2]
        n, out_h, out_w, _ = dz.shape
        dz5 = dz.reshape(n, out_h, out_w, channels, self.depth_multiplier)
        dkernel = np.empty_like(kernel)
        for i in range(kh):
            for j in range(kw):
                dkernel[i, j] = np.einsum("nhwc,nhwcm->cm", self.windows[..., i, j], dz5)
        self.grads["kernel"] = dkernel
        if self.use_bias:
            self.grads["bias"] = dz.sum(axis=(0, 1, 2))
        if not self.input_grad:
            return None
        dtaps = np.einsum("nhwcm,ijcm->ijcnhw", dz5, kernel)  # (kh, kw, C, N, Ho, Wo)
        return self._scatter(dtaps, self.padded_shape, self.pads, self.x_shape)

    def get_config(self):
        return {
            "kernel_size": list(self.window),
            "strides": list(self.strides),
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "activation": self.activation_name,
            "use_bias": self.use_bias,
            "depthwise_initializer": self.depthwise_initializer,
            "bias_initializer": self.bias_initializer,
            "name": self.name,
        }


class SeparableConv2D(Layer):
    """(N, H, W, C) -> (N, H', W', filters): a DepthwiseConv2D (each channel on its own) and then
    a 1x1 Conv2D that mixes the channels (Xception's factorised convolution: kh*kw*C*M + C*M*F
    weights instead of Conv2D's kh*kw*C*F). depthwise_kernel (kh, kw, C, M), pointwise_kernel
    (1, 1, C*M, filters), bias (filters,); the two stages are the layers above, run in turn."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", name=None):
        super().__init__(name)
        self.depthwise = DepthwiseConv2D(kernel_size, strides, padding, depth_multiplier,
                                         use_bias=False,
                                         depthwise_initializer=depthwise_initializer)
        self.pointwise = Conv2D(filters, 1, activation=activation, use_bias=use_bias,
                                kernel_initializer=pointwise_initializer,
                                bias_initializer=bias_initializer)
        self.keys = {"depthwise_kernel": (self.depthwise, "kernel"),
                     "pointwise_kernel": (self.pointwise, "kernel")}
        if use_bias:
            self.keys["bias"] = (self.pointwise, "bias")

    def compute_output_shape(self, input_shape):
        spatial = self.depthwise.compute_output_shape(input_shape)
        return self.pointwise.compute_output_shape(spatial)

    def weight_shapes(self, input_shape):
        spatial = self.depthwise.compute_output_shape(input_shape)
        shapes = {"depthwise_kernel": self.depthwise.weight_shapes(input_shape)["kernel"],
                  **self.pointwise.weight_shapes(spatial)}    # pointwise (1, 1, C*M, F), bias
        shapes["pointwise_kernel"] = shapes.pop("kernel")
        return shapes

    def build(self, input_shape, rng=None):
        self.weight_shapes(input_shape)
        super().build(input_shape, rng)
        self.depthwise.build(self.input_shape, rng)
        self.pointwise.build(self.depthwise.output_shape, rng)
        self.params = {key: layer.params[name] for key, (layer, name) in self.keys.items()}

    def forward(self, x, training=False):
        for key, (layer, name) in self.keys.items():  # an optimizer or a load may replace arrays
            layer.params[name] = self.params[key]
        self.depthwise.input_grad = self.input_grad
        return self.pointwise.forward(self.depthwise.forward(x, training), training)

    def backward(self, dy):
        dx = self.depthwise.backward(self.pointwise.backward(dy))
        self.grads = {key: layer.grads[name] for key, (layer, name) in self.keys.items()}
        return dx

    def get_config(self):
        depthwise, pointwise = self.depthwise.get_config(), self.pointwise.get_config()
        return {
            "filters": pointwise["filters"],
            "kernel_size": depthwise["kernel_size"],
            "strides": depthwise["strides"],
            "padding": depthwise["padding"],
            "depth_multiplier": depthwise["depth_multiplier"],
            "activation": pointwise["activation"],
            "use_bias": pointwise["use_bias"],
            "depthwise_initializer": depthwise["depthwise_initializer"],
            "pointwise_initializer": pointwise["kernel_initializer"],
            "bias_initializer": pointwise["bias_initializer"],
            "name": self.name,
        }
