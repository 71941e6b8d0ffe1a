// Run Python inside Pyodide in Node with the repository mounted at /repo (nnpy importable) and the
// wasm GEMM kernel at hand: the same runtime and kernel as the browser worker, without a browser.
//
//   node run_in_pyodide.js PYODIDE_DIR KERNEL.wasm [RELAXED.wasm] < script.py
//
// PYODIDE_DIR holds pyodide.js, pyodide.asm.*, pyodide-lock.json and the numpy wheel (what
// `python build.py vendor` puts in .cache/pyodide-0.27.7/). The script sees the JS kernel object
// as the global `kernel`; whatever it prints reaches stdout. An exception exits with status 1.
"use strict";
const fs = require("fs");
const path = require("path");

require("v8").setFlagsFromString("--experimental-wasm-relaxed-simd"); // Chromium has it on
const ROOT = path.join(__dirname, "..", "..");
const { loadGemmKernel } = require(path.join(ROOT, "web", "kernels", "gemm.js"));

async function main() {
  const [pyodideDir, wasmPath, relaxedPath] = process.argv.slice(2);
  const { loadPyodide } = require(path.resolve(pyodideDir, "pyodide.js"));
  const pyodide = await loadPyodide({
    indexURL: path.resolve(pyodideDir) + path.sep,
    stdout: (line) => process.stdout.write(line + "\n"),
    stderr: (line) => process.stderr.write(line + "\n"),
  });
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  pyodide.FS.mkdirTree("/repo");
  pyodide.mountNodeFS("/repo", ROOT);
  const options = relaxedPath ? { relaxed: fs.readFileSync(relaxedPath) } : {};
  const kernel = await loadGemmKernel(fs.readFileSync(wasmPath), options);
  pyodide.globals.set("kernel", kernel);
  pyodide.runPython("import sys; sys.path.insert(0, '/repo'); sys.dont_write_bytecode = True");
  await pyodide.runPythonAsync(fs.readFileSync(0, "utf8"));
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
