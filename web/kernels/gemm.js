// Loader for the WebAssembly SIMD GEMM kernel (web/kernels/gemm.c).
//
// Works as a classic script (a Worker's importScripts defines self.loadGemmKernel) and in Node
// (require() returns {loadGemmKernel, simdSupported, relaxedSimdSupported}).
//
//   const kernel = await loadGemmKernel(urlOrBytes);   // null when WebAssembly SIMD is missing
//   const kernel = await loadGemmKernel("gemm.wasm", { relaxed: "gemm-relaxed.wasm" });
//                  // the fused multiply-add build where the engine has relaxed SIMD (~20% faster)
//   const a = kernel.alloc(4 * M * K), b = kernel.alloc(4 * K * N), c = kernel.alloc(4 * M * N);
//   new Float32Array(kernel.memory.buffer, a, M * K).set(aValues);   // ... and b
//   kernel.gemm(M, N, K, a, b, c, transA, transB, accumulate);         // C (+)= op(A) @ op(B)
//   const result = new Float32Array(kernel.memory.buffer, c, M * N);
//   kernel.reset();                                                     // frees every alloc
//
// alloc() may grow the memory, which detaches the old kernel.memory.buffer: take views after the
// last alloc of a call.
(function (root) {
  "use strict";

  // (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt))
  const SIMD_PROBE = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253,
    15, 253, 98, 11,
  ]);
  // The same with a relaxed-SIMD instruction (i8x16.relaxed_swizzle).
  const RELAXED_SIMD_PROBE = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253,
    15, 65, 2, 253, 15, 253, 128, 2, 11,
  ]);

  function simdSupported() {
    return typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
  }

  function relaxedSimdSupported() {
    return simdSupported() && WebAssembly.validate(RELAXED_SIMD_PROBE);
  }

  async function wasmBytes(source) {
    if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return source;
    const response = await fetch(source);
    if (!response.ok) throw new Error(`GEMM kernel: ${response.status} fetching ${source}`);
    return response.arrayBuffer();
  }

  // source: a URL (string or URL) or the .wasm bytes of the plain SIMD128 build; options.relaxed:
  // the same for the relaxed-SIMD build, used when the engine validates relaxed SIMD.
  // Returns null when WebAssembly SIMD is missing, so the caller keeps NumPy (and says so once).
  async function loadGemmKernel(source, options = {}) {
    if (!simdSupported()) return null;
    const chosen = options.relaxed && relaxedSimdSupported() ? options.relaxed : source;
    const { instance } = await WebAssembly.instantiate(await wasmBytes(chosen), {});
    const exports = instance.exports;
    return {
      simd: true,
      relaxed: exports.relaxed() === 1, // built with fused multiply-add (relaxed SIMD)
      memory: exports.memory,
      // C (+)= op(A) @ op(B); A is (M, K) or, with transA, (K, M); B is (K, N) or (N, K).
      gemm(M, N, K, aPtr, bPtr, cPtr, transA = false, transB = false, accumulate = false) {
        exports.gemm(M, N, K, aPtr, bPtr, cPtr, transA ? 1 : 0, transB ? 1 : 0, accumulate ? 1 : 0);
      },
      // BLAS-style: C = alpha op(A) @ op(B) + beta C + bias (bias: pointer to N floats, or 0).
      sgemm: exports.sgemm,
      alloc(bytes) {
        const pointer = exports.alloc(bytes) >>> 0; // addresses above 2 GB arrive negative
        if (pointer === 0) throw new RangeError(`GEMM kernel: cannot allocate ${bytes} bytes`);
        return pointer;
      },
      reset: exports.reset,
      // Depthwise convolution of one NHWC image (depth multiplier 1; see gemm.c), or undefined
      // in a build without it.
      depthwise: exports.depthwise,
      // Inference layers on NHWC buffers in this memory (see gemm.c), for
      // nnpy.backend.wasm_inference; undefined in a build without them.
      conv2d: exports.conv2d,
      dense: exports.dense,
      pool2d: exports.pool2d,
      activate: exports.activate,
      batch_norm: exports.batch_norm,
      global_average: exports.global_average,
    };
  }

  const api = { loadGemmKernel, simdSupported, relaxedSimdSupported };
  if (typeof module === "object" && module.exports) module.exports = api;
  else Object.assign(root, api);
})(typeof self !== "undefined" ? self : globalThis);
