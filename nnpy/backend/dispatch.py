"""One dispatch point for the heavy arithmetic: GEMM.

In CPython, `a @ b` reaches a BLAS and is fast. Pyodide's NumPy is built without BLAS, and there
`np.einsum` is about three times faster than `@` (see DESIGN.md). A page may also install a faster
kernel (a WebAssembly SIMD GEMM) with `set_gemm`; every layer calls `matmul`, so nothing else changes.
"""

import sys

import numpy as np

IN_BROWSER = sys.platform == "emscripten"


def _matmul_blas(a, b):
    return a @ b


def _matmul_einsum(a, b):
    return np.einsum("ij,jk->ik", a, b)


_gemm = _matmul_einsum if IN_BROWSER else _matmul_blas


def matmul(a, b):
    """(M, K) @ (K, N) -> (M, N), through the fastest GEMM this platform has."""
    return _gemm(a, b)


_depthwise = None  # a page's depthwise-convolution kernel, or None: NumPy (layers/conv.py)


def depthwise(x, kernel, bias, strides, pads, out_shape):
    """Depthwise convolution (depth multiplier 1) through the installed kernel: x (N, H, W, C),
    kernel (kh, kw, C), bias (C,) or None, pads ((top, bottom), (left, right)) of zeros ->
    (N, Ho, Wo, C); None when no kernel is installed (the layer computes it with NumPy)."""
    if _depthwise is None or x.dtype != np.float32:
        return None
    return _depthwise(x, kernel, bias, strides, pads, out_shape)


def set_depthwise(function):
    """Install a depthwise kernel `function(x, kernel, bias, strides, pads, out_shape)`; None
    goes back to NumPy."""
    global _depthwise
    _depthwise = function


def set_gemm(function):
    """Install a GEMM `function(a, b) -> a @ b`; `None` restores the platform default."""
    global _gemm
    _gemm = function or (_matmul_einsum if IN_BROWSER else _matmul_blas)


_inference = None  # a page's whole-model inference runner (wasm_inference.WasmInference), or None


def infer(model, x):
    """model.forward(x) for a prediction through the installed inference runner, or None when
    there is none or it cannot run this model (the caller runs the layers' own forward)."""
    if _inference is None:
        return None
    return _inference(model, x)


def set_inference(runner):
    """Install a runner `runner(model, x) -> outputs or None`; None removes it."""
    global _inference
    _inference = runner
