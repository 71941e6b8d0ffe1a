"""The WebAssembly convolution kernels (web/kernels/gemm.c `conv2d` and `depthwise`), run in
Node, give nnpy's NumPy layers: TensorFlow "same" and "valid" padding, strides 1 to 3, windows
wider than tall and wider than the image, 1, 3 and more channels (a window row's taps are one
copy in `conv2d`'s patches, partly outside the image at the edges), batches of one and two."""

import base64
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from nnpy import layers

HERE = Path(__file__).resolve().parent


def encode(array):
    return base64.b64encode(np.ascontiguousarray(array, "<f4").tobytes()).decode()


def call_kernel(node, wasm, function, inputs, outputs, args):
    """Run kernel `function(*args)` in Node; returns {output name: float32 array}."""
    request = {"function": function, "inputs": {k: encode(v) for k, v in inputs.items()},
               "outputs": outputs, "args": args}
    reply = subprocess.run([node, str(HERE / "run_kernel_call.js"), str(wasm)],
                           input=json.dumps(request), capture_output=True, text=True, check=True)
    return {name: np.frombuffer(base64.b64decode(text), "<f4")
            for name, text in json.loads(reply.stdout).items()}


@pytest.mark.parametrize("batch, height, width, channels, filters, window, stride, padding", [
    (1, 28, 28, 1, 16, (5, 5), 1, "same"),     # a digit network's first layer
    (1, 64, 64, 3, 8, (3, 3), 2, "valid"),     # a webcam network's first layer
    (2, 9, 11, 3, 5, (3, 3), 2, "same"),
    (1, 14, 14, 16, 32, (5, 5), 1, "same"),
    (1, 7, 10, 5, 6, (2, 3), 3, "same"),
    (1, 3, 4, 2, 9, (5, 5), 1, "same"),        # the window is wider than the image
    (2, 6, 6, 4, 3, (1, 1), 1, "valid"),       # pointwise: no patches
    (1, 8, 5, 6, 7, (3, 2), 1, "valid"),
])
def test_conv2d_kernel_matches_numpy(node, kernel_files, batch, height, width, channels,
                                     filters, window, stride, padding):
    rng = np.random.default_rng(height * width + channels)
    layer = layers.Conv2D(filters, window, strides=stride, padding=padding)
    layer.build((height, width, channels), rng)
    layer.params["bias"] = rng.standard_normal(filters).astype(np.float32)
    x = rng.standard_normal((batch, height, width, channels)).astype(np.float32)
    expected = layer.forward(x)                            # NumPy: no kernel installed here
    out_h, out_w, pad_h, pad_w = layer._geometry(height, width)
    (kh, kw), (sh, sw) = layer.window, layer.strides
    for wasm in kernel_files:  # the SIMD128 build and the fused multiply-add one
        got = call_kernel(
            node, wasm, "conv2d", {"x": x, "kernel": layer.params["kernel"], "bias": layer.params["bias"]},
            {"out": expected.size, "cols": out_h * out_w * kh * kw * channels},
            ["x", batch, height, width, channels, "kernel", kh, kw, filters, sh, sw, pad_h[0],
             pad_w[0], out_h, out_w, "bias", "out", "cols"])
        np.testing.assert_allclose(got["out"].reshape(expected.shape), expected, rtol=1e-5,
                                   atol=1e-5, err_msg=wasm.name)


@pytest.mark.parametrize("size, channels, kernel_size, stride", [
    (9, 8, 3, 1), (10, 6, 3, 2), (12, 13, 5, 2), (7, 4, 5, 1),
])
def test_depthwise_kernel_matches_numpy(node, kernel_files, size, channels, kernel_size, stride):
    rng = np.random.default_rng(size + channels)
    layer = layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same")
    layer.build((size, size, channels), rng)
    layer.params["bias"] = rng.standard_normal(channels).astype(np.float32)
    x = rng.standard_normal((1, size, size, channels)).astype(np.float32)
    expected = layer.forward(x)[0]                         # NumPy: no kernel installed here
    (top, _), (left, _) = layer.pads
    out_h, out_w = expected.shape[:2]
    for wasm in kernel_files:
        got = call_kernel(
            node, wasm, "depthwise",
            {"x": x[0], "k": layer.params["kernel"][..., 0], "bias": layer.params["bias"]},
            {"out": expected.size},
            ["x", size, size, channels, "k", kernel_size, kernel_size, stride, stride, top, left,
             "bias", "out", out_h, out_w])
        np.testing.assert_allclose(got["out"].reshape(expected.shape), expected, rtol=1e-5,
                                   atol=1e-5, err_msg=wasm.name)
