// sgemm GFLOP/s in Node, one thread, same process: the nnpy wasm kernel against TF.js's wasm backend.
//
//   python web/kernels/build_kernel.py                 # .cache/kernels/gemm{,-relaxed}.wasm
//   npm install --prefix .cache/kernel-bench @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
//   node web/kernels/bench_node.mjs [--sizes 128,256,512] [--pyodide .cache/pyodide-0.27.7]
//
// Rows: the kernel alone (operands already in its memory), the kernel with A and B copied in and C
// copied out every call (what TF.js's matMul + dataSync also pays), TF.js wasm (SIMD, 1 thread),
// and with --pyodide, nnpy.kernels.matmul from Python through nnpy.wasm_gemm (copies included).
// Contenders take turns (5 rounds of about 0.1 s each) and each keeps its best round.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import { fileURLToPath } from "node:url";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd"); // on by default in Chromium
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, "..", "..");
const require = createRequire(import.meta.url);
const { loadGemmKernel } = require("./gemm.js");

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}
const sizes = option("sizes", "128,256,512").split(",").map(Number);
const kernelDir = option("kernels", path.join(ROOT, ".cache", "kernels"));
const nodeModules = option("node-modules", path.join(ROOT, ".cache", "kernel-bench", "node_modules"));
const pyodideDir = option("pyodide", null);

const randomFloats = (count) => Float32Array.from({ length: count }, () => Math.random() - 0.5);

// Each contender: name -> setup(n) returning run(reps) -> seconds for `reps` n x n x n products.
const timed = (fn) => (reps) => {
  const start = performance.now();
  for (let r = 0; r < reps; r++) fn();
  return (performance.now() - start) / 1000;
};

async function kernelContenders(file, label) {
  const kernel = await loadGemmKernel(fs.readFileSync(path.join(kernelDir, file)));
  const setup = (n, withCopies) => {
    kernel.reset();
    const [a, b, c] = [kernel.alloc(4 * n * n), kernel.alloc(4 * n * n), kernel.alloc(4 * n * n)];
    const [A, B] = [randomFloats(n * n), randomFloats(n * n)];
    const view = (pointer) => new Float32Array(kernel.memory.buffer, pointer, n * n);
    view(a).set(A);
    view(b).set(B);
    if (!withCopies) return timed(() => kernel.gemm(n, n, n, a, b, c));
    return timed(() => {
      view(a).set(A);
      view(b).set(B);
      kernel.gemm(n, n, n, a, b, c);
      return view(c).slice();
    });
  };
  return {
    [`nnpy kernel ${label}`]: (n) => setup(n, false),
    [`nnpy kernel ${label} + copies`]: (n) => setup(n, true),
  };
}

async function tfjsContender() {
  const requireTf = createRequire(path.join(nodeModules, "index.js"));
  const tf = requireTf("@tensorflow/tfjs");
  const wasm = requireTf("@tensorflow/tfjs-backend-wasm");
  wasm.setThreadsCount(1);
  await tf.setBackend("wasm");
  await tf.ready();
  if (!tf.env().getBool("WASM_HAS_SIMD_SUPPORT")) throw new Error("TF.js wasm without SIMD");
  const setup = (n) => {
    const a = tf.tensor2d(randomFloats(n * n), [n, n]);
    const b = tf.tensor2d(randomFloats(n * n), [n, n]);
    return timed(() => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    });
  };
  return { [TFJS]: setup };
}

async function pyodideContenders() {
  const { loadPyodide } = require(path.resolve(pyodideDir, "pyodide.js"));
  const pyodide = await loadPyodide({ indexURL: path.resolve(pyodideDir) + path.sep });
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  pyodide.FS.mkdirTree("/repo");
  pyodide.mountNodeFS("/repo", ROOT);
  const kernel = await loadGemmKernel(fs.readFileSync(path.join(kernelDir, "gemm.wasm")), {
    relaxed: fs.readFileSync(path.join(kernelDir, "gemm-relaxed.wasm")),
  });
  pyodide.globals.set("kernel", kernel);
  // Timed inside Python: run(reps) -> seconds for nnpy.kernels.matmul(a, b), with or without kernel.
  const setup = pyodide.runPython(`
import sys, time
sys.path.insert(0, "/repo")
import numpy as np
from nnpy import kernels, wasm_gemm

def setup(n, use_kernel):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    gemm = wasm_gemm.WasmGemm(kernel) if use_kernel else None

    def run(reps):
        kernels.set_gemm(gemm)
        start = time.perf_counter()
        for _ in range(reps):
            kernels.matmul(a, b)
        return time.perf_counter() - start
    return run
setup
`);
  return {
    "nnpy-pyodide matmul, einsum (no kernel)": (n) => setup(n, false),
    "nnpy-pyodide matmul, kernel": (n) => setup(n, true),
  };
}

const TFJS = "tfjs-wasm (SIMD, 1 thread)";
const contenders = {
  ...(await kernelContenders("gemm.wasm", "SIMD128")),
  ...(await kernelContenders("gemm-relaxed.wasm", "relaxed-SIMD FMA")),
  ...(pyodideDir ? await pyodideContenders() : {}),
  ...(await tfjsContender()),
};

// Rounds interleave the contenders, so load from other processes hits them alike; best of 5.
const rows = Object.fromEntries(Object.keys(contenders).map((name) => [name, {}]));
for (const n of sizes) {
  const flops = 2 * n ** 3;
  const reps = Math.max(2, Math.round(1e8 / flops));
  const runs = Object.entries(contenders).map(([name, setup]) => [name, setup(n)]);
  for (const [, run] of runs) run(reps); // warm up: lets V8 tier the wasm up from Liftoff
  for (let round = 0; round < 5; round++) {
    for (const [name, run] of runs) {
      const gflops = (flops * reps) / run(reps) / 1e9;
      rows[name][n] = Math.max(rows[name][n] || 0, gflops);
    }
  }
}

const width = Math.max(...Object.keys(rows).map((name) => name.length));
console.log(`sgemm GFLOP/s, best of 5 interleaved rounds (Node ${process.versions.node})`);
console.log(`${"".padEnd(width)}  ${sizes.map((n) => `n=${n}`.padStart(15)).join("")}`);
for (const [name, row] of Object.entries(rows)) {
  const cells = sizes.map((n) => {
    const ratio = name === TFJS ? "" : ` (${(row[n] / rows[TFJS][n]).toFixed(2)}x)`;
    return `${row[n].toFixed(1)}${ratio}`.padStart(15);
  });
  console.log(`${name.padEnd(width)}  ${cells.join("")}`);
}
