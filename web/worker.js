// nnpy worker: hosts Pyodide, numpy and the nnpy wheel; answers the page's messages.
//
// Protocol (see web/nnpy.js for the page side):
//   page -> worker   {id, op, args}
//   worker -> page   {id, ok: true, result} | {id, ok: false, error: {type, message, traceback}}
//                    {id, event, data}            progress while a request runs
//   {op: "cancel", args: {id}} stops the running request `id` (a fit) at its next batch.
// Buffers cross as transferables (no SharedArrayBuffer, so no COOP/COEP headers are needed).
// All URLs arrive absolute in the "init" request: this script may run from a blob: URL.
//
// Longer than 400 lines because a classic worker (it runs from a blob: URL on other origins and
// loads Pyodide with importScripts) cannot import modules: starting Python (files by sha256, the
// snapshot), the GEMM kernel and the protocol are sections of this one file.
"use strict";

let pyodide = null;
let session = null; // the nnpy.web.Session proxy
let fatal = null; // set when Python itself has crashed: every request fails from then on
const cancelled = new Set(); // ids of requests asked to stop
const running = new Set(); // ids of requests not yet answered

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

// Report the bytes of every fetch as they arrive, counted on a clone: the response itself goes
// on untouched, so the browser can compile pyodide.asm.wasm while it streams in and keep the
// compiled code for the next visit (a rebuilt Response would lose both).
function countingFetch(onBytes) {
  const realFetch = self.fetch.bind(self);
  return async (input, init) => {
    const response = await realFetch(input, init);
    if (!response.ok || !response.body) return response;
    const url = input instanceof Request ? input.url : String(input);
    const file = decodeURIComponent(url.split("?")[0].split("/").pop());
    const encoded = Number(response.headers.get("Content-Length")) || 0;
    const total = response.headers.get("Content-Encoding") ? 0 : encoded; // unknown when compressed
    (async () => {
      const reader = response.clone().body.getReader();
      let loaded = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        loaded += value.byteLength;
        onBytes(file, loaded, total);
      }
      onBytes(file, loaded, loaded, true);
    })().catch(() => {}); // the real reader reports a failed download
    return response;
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

// A Content-Security-Policy without 'wasm-unsafe-eval' (or 'unsafe-eval') forbids compiling
// WebAssembly, and Pyodide would then wait forever: compile the smallest module (8 bytes) first
// and say which directive the page needs.
function refuseWithoutWebAssembly() {
  try {
    new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  } catch (error) {
    throw Object.assign(new Error("this page's Content-Security-Policy does not allow WebAssembly, " +
      "which Python in the browser is made of: add 'wasm-unsafe-eval' to its script-src (or " +
      `default-src) directive, e.g. script-src 'self' 'wasm-unsafe-eval' (${error.message})`), { type: "SecurityError" });
  }
}

// ---- starting: files by sha256, the interpreter from a snapshot when one is stored ----------
//
// A first visit boots Python cold (with `_makeSnapshot`), snapshots the interpreter before
// anything is imported into it, and stores the snapshot; a repeat visit restores it
// (`_loadSnapshot`: no Python start-up). Pyodide 0.27 cannot snapshot loaded extension modules,
// so NumPy is always loaded after: unpacked from the trimmed wheel and imported, which loads only
// the extension modules nnpy imports. Files are kept in Cache Storage under URLs that carry their
// sha256 and checked against it when read; the snapshot is kept under a key naming the Pyodide
// and nnpy versions and the sha256 of every file it depends on, with its own sha256. Any
// mismatch, unreadable entry or missing Cache Storage means a cold start; nothing else changes.

const FILES_CACHE = "nnpy-files";
const SNAPSHOT_CACHE = "nnpy-snapshot";

const marks = {}; // milestone -> wall-clock ms (performance.timeOrigin-based), for the bench
function mark(name) {
  marks[name] = performance.timeOrigin + performance.now();
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Cache Storage, or null where the browser has none or refuses it (opaque origins, some
// private modes, a full disk): then every file comes from the network (or the HTTP cache).
async function openCache(name) {
  try {
    return self.caches ? await self.caches.open(name) : null;
  } catch {
    return null;
  }
}

// The bytes of `url` whose sha256 is `sha256`: from Cache Storage when the stored copy still
// has that hash (a damaged one is deleted), else downloaded and stored for the next visit.
async function fileBytes(cache, url, sha256) {
  if (cache && sha256) {
    try {
      const stored = await cache.match(url);
      if (stored) {
        const bytes = await stored.arrayBuffer();
        if ((await sha256Hex(bytes)) === sha256) return bytes;
        console.warn(`nnpy: the cached ${url} is damaged; downloading it again`);
        await cache.delete(url);
      }
    } catch (error) {
      console.warn(`nnpy: could not read ${url} from Cache Storage (${error.message})`);
    }
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} (run "python build.py")`);
  const bytes = await response.arrayBuffer();
  if (cache && sha256) {
    if ((await sha256Hex(bytes)) === sha256) {
      cache.put(url, new Response(bytes.slice(0))).catch(() => {}); // full or refused: fine
    } else {
      console.warn(`nnpy: ${url} does not match the manifest's sha256 (a partial deployment?); not cached`);
    }
  }
  return bytes;
}

// The stored snapshot for `key` ({bytes}) or null; entries for other keys are removed (an
// upgrade never reuses a snapshot, and only one is kept).
async function storedSnapshot(cache, key) {
  if (!cache) return null;
  try {
    let found = null;
    for (const request of await cache.keys()) {
      if (new URL(request.url).searchParams.get("key") !== key) {
        await cache.delete(request);
        continue;
      }
      const response = await cache.match(request);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if ((await sha256Hex(bytes)) === response.headers.get("x-nnpy-sha256")) found = { bytes };
      else {
        console.warn("nnpy: the stored Python snapshot is damaged; starting Python from scratch");
        await cache.delete(request);
      }
    }
    return found;
  } catch (error) {
    console.warn(`nnpy: could not read the Python snapshot (${error.message}); starting from scratch`);
    return null;
  }
}

async function storeSnapshot(cache, key, bytes) {
  const sha256 = await sha256Hex(bytes);
  await cache.put(snapshotURL(key), new Response(bytes, {
    headers: { "content-type": "application/octet-stream", "x-nnpy-sha256": sha256 },
  }));
}

const snapshotURL = (key) => `${self.location.origin}/nnpy-snapshot?key=${encodeURIComponent(key)}`;

// After a restore every session would start from the same random state: draw new seeds from
// the browser (os.urandom is crypto.getRandomValues). The hash seed cannot change once strings
// are hashed; it stays the one drawn when this browser made the snapshot.
const RESEED = `
import sys
if "random" in sys.modules:
    sys.modules["random"].seed()
if "tempfile" in sys.modules:
    sys.modules["tempfile"]._name_sequence = None
`;

const UNWRAP_JS = `
import sys
for name in [name for name in sys.modules if name == "js" or name.startswith("js.")]:
    del sys.modules[name]
`;

// Start Python: from `snapshot` (storedSnapshot's) when there is one and it restores, else cold
// (making a snapshot if `cache` can keep it). Returns how it started: "snapshot" | "cold" (+ the snapshot to store).
async function startPython(options, cache, key, snapshot) {
  if (snapshot) {
    try {
      pyodide = await self.loadPyodide({ ...options, _loadSnapshot: snapshot.bytes });
      pyodide.runPython(RESEED);
      return { boot: "snapshot" };
    } catch (error) {
      console.warn(`nnpy: the Python snapshot did not restore (${error.message}); starting from scratch`);
      await cache.delete(snapshotURL(key)).catch(() => {});
    }
  }
  pyodide = await self.loadPyodide({ ...options, _makeSnapshot: Boolean(cache) });
  let made = null;
  if (cache) {
    try {
      made = pyodide.makeMemorySnapshot(); // before anything is imported: Python's core only
    } catch (error) {
      console.warn(`nnpy: no Python snapshot (${error.message})`);
    }
    // `_makeSnapshot` hands Python the worker's globals wrapped in proxies that record access
    // paths (for the snapshot); calling a browser method through them fails ("Illegal
    // invocation"). The snapshot is made: from here on `js` is the real global scope.
    pyodide.registerJsModule("js", self);
    pyodide.runPython(UNWRAP_JS);
  }
  return { boot: "cold", made };
}

// The page's standard library holds only the modules nnpy uses (compiled); the first import
// of any other standard module downloads the whole one (source, sha256-checked) and mounts it
// behind: synchronously, as an import is (a worker may).
const STDLIB_REST = `
import hashlib, importlib.abc, importlib.machinery, sys

class _StandardLibraryRest(importlib.abc.MetaPathFinder):
    def __init__(self, url, sha256, path):
        self.url, self.sha256, self.path, self.mounted = url, sha256, path, False
        import zipfile
        with zipfile.ZipFile("/lib/python%d%d.zip" % sys.version_info[:2]) as page_library:
            self.left_out = set(page_library.read("nnpy-left-out.txt").decode().split())

    def find_spec(self, name, path=None, target=None):
        if name not in self.left_out:  # not a module of the standard library (e.g. _wmi)
            return None
        if not self.mounted:
            self.mount()
        if path is None:
            return importlib.machinery.PathFinder.find_spec(name, [self.path])
        parent = name.rpartition(".")[0]  # a package the page's zip has: extend it
        folder = self.path + "/" + parent.replace(".", "/")
        package = sys.modules.get(parent)
        if package is not None and folder not in package.__path__:
            package.__path__.append(folder)
        return importlib.machinery.PathFinder.find_spec(name, [folder])

    def mount(self):
        from js import XMLHttpRequest
        request = XMLHttpRequest.new()
        request.open("GET", self.url, False)
        request.responseType = "arraybuffer"
        request.send()
        if request.status != 200:
            raise ImportError(f"the standard library did not download: HTTP {request.status}")
        data = request.response.to_bytes()
        if self.sha256 and hashlib.sha256(data).hexdigest() != self.sha256:
            raise ImportError(f"{self.url} does not have the sha256 nnpy's manifest gives")
        with open(self.path, "wb") as f:
            f.write(data)
        sys.path.append(self.path)
        self.mounted = True

sys.meta_path.append(_StandardLibraryRest(STDLIB_URL, STDLIB_SHA256, "/lib/python_stdlib_full.zip"))
del STDLIB_URL, STDLIB_SHA256
`;

function unpackWheel(bytes) {
  pyodide.unpackArchive(bytes, "wheel", { extractDir: pyodide._api.sitepackages });
}

// NumPy's submodules the trimmed wheel leaves out: importing one says how to get them.
const TRIMMED_NUMPY_HINT = `
import importlib.abc, sys
class _TrimmedNumPy(importlib.abc.MetaPathFinder):
    LEFT_OUT = {"numpy.polynomial", "numpy.f2py"}
    def find_spec(self, name, path=None, target=None):
        if name in self.LEFT_OUT:
            raise ModuleNotFoundError(
                f"{name} is not in the NumPy nnpy loads (it keeps what nnpy uses); "
                'start nnpy with nnpy.load({numpy: "full"}) for all of NumPy', name=name)
sys.meta_path.append(_TrimmedNumPy())
`;

// Time the wasm compilation (streaming: it ends with the download) for the bench's milestones.
function timeWasmCompile() {
  const real = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = async (...args) => {
    const result = await real.apply(WebAssembly, args);
    if (!marks["wasm-compiled"]) mark("wasm-compiled");
    return result;
  };
}

const ops = {
  // runtime: {url, files: {name: sha256} | null}; stdlib / wheel / numpy: {url, sha256} (stdlib
  // null: Pyodide's own; numpy null: Pyodide's full NumPy); snapshotKey null: never a snapshot.
  async init({ runtime, stdlib, wheel, numpy, kernelsURL, snapshotKey }, id) {
    mark("worker");
    refuseWithoutWebAssembly();
    const progress = (stage, extra = {}) => post({ id, event: "progress", data: { stage, ...extra } });
    const versioned = (name) => runtime.url + name + (runtime.files ? `?v=${runtime.files[name].slice(0, 16)}` : "");
    self.fetch = countingFetch((file, loaded, total, done) => {
      if (done && file === "pyodide.asm.wasm") mark("wasm-fetched");
      progress("download", { file, loaded, total });
    });
    // Every download starts now, side by side: the runtime's wasm (Pyodide asks for it later,
    // by name: it gets this response), the wheels, the kernel and the stored snapshot.
    const wasmURL = runtime.url + "pyodide.asm.wasm";
    let wasmResponse = fetch(versioned("pyodide.asm.wasm"));
    wasmResponse.catch(() => {}); // Pyodide reports it
    const countedFetch = self.fetch;
    self.fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url !== wasmURL || !wasmResponse) return countedFetch(input, init);
      const early = wasmResponse;
      wasmResponse = null;
      return early;
    };
    timeWasmCompile();
    const [files, snapshots] = await Promise.all([openCache(FILES_CACHE), snapshotKey ? openCache(SNAPSHOT_CACHE) : null]);
    const wheelBytes = fileBytes(files, wheel.url, wheel.sha256);
    const numpyBytes = numpy ? fileBytes(files, numpy.url, numpy.sha256) : null;
    const snapshot = storedSnapshot(snapshots, snapshotKey);
    for (const pending of [wheelBytes, numpyBytes]) if (pending) pending.catch(() => {}); // awaited below
    const kernel = kernelsURL ? loadKernel(kernelsURL) : Promise.resolve(null);
    progress("runtime", { message: "Starting Python (Pyodide)" });
    importScripts(versioned("pyodide.js"));
    if (runtime.files) importScripts(versioned("pyodide.asm.js")); // else pyodide.js loads it
    const options = { indexURL: runtime.url, stdLibURL: stdlib ? stdlib.url : versioned("python_stdlib.zip"),
      lockFileURL: versioned("pyodide-lock.json") };
    const { boot, made } = await startPython(options, snapshots, snapshotKey, await snapshot);
    mark("python-started");
    if (made) storeSnapshot(snapshots, snapshotKey, made).catch((error) =>
      console.warn(`nnpy: the Python snapshot was not stored (${error.message})`));
    // A crash of Python itself (e.g. the browser's stack overflowing) leaves its promises
    // pending forever: answer every open request instead, so the page can start a new nnpy.
    pyodide._api.on_fatal = (error) => {
      fatal = `Python crashed (${error && error.message}); start nnpy again with nnpy.load()`;
      for (const openId of running) post({ id: openId, ok: false, error: { type: "FatalError", message: fatal } });
      running.clear();
    };
    if (stdlib) {
      // the whole library's sha256 when the manifest names Pyodide's files (else, from a CDN, None)
      const full = runtime.files ? JSON.stringify(runtime.files["python_stdlib.zip"]) : "None";
      pyodide.runPython(`STDLIB_URL = ${JSON.stringify(versioned("python_stdlib.zip"))}\n` +
        `STDLIB_SHA256 = ${full}\n${STDLIB_REST}`);
    }
    progress("numpy", { message: "Loading NumPy" });
    if (numpy) {
      unpackWheel(await numpyBytes);
      mark("numpy-unpacked");
      pyodide.runPython(TRIMMED_NUMPY_HINT);
    } else {
      await pyodide.loadPackage(["numpy"], { messageCallback: () => {}, errorCallback: console.warn });
    }
    pyodide.runPython("import numpy");
    mark("numpy-imported");
    progress("nnpy", { message: "Loading nnpy" });
    unpackWheel(await wheelBytes);
    const module = pyodide.pyimport("nnpy.web");
    session = module.Session();
    module.destroy();
    mark("nnpy-imported");
    const gemm = await installKernel(await kernel);
    mark("kernel-installed");
    const versions = pyodide.runPython(
      "import sys, numpy, nnpy; {'python': sys.version.split()[0], 'numpy': numpy.__version__, " +
      "'nnpy': getattr(nnpy, '__version__', None)}"
    ).toJs({ dict_converter: Object.fromEntries });
    progress("ready", { message: "Ready" });
    return { pyodide: pyodide.version, ...versions, gemm, boot, numpyWheel: numpy ? "trimmed" : "full",
      cacheStorage: Boolean(files), timings: { ...marks } };
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
