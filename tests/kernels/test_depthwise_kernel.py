"""The WebAssembly depthwise-convolution kernel (web/kernels/gemm.c `depthwise`), run in Node,
gives nnpy's NumPy DepthwiseConv2D: TensorFlow "same" padding, strides 1 and 2, channel counts
that are and are not a multiple of four."""

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
    request = {"x": encode(x[0]), "k": encode(layer.params["kernel"][..., 0]),
               "bias": encode(layer.params["bias"]), "height": size, "width": size,
               "channels": channels, "kh": kernel_size, "kw": kernel_size, "sh": stride,
               "sw": stride, "top": top, "left": left, "outH": out_h, "outW": out_w}
    for wasm in kernel_files:  # the SIMD128 build and the fused multiply-add one
        reply = subprocess.run([node, str(HERE / "run_depthwise_case.js"), str(wasm)],
                               input=json.dumps(request), capture_output=True, text=True,
                               check=True)
        out = np.frombuffer(base64.b64decode(json.loads(reply.stdout)["out"]), "<f4")
        np.testing.assert_allclose(out.reshape(expected.shape), expected, rtol=1e-5, atol=1e-5)
