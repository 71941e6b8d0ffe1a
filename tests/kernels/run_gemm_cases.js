// Runs GEMM cases through the WebAssembly kernel in Node; test_gemm_kernel.py checks them.
//
//   node run_gemm_cases.js KERNEL.wasm [RELAXED.wasm] < request.json > reply.json
//
// request: {cases: [{api: "gemm" | "sgemm", M, N, K, transA, transB, accumulate,
//                    alpha, beta, lda, ldb, ldc, a, b, c, bias}]}   (a/b/c/bias: base64 float32)
// reply:   {simd, relaxed, cases: [{c: base64 float32 of C after the call}], probes: {...}}
"use strict";
const fs = require("fs");
const path = require("path");

// Node 20's V8 keeps relaxed SIMD behind a flag that Chromium has on by default.
require("v8").setFlagsFromString("--experimental-wasm-relaxed-simd");
const { loadGemmKernel, simdSupported } = require(
  path.join(__dirname, "..", "..", "web", "kernels", "gemm.js"),
);

const floats = (base64) => new Float32Array(new Uint8Array(Buffer.from(base64, "base64")).buffer);
const base64 = (array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");

// Copy an array into kernel memory; returns its address (0 for a missing optional operand).
function place(kernel, array) {
  if (!array) return 0;
  const pointer = kernel.alloc(4 * Math.max(array.length, 1));
  new Float32Array(kernel.memory.buffer, pointer, array.length).set(array);
  return pointer;
}

function runCase(kernel, spec) {
  kernel.reset();
  const c = floats(spec.c);
  const [a, b, cPointer, bias] = [floats(spec.a), floats(spec.b), c, spec.bias && floats(spec.bias)]
    .map((array) => place(kernel, array));
  if (spec.api === "gemm") {
    kernel.gemm(spec.M, spec.N, spec.K, a, b, cPointer, spec.transA, spec.transB, spec.accumulate);
  } else {
    kernel.sgemm(spec.transA, spec.transB, spec.M, spec.N, spec.K, spec.alpha, a, spec.lda,
      b, spec.ldb, spec.beta, cPointer, spec.ldc, bias);
  }
  return { c: base64(new Float32Array(kernel.memory.buffer, cPointer, c.length)) };
}

// Allocator facts: alignment, growth past the initial memory, reset reusing the space.
function probeAllocator(kernel) {
  kernel.reset();
  const first = kernel.alloc(3);
  const second = kernel.alloc(5);
  const pagesBefore = kernel.memory.buffer.byteLength / 65536;
  const big = kernel.alloc(64 << 20);
  const pagesAfter = kernel.memory.buffer.byteLength / 65536;
  new Float32Array(kernel.memory.buffer, big, 16 << 20).fill(1); // the grown memory is writable
  kernel.reset();
  const again = kernel.alloc(3);
  return { first, second, big, again, pagesBefore, pagesAfter };
}

async function main() {
  const [wasmPath, relaxedPath] = process.argv.slice(2);
  const request = JSON.parse(fs.readFileSync(0, "utf8"));
  const options = relaxedPath ? { relaxed: fs.readFileSync(relaxedPath) } : {};
  const kernel = await loadGemmKernel(fs.readFileSync(wasmPath), options);
  const reply = {
    simd: kernel.simd,
    relaxed: kernel.relaxed,
    cases: request.cases.map((spec) => runCase(kernel, spec)),
    allocator: probeAllocator(kernel),
  };
  // Without WebAssembly SIMD the loader must answer null (the page then keeps NumPy).
  const validate = WebAssembly.validate;
  WebAssembly.validate = () => false;
  reply.withoutSimd = { simdSupported: simdSupported(), kernel: await loadGemmKernel(fs.readFileSync(wasmPath)) };
  WebAssembly.validate = validate;
  process.stdout.write(JSON.stringify(reply));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
