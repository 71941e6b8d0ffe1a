// Runs one depthwise convolution through the WebAssembly kernel in Node; test_depthwise_kernel.py
// checks it against nnpy's NumPy layer.
//
//   node run_depthwise_case.js KERNEL.wasm < request.json > reply.json
//
// request: {x, k, bias: base64 float32, height, width, channels, kh, kw, sh, sw, top, left, outH, outW}
// reply:   {out: base64 float32 (outH, outW, channels)}
"use strict";
const fs = require("fs");
const path = require("path");

require("v8").setFlagsFromString("--experimental-wasm-relaxed-simd");
const { loadGemmKernel } = require(path.join(__dirname, "..", "..", "web", "kernels", "gemm.js"));

const floats = (base64) => new Float32Array(new Uint8Array(Buffer.from(base64, "base64")).buffer);

(async () => {
  const spec = JSON.parse(fs.readFileSync(0, "utf8"));
  const kernel = await loadGemmKernel(fs.readFileSync(process.argv[2]));
  const place = (array) => {
    const pointer = kernel.alloc(4 * array.length);
    new Float32Array(kernel.memory.buffer, pointer, array.length).set(array);
    return pointer;
  };
  const [x, k, bias] = [spec.x, spec.k, spec.bias].map((b) => place(floats(b)));
  const size = spec.outH * spec.outW * spec.channels;
  const out = kernel.alloc(4 * size);
  kernel.depthwise(x, spec.height, spec.width, spec.channels, k, spec.kh, spec.kw, spec.sh, spec.sw,
    spec.top, spec.left, bias, out, spec.outH, spec.outW);
  const result = new Float32Array(kernel.memory.buffer, out, size);
  process.stdout.write(JSON.stringify({ out: Buffer.from(result.buffer, result.byteOffset, result.byteLength).toString("base64") }));
})();
