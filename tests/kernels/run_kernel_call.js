// Runs one call of a WebAssembly kernel function in Node, on float32 buffers placed in its memory;
// test_conv_kernels.py checks the layers' kernels against nnpy's NumPy layers with it.
//
//   node run_kernel_call.js KERNEL.wasm < request.json > reply.json
//
// request: {function: "conv2d", inputs: {name: base64 float32}, outputs: {name: float count},
//           args: [number, or the name of an input or output (its address)]}
// reply:   {name of each output: base64 float32}
"use strict";
const fs = require("fs");
const path = require("path");

require("v8").setFlagsFromString("--experimental-wasm-relaxed-simd");
const { loadGemmKernel } = require(path.join(__dirname, "..", "..", "web", "kernels", "gemm.js"));

const floats = (base64) => new Float32Array(new Uint8Array(Buffer.from(base64, "base64")).buffer);

(async () => {
  const spec = JSON.parse(fs.readFileSync(0, "utf8"));
  const kernel = await loadGemmKernel(fs.readFileSync(process.argv[2]));
  const at = {};
  for (const [name, count] of Object.entries(spec.outputs)) at[name] = kernel.alloc(4 * count);
  for (const [name, base64] of Object.entries(spec.inputs)) {
    const values = floats(base64);
    at[name] = kernel.alloc(4 * values.length);
    new Float32Array(kernel.memory.buffer, at[name], values.length).set(values);
  }
  // outputs start as NaN: a value the kernel forgets to write shows
  for (const [name, count] of Object.entries(spec.outputs)) {
    new Float32Array(kernel.memory.buffer, at[name], count).fill(NaN);
  }
  kernel[spec.function](...spec.args.map((arg) => (typeof arg === "string" ? at[arg] : arg)));
  const reply = {};
  for (const [name, count] of Object.entries(spec.outputs)) {
    reply[name] = Buffer.from(kernel.memory.buffer, at[name], 4 * count).toString("base64");
  }
  process.stdout.write(JSON.stringify(reply));
})();
