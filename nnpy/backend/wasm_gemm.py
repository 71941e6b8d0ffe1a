"""Route nnpy's GEMMs to the page's WebAssembly SIMD kernel. Only `web/worker.js` imports this.

The worker loads the kernel (web/kernels/gemm.js) and hands the JS object to `install`:

    import nnpy.backend.wasm_gemm
    nnpy.backend.wasm_gemm.install(kernel)  # every nnpy.backend.matmul now goes through `WasmGemm`

`WasmGemm(a, b)` copies both operands into the kernel's memory through Float32Array views
(`JsProxy.assign`: one memcpy, no per-element conversion), runs the kernel and copies C back with
`assign_to`. A transposed view (`x.T` of a C-contiguous `x`, as in `x.T @ dz` and `dz @ W.T`) is
copied as it is stored and flagged, never transposed in NumPy. Small problems, where the copies
and the calls into JS cost more than the arithmetic, and every dtype but float32 (float64 in the
gradient checks) stay with NumPy's einsum.

Nothing here imports `js` at module level, so the routing is tested in CPython with a fake kernel.
"""

import numpy as np

from . import dispatch

# M * N * K below this goes to einsum. A kernel call costs about 6 us however small (copies and
# calls into JS); in Chromium's Pyodide einsum and the kernel cross near 20^3 (7 us each), and the
# kernel is 2.3x faster at 32^3 and 9x at 128^3. (Node's Pyodide: the same crossing, 9 us calls.)
SMALL_PROBLEM = 8192
ALIGN = 64                                    # bytes; every operand starts on a cache line


def _numpy_gemm(a, b):
    return np.einsum("ij,jk->ik", a, b)


def _as_stored(x):
    """(array to copy as it is stored, transposed?) for a 2-D operand."""
    if x.flags.c_contiguous:
        return x, False
    if x.T.flags.c_contiguous:                # a transposed view: the kernel reads it as stored
        return x.T, True
    return np.ascontiguousarray(x), False


def _aligned(nbytes):
    return (nbytes + ALIGN - 1) // ALIGN * ALIGN


class WasmGemm:
    """`matmul(a, b)` through the wasm kernel; a callable for `nnpy.backend.set_gemm`.

    kernel: the object from loadGemmKernel (gemm, alloc, reset, memory); once installed, this
    object owns the kernel's memory. float32_array: the JS `Float32Array` constructor (taken from
    `js` when not given; tests pass a fake).
    """

    def __init__(self, kernel, float32_array=None, small_problem=SMALL_PROBLEM):
        if float32_array is None:
            from js import Float32Array as float32_array  # only exists inside Pyodide
        self.kernel = kernel
        # Every attribute lookup on a JS object costs microseconds: look them up once.
        self.kernel_gemm, self.alloc, self.reset = kernel.gemm, kernel.alloc, kernel.reset
        self.kernel_depthwise = getattr(kernel, "depthwise", None)
        self.memory, self.new_view = kernel.memory, float32_array.new
        self.small_problem = small_problem
        self.base = self.capacity = 0            # one workspace in kernel memory for A, B and C
        self.buffer = None
        self.views = {}                          # (byte offset, length) -> Float32Array view
        self.calls = {"kernel": 0, "numpy": 0}   # where the GEMMs went (for tests and profiles)

    def __call__(self, a, b):
        (m, k), n = a.shape, b.shape[1]          # (M, K) @ (K, N)
        if a.dtype != np.float32 or b.dtype != np.float32 or m * n * k < self.small_problem:
            self.calls["numpy"] += 1
            return _numpy_gemm(a, b)
        b_offset = _aligned(a.nbytes)
        c_offset = b_offset + _aligned(b.nbytes)
        try:
            self._reserve(c_offset + 4 * m * n)
        except Exception:  # noqa: BLE001 -- a JsException (RangeError: memory cannot grow)
            # NumPy may still manage in Pyodide's own memory
            self.calls["numpy"] += 1
            return _numpy_gemm(a, b)
        self.calls["kernel"] += 1
        a_stored, trans_a = _as_stored(a)
        b_stored, trans_b = _as_stored(b)
        c = np.empty((m, n), dtype=np.float32)
        self._view(0, a.size).assign(a_stored)
        self._view(b_offset, b.size).assign(b_stored)
        self.kernel_gemm(m, n, k, self.base, self.base + b_offset, self.base + c_offset,
                         trans_a, trans_b, False)
        self._view(c_offset, m * n).assign_to(c)
        return c

    def depthwise(self, x, kernel, bias, strides, pads, out_shape):
        """Depthwise convolution through the kernel's `depthwise` (see dispatch.depthwise), one
        image per call, in the same workspace as the GEMMs."""
        n, height, width, channels = x.shape
        out_h, out_w = out_shape
        (top, _), (left, _) = pads
        x = np.ascontiguousarray(x, dtype=np.float32)
        sizes = [x[0].size, kernel.size, channels, out_h * out_w * channels]
        offsets = [0]
        for size in sizes[:-1]:
            offsets.append(offsets[-1] + _aligned(4 * size))
        try:
            self._reserve(offsets[-1] + 4 * sizes[-1])
        except Exception:  # noqa: BLE001 -- memory cannot grow: NumPy does it
            return None
        x_at, k_at, b_at, out_at = offsets
        self._view(k_at, kernel.size).assign(np.ascontiguousarray(kernel, dtype=np.float32))
        has_bias = bias is not None
        if has_bias:
            self._view(b_at, channels).assign(np.ascontiguousarray(bias, dtype=np.float32))
        out = np.empty((n, out_h, out_w, channels), dtype=np.float32)
        for image in range(n):
            self._view(x_at, x[image].size).assign(x[image])
            self.kernel_depthwise(self.base + x_at, height, width, channels, self.base + k_at,
                                  kernel.shape[0], kernel.shape[1], *strides, top, left,
                                  self.base + b_at if has_bias else 0, self.base + out_at,
                                  out_h, out_w)
            self._view(out_at, out[image].size).assign_to(out[image])
        self.calls["depthwise"] = self.calls.get("depthwise", 0) + 1
        return out

    def _reserve(self, nbytes):
        """Make the workspace at least `nbytes`. alloc may grow the wasm memory, which detaches
        the old ArrayBuffer and every view on it, so both are fetched again after it."""
        if nbytes <= self.capacity:
            return
        self.reset()
        self.base, self.capacity = self.alloc(nbytes), nbytes
        self.buffer = self.memory.buffer
        self.views.clear()

    def _view(self, offset, length):
        """A Float32Array of `length` floats at workspace byte `offset`; training repeats the same
        few shapes every batch, so views are kept."""
        view = self.views.get((offset, length))
        if view is None:
            if len(self.views) >= 64:
                self.views.clear()
            view = self.new_view(self.buffer, self.base + offset, length)
            self.views[offset, length] = view
        return view


def install(kernel, float32_array=None, small_problem=SMALL_PROBLEM):
    """Send nnpy's GEMMs to `kernel` (None: back to NumPy). Returns the installed WasmGemm."""
    if kernel is None:
        dispatch.set_gemm(None)
        dispatch.set_depthwise(None)
        dispatch.set_inference(None)
        return None
    gemm = WasmGemm(kernel, float32_array, small_problem)
    dispatch.set_gemm(gemm)
    has_depthwise = getattr(kernel, "depthwise", None) is not None  # older kernel builds lack it
    dispatch.set_depthwise(gemm.depthwise if has_depthwise else None)
    if getattr(kernel, "conv2d", None) is not None:    # builds with the inference layers
        from .wasm_inference import WasmInference
        dispatch.set_inference(WasmInference(gemm))
    else:
        dispatch.set_inference(None)
    return gemm
