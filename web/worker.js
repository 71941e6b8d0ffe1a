// nnpy worker: hosts Pyodide, numpy and the nnpy wheel; answers the page's messages.
//
// Protocol (see web/nnpy.js for the page side):
//   page -> worker   {id, op, args}
//   worker -> page   {id, ok: true, result} | {id, ok: false, error: {type, message, traceback}}
//                    {id, event, data}            progress while a request runs
//   {op: "cancel", args: {id}} stops the running request `id` (a fit) at its next batch.
// Buffers cross as transferables (no SharedArrayBuffer, so no COOP/COEP headers are needed).
// All URLs arrive absolute in the "init" request: this script may run from a blob: URL.
"use strict";

let pyodide = null;
let session = null; // the nnpy.web.Session proxy
let fatal = null; // set when Python itself has crashed: every request fails from then on
const cancelled = new Set(); // ids of requests asked to stop
const running = new Set(); // ids of requests not yet answered

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

// Count the bytes of every fetch so loading progress can name files and sizes.
function countingFetch(onBytes) {
  const realFetch = self.fetch.bind(self);
  return async (input, init) => {
    const response = await realFetch(input, init);
    if (!response.ok || !response.body) return response;
    const url = input instanceof Request ? input.url : String(input);
    const file = decodeURIComponent(url.split("?")[0].split("/").pop());
    const total = Number(response.headers.get("Content-Length")) || 0;
    let loaded = 0;
    const counter = new TransformStream({
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        onBytes(file, loaded, total);
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counter), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

// Python data (after toJs) -> transferable buffers list; typed arrays are fresh copies.
function collectTransfers(value, out = new Set()) {
  if (ArrayBuffer.isView(value)) out.add(value.buffer);
  else if (value && typeof value === "object") {
    for (const item of Array.isArray(value) ? value : Object.values(value)) {
      collectTransfers(item, out);
    }
  }
  return out;
}

// Call nnpy.web.Session.dispatch (awaiting it for async Python, e.g. a top-level `await` in
// exec); a Python error becomes a thrown Error carrying the Python type.
async function call(op, args) {
  const pyArgs = args === undefined ? undefined : pyodide.toPy(args);
  let reply;
  try {
    reply = session.dispatch(op, pyArgs);
    if (reply.type === "coroutine") {
      const awaited = await reply;
      reply.destroy();
      reply = awaited;
    }
  } finally {
    if (pyArgs && pyArgs.destroy) pyArgs.destroy();
  }
  const converted = reply.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });
  reply.destroy();
  if (converted.error) throw Object.assign(new Error(converted.error.message), converted.error);
  return converted.ok;
}

const yieldToEventLoop = () => new Promise((resolve) => {
  const channel = new MessageChannel(); // faster than setTimeout(0), which clamps to 4 ms
  channel.port1.onmessage = resolve;
  channel.port2.postMessage(null);
});

// The WebAssembly SIMD GEMM (web/kernels/gemm.js), or null where the engine lacks WebAssembly SIMD
// or the kernel cannot be fetched: then NumPy does the arithmetic, and the console says so once.
async function loadKernel(kernelsURL) {
  try {
    importScripts(kernelsURL + "gemm.js");
    const kernel = await self.loadGemmKernel(kernelsURL + "gemm.wasm", { relaxed: kernelsURL + "gemm-relaxed.wasm" });
    if (!kernel) console.warn("nnpy: this browser has no WebAssembly SIMD; matrix products use NumPy (slower)");
    return kernel;
  } catch (error) {
    console.warn(`nnpy: the GEMM kernel did not load (${error.message}); matrix products use NumPy (slower)`);
    return null;
  }
}

// Route nnpy.backend.matmul to `kernel`; returns which GEMM nnpy now uses.
function installKernel(kernel) {
  if (!kernel) return "numpy";
  const module = pyodide.pyimport("nnpy.backend.wasm_gemm");
  module.install(kernel).destroy();
  module.destroy();
  return kernel.relaxed ? "wasm-simd-relaxed" : "wasm-simd";
}

// While a fit runs: batches are reported at most every PROGRESS_INTERVAL_MS (about 30 a second, so
// the page stays calm; every epoch is reported), and the worker looks at its messages (a "cancel")
// every YIELD_INTERVAL_MS.
const PROGRESS_INTERVAL_MS = 33;
const YIELD_INTERVAL_MS = 30;

const ops = {
  async init({ pyodideURL, wheelURL, kernelsURL }, id) {
    const progress = (stage, extra = {}) => post({ id, event: "progress", data: { stage, ...extra } });
    self.fetch = countingFetch((file, loaded, total) => progress("download", { file, loaded, total }));
    // The wheel downloads while Pyodide starts.
    const wheelBytes = fetch(wheelURL).then((response) => {
      if (!response.ok) throw new Error(`${wheelURL}: HTTP ${response.status} (run "python build.py")`);
      return response.arrayBuffer();
    });
    wheelBytes.catch(() => {}); // reported below, where it is awaited
    // The GEMM kernel (a few KB) compiles while Pyodide starts, too.
    const kernel = kernelsURL ? loadKernel(kernelsURL) : Promise.resolve(null);
    progress("runtime", { message: "Starting Python (Pyodide)" });
    importScripts(pyodideURL + "pyodide.js");
    pyodide = await self.loadPyodide({ indexURL: pyodideURL });
    // A crash of Python itself (e.g. the browser's stack overflowing) leaves its promises
    // pending forever: answer every open request instead, so the page can start a new nnpy.
    pyodide._api.on_fatal = (error) => {
      fatal = `Python crashed (${error && error.message}); start nnpy again with nnpy.load()`;
      for (const openId of running) post({ id: openId, ok: false, error: { type: "FatalError", message: fatal } });
      running.clear();
    };
    progress("numpy", { message: "Loading NumPy" });
    await pyodide.loadPackage(["numpy"], { messageCallback: () => {}, errorCallback: console.warn });
    progress("nnpy", { message: "Loading nnpy" });
    pyodide.unpackArchive(await wheelBytes, "wheel");
    const module = pyodide.pyimport("nnpy.web");
    session = module.Session();
    module.destroy();
    const gemm = await installKernel(await kernel);
    const versions = pyodide.runPython(
      "import sys, numpy, nnpy; {'python': sys.version.split()[0], 'numpy': numpy.__version__, " +
      "'nnpy': getattr(nnpy, '__version__', None)}"
    ).toJs({ dict_converter: Object.fromEntries });
    progress("ready", { message: "Ready" });
    return { pyodide: pyodide.version, ...versions, gemm };
  },

  async fit(args, id) {
    const job = await call("fit_start", args);
    let lastPost = 0;
    let lastYield = performance.now();
    try {
      for (;;) {
        const step = await call("job_step", { job }); // one batch: onBatch sees every one
        const now = performance.now();
        // Every epoch is reported; batches at most every PROGRESS_INTERVAL_MS so the page stays calm.
        if (step.batch && now - lastPost > PROGRESS_INTERVAL_MS) {
          post({ id, event: "batch", data: step.batch });
          lastPost = now;
        }
        for (const epoch of step.epochs) post({ id, event: "epoch", data: epoch });
        if (step.done) return step.history;
        if (now - lastYield > YIELD_INTERVAL_MS) { // let "cancel" messages in
          await yieldToEventLoop();
          lastYield = performance.now();
          if (cancelled.has(id)) {
            throw Object.assign(new Error("training was cancelled"), { type: "AbortError" });
          }
        }
      }
    } finally {
      cancelled.delete(id);
      await call("job_stop", { job }); // closes the fit_iter generator (a no-op when it finished)
    }
  },
};

self.onmessage = async (event) => {
  const { id, op, args } = event.data;
  if (op === "cancel") {
    cancelled.add(args.id);
    return;
  }
  running.add(id);
  try {
    if (fatal) throw Object.assign(new Error(fatal), { type: "FatalError" });
    if (op !== "init" && !session) throw Object.assign(new Error("nnpy is not loaded yet"), { type: "RuntimeError" });
    const result = ops[op] ? await ops[op](args, id) : await call(op, args);
    if (running.delete(id)) post({ id, ok: true, result }, [...collectTransfers(result)]);
  } catch (error) {
    if (!running.delete(id)) return; // already answered (a fatal error)
    const type = error.type || error.name || "Error";
    post({ id, ok: false, error: { type, message: error.message, traceback: error.traceback || error.stack } });
  }
};
