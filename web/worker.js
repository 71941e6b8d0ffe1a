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
// Longer than 400 lines because a classic worker (it runs from a blob: URL on other origins) has
// no static imports: starting Python (files by sha256, the snapshot), the GEMM kernel and the
// protocol are sections of this one file.
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
function countingFetch(onBytes, sizes = {}) {
  const realFetch = self.fetch.bind(self);
  return async (input, init) => {
    const response = await realFetch(input, init);
    if (!response.ok || !response.body) return response;
    const url = input instanceof Request ? input.url : String(input);
    const file = decodeURIComponent(url.split("?")[0].split("/").pop());
    const encoded = Number(response.headers.get("Content-Length")) || 0;
    // Content-Length counts compressed bytes: then the manifest's size of the file, if it has one
    const total = response.headers.get("Content-Encoding") ? sizes[file] || 0 : encoded;
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
// A first visit boots Python cold (with `_makeSnapshot`), imports NumPy and nnpy, snapshots the
// interpreter and stores the snapshot; a repeat visit restores it (`_loadSnapshot`: no Python
// start-up, no imports). Pyodide 0.27 cannot snapshot loaded extension modules by itself: NumPy's
// are loaded before the interpreter starts, at the same addresses every time (see "NumPy inside
// the snapshot" below). Files are kept in Cache Storage under URLs that carry their sha256 (checked
// when downloaded), each with a checksum checked when read; the snapshot is kept under a key
// naming the Pyodide and nnpy versions and the sha256 of every file it depends on, with its own
// checksum and a record of the extension modules it holds. Any mismatch, unreadable entry or
// missing Cache Storage means a cold start; nothing else changes.

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

// The SHA-256 of a .safetensors file's tensor data (the bytes after its header), computed here
// for the checksum ("nnpy.sha256") the file carries: hashlib in WebAssembly takes several times
// as long (about 20 ms for the 0.4 MB digit model on a page's first load, most of it compiling
// hashlib's code). null where the header names no checksum, the bytes are not laid out as
// safetensors (Python says what is wrong) or WebCrypto is missing (an insecure origin): Python
// then hashes them itself.
async function tensorDataSha256(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 8 || !(self.crypto && crypto.subtle)) return null;
  const start = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (start > bytes.byteLength) return null;
  if (!new TextDecoder().decode(bytes.subarray(8, start)).includes('"nnpy.sha256"')) return null;
  return sha256Hex(bytes.subarray(start));
}

// What tells a copy read back from Cache Storage is the one written there: four lanes of 32-bit
// multiply-rotate rounds over its words (xxHash32's round and primes), then its tail and length,
// as 32 hex digits. A repeat visit reads ~25 MB back before Python starts; SHA-256 (WebCrypto,
// on this thread) took 35-80 ms of it. Measured in Chromium on 10 MB, on a first call: 15-23 ms
// against SHA-256's 19-29 (once optimised, a third of its time). Written here, not a library:
// xxHash's ports for the browser copy the bytes into their own wasm memory first. It is a check
// against damage, not forgery (what can write this origin's Cache Storage can write its scripts):
// what comes from the network is checked against the manifest's sha256 before it is stored.
function checksum(bytes) {
  if (bytes.byteOffset % 4) bytes = bytes.slice();
  const words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  const round = (lane, word) => {
    const sum = (lane + Math.imul(word, 0x85ebca77)) | 0;
    return Math.imul((sum << 13) | (sum >>> 19), 0x9e3779b1);
  };
  let [a, b, c, d] = [0x243f6a88, 0x85a308d3 | 0, 0x13198a2e, 0x03707344];
  const whole = words.length & ~3;
  for (let i = 0; i < whole; i += 4) {
    a = round(a, words[i]);
    b = round(b, words[i + 1]);
    c = round(c, words[i + 2]);
    d = round(d, words[i + 3]);
  }
  for (let i = whole; i < words.length; i++) a = round(a, words[i]);
  for (let i = words.length * 4; i < bytes.length; i++) b = round(b, bytes[i]);
  c = round(c, bytes.length);
  d = round(d, Math.floor(bytes.length / 2 ** 32));
  return Array.from([a, b, c, d], (lane) => (lane >>> 0).toString(16).padStart(8, "0")).join("");
}
const CHECKSUM_HEADER = "x-nnpy-checksum";

// Whether `bytes` read from a Cache Storage entry are what was stored: by the entry's checksum,
// or the sha256 it should have where the entry has none (stored by an earlier version).
async function intact(bytes, headers, sha256) {
  const sum = headers.get(CHECKSUM_HEADER);
  return sum ? checksum(bytes) === sum : (await sha256Hex(bytes)) === sha256;
}

// A repeat visit reads ~30 MB back from Cache Storage (the snapshot, NumPy, nnpy). A body is read
// in chunks by the thread that asks for it, and this one is busy starting Python (compiling,
// linking) for most of a start: its reads stalled behind that work, and the snapshot arrived
// last, ~600 ms after it was asked for. So a helper worker of their own, the reader, reads and
// checks them meanwhile and hands each buffer over (transferred, not copied). Its script is made
// here from the same functions (no file to fetch). Where no reader starts (no nested workers, a
// CSP refusing blob: workers) or it fails, an entry is read on this thread as before.
const READER_SOURCE = () => `"use strict";
${sha256Hex}
${checksum}
const CHECKSUM_HEADER = ${JSON.stringify(CHECKSUM_HEADER)};
${intact}
self.onmessage = async ({ data: { id, cacheName, url, sha256 } }) => {
  try {
    const response = await (await caches.open(cacheName)).match(url);
    if (!response) throw new Error("it is no longer stored");
    const bytes = await response.arrayBuffer();
    const ok = await intact(new Uint8Array(bytes), response.headers, sha256);
    self.postMessage({ id, bytes, ok, sum: response.headers.get(CHECKSUM_HEADER) }, [bytes]);
  } catch (error) {
    self.postMessage({ id, error: String(error && error.message) });
  }
};`;
let reader = null; // {worker, url, pending: Map(id -> {resolve, reject}), next} | false: none

function startReader() {
  const fail = (error) => {
    for (const { reject } of reader.pending.values()) reject(error);
    stopReader();
    reader = false; // not again this start
  };
  try {
    const url = URL.createObjectURL(new Blob([READER_SOURCE()], { type: "text/javascript" }));
    reader = { worker: null, url, pending: new Map(), next: 0 };
    reader.worker = new Worker(url);
    reader.worker.onerror = (event) => {
      event.preventDefault();
      fail(new Error(event.message || "the reader failed"));
    };
    reader.worker.onmessage = ({ data }) => {
      const waiting = reader.pending.get(data.id);
      reader.pending.delete(data.id);
      if (data.error) waiting.reject(new Error(data.error));
      else waiting.resolve(data);
    };
  } catch {
    if (reader) URL.revokeObjectURL(reader.url);
    reader = false;
  }
}

function stopReader() {
  if (!reader) return;
  reader.worker.terminate();
  URL.revokeObjectURL(reader.url);
  reader = null;
}

// The body of `response`, Cache Storage's entry for `url` in the cache `cacheName`: {bytes,
// ok} where ok says it is intact (see intact; and, read by the reader, that it read the entry
// whose headers `response` has). Read and checked by the reader where there is one, else here.
async function storedBody(cacheName, url, response, sha256) {
  if (reader === null && typeof Worker === "function") startReader();
  if (reader) {
    try {
      const far = await new Promise((resolve, reject) => {
        const id = reader.next++;
        reader.pending.set(id, { resolve, reject });
        reader.worker.postMessage({ id, cacheName, url, sha256 });
      });
      return { bytes: far.bytes, ok: far.ok && far.sum === response.headers.get(CHECKSUM_HEADER) };
    } catch {
      // read here
    }
  }
  const bytes = await response.arrayBuffer();
  return { bytes, ok: await intact(new Uint8Array(bytes), response.headers, sha256) };
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

// The bytes of `url` whose sha256 is `sha256`: from Cache Storage (`cache`, FILES_CACHE) when the
// stored copy is intact (a damaged one is deleted), else downloaded and stored for the next visit.
async function fileBytes(cache, url, sha256) {
  if (cache && sha256) {
    try {
      const stored = await cache.match(url);
      if (stored) {
        const { bytes, ok } = await storedBody(FILES_CACHE, url, stored, sha256);
        if (ok) return bytes;
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
      const headers = { [CHECKSUM_HEADER]: checksum(new Uint8Array(bytes)) };
      cache.put(url, new Response(bytes.slice(0), { headers })).catch(() => {}); // full or refused: fine
    } else {
      console.warn(`nnpy: ${url} does not match the manifest's sha256 (a partial deployment?); not cached`);
    }
  }
  return bytes;
}

// The stored snapshot for `key`, or null; entries for other keys are removed (an upgrade never
// reuses a snapshot, and only one is kept). It answers once the entry's headers are read, so
// Python can start while its body still arrives: {bytes, ready, dynlibs, restore} where `bytes`
// is what Pyodide is given to restore (its full length, zeros until `restore` puts the body in),
// `ready` a promise that settles once the body is read and checked (its checksum; rejected:
// unreadable or damaged, and the entry is deleted), and then `restore(heap)` puts it in place:
// the snapshot's header into `bytes` and its memory straight into `heap`, the runtime's (one copy
// instead of two), or all of it into `bytes` when `heap` is null. startPython holds the restore
// until `ready`.
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
      const length = Number(response.headers.get("x-nnpy-length"));
      const pages = response.headers.get("x-nnpy-pages");
      if (!pages || !Number.isSafeInteger(length) || length <= 0) { // not a snapshot this version stores
        console.warn("nnpy: the stored Python snapshot is unreadable (its page map is missing); starting Python from scratch");
        await cache.delete(request);
        continue;
      }
      const dynlibs = JSON.parse(response.headers.get("x-nnpy-dynlibs") || "null");
      const bytes = new Uint8Array(length); // untouched but for the header: memory is only reserved
      const snapshot = { bytes, dynlibs, restore: null };
      const sha256 = response.headers.get("x-nnpy-sha256");
      snapshot.ready = storedBody(SNAPSHOT_CACHE, request.url, response, sha256).then(({ bytes: body, ok }) => {
        const packed = new Uint8Array(body);
        if (!ok) throw new Error("it is damaged (its checksum differs)");
        snapshot.restore = (heap) => restorePages(packed, pages, bytes, heap);
      }).catch(async (error) => {
        await cache.delete(request).catch(() => {}); // the next visit stores a sound one
        throw error;
      });
      snapshot.ready.catch(() => {}); // startPython reports it
      found = snapshot;
    }
    return found;
  } catch (error) {
    console.warn(`nnpy: could not read the Python snapshot (${error.message}); starting from scratch`);
    return null;
  }
}

async function storeSnapshot(cache, key, { bytes, dynlibs }) {
  const { packed, pages } = await packPages(bytes);
  await cache.put(snapshotURL(key), new Response(packed, {
    headers: { "content-type": "application/octet-stream", [CHECKSUM_HEADER]: checksum(packed),
      "x-nnpy-length": String(bytes.length), "x-nnpy-pages": pages,
      "x-nnpy-dynlibs": JSON.stringify(dynlibs) },
  }));
}

// A third of a snapshot is pages of zeros (memory Python has not used yet): it is stored
// without them, and reading fewer bytes is most of what a repeat visit saves by it.
const SNAPSHOT_PAGE = 4096;

// bytes -> {packed: the pages holding anything but zeros, one after another; pages: which
// those are, a bitmap in base64}. It gives way to the page's requests every 1024 pages (a first
// visit stores its snapshot while the page asks for its first predictions).
async function packPages(bytes) {
  const count = Math.ceil(bytes.length / SNAPSHOT_PAGE);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4));
  const map = new Uint8Array(Math.ceil(count / 8));
  const kept = [];
  for (let page = 0; page < count; page++) {
    if (page % 1024 === 1023) await yieldToEventLoop();
    const start = page * SNAPSHOT_PAGE;
    const end = Math.min(start + SNAPSHOT_PAGE, bytes.length);
    let used = false;
    for (let i = start / 4; i < Math.floor(end / 4) && !used; i++) used = words[i] !== 0;
    for (let i = Math.floor(end / 4) * 4; i < end && !used; i++) used = bytes[i] !== 0;
    if (used) {
      map[page >> 3] |= 1 << (page & 7);
      kept.push(bytes.subarray(start, end));
    }
  }
  const packed = new Uint8Array(kept.reduce((total, page) => total + page.length, 0));
  let at = 0;
  for (const page of kept) {
    packed.set(page, at);
    at += page.length;
  }
  return { packed, pages: btoa(String.fromCharCode(...map)) };
}

// packPages undone, each run of pages handed to `write(start, end, run)` in order (`run`: the
// stored bytes, or null for zeros). A page map that does not match the body throws first.
function forEachRun(packed, pages, length, write) {
  const map = Uint8Array.from(atob(pages), (c) => c.charCodeAt(0));
  const stored = (page) => (map[page >> 3] & (1 << (page & 7))) !== 0;
  const count = Math.ceil(length / SNAPSHOT_PAGE);
  const runs = [];
  let size = 0;
  for (let page = 0; page < count;) {
    const kind = stored(page);
    let next = page + 1;
    while (next < count && stored(next) === kind) next++;
    const start = page * SNAPSHOT_PAGE;
    const end = Math.min(next * SNAPSHOT_PAGE, length);
    runs.push([start, end, kind]);
    if (kind) size += end - start;
    page = next;
  }
  if (size !== packed.length) {
    throw new Error(`the snapshot is ${size > packed.length ? "shorter" : "longer"} than its page map`);
  }
  let at = 0;
  for (const [start, end, kind] of runs) {
    write(start, end, kind ? packed.subarray(at, at + end - start) : null);
    if (kind) at += end - start;
  }
}

// The snapshot's stored pages put in place: its header (where the memory begins, the build id,
// the interpreter's state) into `bytes` and the memory after it into `heap`, pages of zeros
// cleared there (the runtime's start wrote into its memory); all into `bytes` (zeros) when
// `heap` is null. Returns the view Pyodide is then given: the header alone with `heap`, whose
// memory part is then empty (its restore copies nothing more).
function restorePages(packed, pages, bytes, heap) {
  if (!heap) {
    forEachRun(packed, pages, bytes.length, (start, end, run) => run && bytes.set(run, start));
    return bytes;
  }
  const memoryAt = packed.length >= 8 ? new DataView(packed.buffer, packed.byteOffset).getUint32(4, true) : 0;
  if (!memoryAt || memoryAt % 4 || memoryAt >= bytes.length || bytes.length - memoryAt > heap.length) {
    throw new Error("its header does not say where its memory begins");
  }
  forEachRun(packed, pages, bytes.length, (start, end, run) => {
    if (start < memoryAt) {
      const cut = Math.min(end, memoryAt);
      if (run) bytes.set(run.subarray(0, cut - start), start);
      if (end <= memoryAt) return;
      if (run) run = run.subarray(cut - start);
      start = cut;
    }
    if (run) heap.set(run, start - memoryAt);
    else heap.fill(0, start - memoryAt, end - memoryAt);
  });
  return bytes.subarray(0, memoryAt);
}

// A first visit stores its snapshot (tens of MB to scan, hash and write) once the worker has had
// nothing to do for SNAPSHOT_IDLE_MS, so the page's first requests do not wait for it; a page that
// keeps it busy (a live camera) gets it stored after SNAPSHOT_LATEST_MS anyway.
const SNAPSHOT_IDLE_MS = 300;
const SNAPSHOT_LATEST_MS = 5000;
let pendingStore = null; // {store, deadline, timer}

function storeWhenIdle(store) {
  pendingStore = { store, deadline: performance.now() + SNAPSHOT_LATEST_MS, timer: null };
  waitForIdle();
}

// (Re)start the idle countdown; called again whenever a request ends. The countdown never runs
// past the deadline: requests that keep coming (a camera's frames) only put the store off until
// then, and after it the store starts in the first gap between them.
function waitForIdle() {
  if (!pendingStore) return;
  clearTimeout(pendingStore.timer);
  const left = pendingStore.deadline - performance.now();
  pendingStore.timer = setTimeout(() => {
    if (running.size && performance.now() < pendingStore.deadline) return waitForIdle();
    const { store } = pendingStore;
    pendingStore = null;
    storing = Promise.resolve(store()).finally(() => {
      storing = null;
      warmUpWhenIdle(); // what waited for the store
    });
  }, Math.max(0, Math.min(SNAPSHOT_IDLE_MS, left)));
}
let storing = null; // the snapshot being stored (scanned, hashed and written between requests)

// The browser compiles wasm a function at a time when it first runs and optimises the hot ones
// later, in the background: a model's first hundred or so predictions run slower than the rest.
// So while the page is idle (no request for WARM_IDLE_MS) after it loaded or used a model, the
// worker predicts a made-up input for it (nnpy.web's warm_up: the page's own prediction path), one
// prediction per turn of the event loop, WARM_UP_RUNS times per model at most. A request that
// comes meanwhile waits for the one prediction under way and ends the run of warm-ups (each
// request counts in `warming.requests`); warming starts again when the page is idle again.
const WARM_IDLE_MS = 50;
const WARM_UP_RUNS = 100;
const warmUps = new Map(); // model handle -> warm-up predictions made (WARM_UP_RUNS: done)
let warming = { model: null, timer: null, requests: 0 };

function warmUpWhenIdle(model) {
  if (Number.isInteger(model) && !warmUps.has(model)) warmUps.set(model, 0);
  if (Number.isInteger(model) && warmUps.get(model) < WARM_UP_RUNS) warming.model = model;
  clearTimeout(warming.timer);
  if (warming.model === null) return;
  warming.timer = setTimeout(warmUpStep, WARM_IDLE_MS);
}

async function warmUpStep() {
  const { model, requests } = warming;
  // a request under way, or the snapshot's store, calls warmUpWhenIdle again when it ends
  if (fatal || running.size || pendingStore || storing) return;
  try {
    await call("warm_up", { model });
    warmUps.set(model, warmUps.get(model) + 1);
  } catch {
    warmUps.set(model, WARM_UP_RUNS); // closed, or it cannot predict: not again
  }
  if (warmUps.get(model) >= WARM_UP_RUNS) {
    warming.model = null;
    return;
  }
  await yieldToEventLoop(); // a request that came in meanwhile runs now, and ends this run
  if (!running.size && warming.model === model && warming.requests === requests) warmUpStep();
}

// A restored start answers "ready" before NumPy's and nnpy's files are written (the snapshot
// holds their modules imported; the files are for later imports): they are written once the
// worker has had no request for FILES_IDLE_MS, or before the first import (_FilesFirst).
const FILES_IDLE_MS = 50;
let pendingFiles = null; // () => write them, until written
let filesTimer = null;

function writeFilesWhenIdle() {
  clearTimeout(filesTimer);
  if (pendingFiles) filesTimer = setTimeout(() => (running.size ? writeFilesWhenIdle() : writeDeferredFiles()), FILES_IDLE_MS);
}

function writeDeferredFiles() {
  clearTimeout(filesTimer);
  const write = pendingFiles;
  pendingFiles = null;
  if (write) write();
}

const snapshotURL = (key) => `${self.location.origin}/nnpy-snapshot?key=${encodeURIComponent(key)}`;

// The Python the worker runs around a start, as functions of one module (`_nnpy_worker`) defined
// once per interpreter: on a first visit before the snapshot is made, so a restored interpreter
// has them and its start compiles no Python source (the first compilation in a page is slow: the
// browser is compiling Python's own compiler). workerHelpers() defines it where it is missing (a
// cold start, or a snapshot made without it).
const WORKER_HELPERS = `
import hashlib, importlib.abc, importlib.machinery, os, sys, types


def held_modules():
    """What a restored interpreter holds imported already (before anything is imported into it)."""
    return [name for name in ("numpy", "nnpy.web") if name in sys.modules]


def reseed():
    """After a restore every session would start from the same random state: new seeds from the
    browser (os.urandom is crypto.getRandomValues). The hash seed cannot change once strings
    are hashed; it stays the one drawn when this browser made the snapshot."""
    if "random" in sys.modules:
        sys.modules["random"].seed()
    if "tempfile" in sys.modules:
        sys.modules["tempfile"]._name_sequence = None


def forget_folder_listings():
    """Python's finders list each folder once and look again when its mtime changes; new files
    may share a folder's last millisecond. (Not importlib.invalidate_caches(): it imports
    importlib.metadata, which would fetch the whole standard library.)"""
    for finder in list(sys.path_importer_cache.values()):
        if isinstance(finder, importlib.machinery.FileFinder):
            finder.invalidate_caches()


def imported_files():
    """The files (relative to site-packages) of the modules imported from there."""
    site = sys.modules["numpy"].__file__.rsplit("/numpy/", 1)[0] + "/"
    return [module.__file__[len(site):] for module in list(sys.modules.values())
            if (getattr(module, "__file__", None) or "").startswith(site)]


class _TrimmedNumPy(importlib.abc.MetaPathFinder):
    """NumPy's submodules the trimmed wheel leaves out: importing one says how to get them."""
    LEFT_OUT = {"numpy.polynomial", "numpy.f2py"}

    def find_spec(self, name, path=None, target=None):
        if name in self.LEFT_OUT:
            raise ModuleNotFoundError(
                f"{name} is not in the NumPy nnpy loads (it keeps what nnpy uses); "
                'start nnpy with nnpy.load({numpy: "full"}) for all of NumPy', name=name)


class _FilesFirst(importlib.abc.MetaPathFinder):
    """A restored interpreter holds NumPy and nnpy imported, but not their files (a snapshot holds
    memory, not the file system): the worker writes them once the page is idle, or this finder
    has them written before the first import from those packages of a module not imported yet."""

    def __init__(self, write, packages):
        self.write, self.packages = write, set(packages)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.packages:
            self.write()  # files_written() first: this finder is gone before anything is imported
        return None


def files_before_imports(write, packages):
    # a new list, here and in files_written: an import under way goes on over the one it has
    sys.meta_path = [_FilesFirst(write, packages), *sys.meta_path]


def files_written():
    sys.meta_path = [finder for finder in sys.meta_path if type(finder).__name__ != "_FilesFirst"]


def trimmed_numpy_hint():
    # by name, as the finders are: one a snapshot holds may come from an earlier definition
    sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "_TrimmedNumPy"]
    sys.meta_path.append(_TrimmedNumPy())


class _StandardLibraryRest(importlib.abc.MetaPathFinder):
    """The page's standard library holds only the modules nnpy uses (compiled); the first import
    of any other standard module downloads the whole one (source, sha256-checked) and mounts it
    behind: synchronously, as an import is (a worker may)."""

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


def standard_library_rest(url, sha256):
    """Install the finder once: a snapshot may hold it already; it then takes this visit's URL."""
    held = [finder for finder in sys.meta_path if type(finder).__name__ == "_StandardLibraryRest"]
    if not held:
        sys.meta_path.append(_StandardLibraryRest(url, sha256, "/lib/python_stdlib_full.zip"))
        return
    held[0].url, held[0].sha256 = url, sha256
    if held[0].mounted and not os.path.exists(held[0].path):  # files are not in a snapshot
        held[0].mounted = False
        sys.path_importer_cache.pop(held[0].path, None)


def versions():
    import numpy
    import nnpy
    return {"python": sys.version.split()[0], "numpy": numpy.__version__,
            "nnpy": getattr(nnpy, "__version__", None)}


_module = types.ModuleType("_nnpy_worker", "What the nnpy worker runs in Python around a start.")
_module.__dict__.update({name: value for name, value in globals().items() if not name.startswith("__")})
sys.modules["_nnpy_worker"] = _module
del _module
`;

let helpers = null; // the _nnpy_worker module of this start's interpreter
function forgetHelpers() {
  if (helpers) helpers.destroy();
  helpers = null;
}

function workerHelpers() {
  if (!helpers) {
    const modules = pyodide.pyimport("sys").modules;
    if (!modules.has("_nnpy_worker")) {
      const namespace = pyodide.toPy({});
      pyodide.runPython(WORKER_HELPERS, { globals: namespace });
      namespace.destroy();
    }
    modules.destroy();
    helpers = pyodide.pyimport("_nnpy_worker");
  }
  return helpers;
}

// The standard modules a page imports once Python runs (the build lists them in the page's
// standard library): imported before the snapshot is made, a repeat visit finds them imported.
// Built-in and pure-Python modules only: an extension module is in a snapshot only when it was
// loaded before Python started (see "NumPy inside the snapshot").
const PREIMPORT = `
def _preimport():
    import importlib, sys, zipfile
    with zipfile.ZipFile("/lib/python%d%d.zip" % sys.version_info[:2]) as library:
        if "nnpy-preimport.txt" not in library.namelist():
            return
        names = library.read("nnpy-preimport.txt").decode().split()
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # an optimisation only: the page imports it again when it needs it
            pass
_preimport()
del _preimport
`;

const UNWRAP_JS = `
import sys
for name in [name for name in sys.modules if name == "js" or name.startswith("js.")]:
    del sys.modules[name]
`;

// ---- NumPy inside the snapshot ----------------------------------------------------------------
//
// A snapshot is the interpreter's linear memory; an extension module (a side module: NumPy's .so
// files) also has code and a function-table range outside it. So the extension modules `import
// numpy` opens are loaded *before* the interpreter starts, in emscripten's preRun, in a fixed
// order: their data then lands at the bottom of the heap and their functions at the start of
// the table, the same addresses on every start. A first visit starts Python, imports NumPy
// (which finds them loaded) and snapshots that; a repeat visit loads the same modules the same
// way and then lays the snapshot's memory over them, NumPy's state included. The snapshot's
// record says which modules, in which order, where the table ended and the dlopen handles; any
// difference means a cold start. (Compiling them also overlaps the runtime's download.)
const NUMPY_STARTUP_DYNLIBS = ["numpy/_core/_multiarray_umath", "numpy/_core/_multiarray_tests",
  "numpy/linalg/_umath_linalg"];

// [{path, module: Promise<WebAssembly.Module>}] for the startup extension modules in the
// trimmed wheel's members (each compiled off this thread as soon as the wheel is here).
function startupDynlibs(members, sitePackages) {
  const libs = [];
  for (const stem of NUMPY_STARTUP_DYNLIBS) {
    const found = members.find(([name]) => name.startsWith(stem + ".") && name.endsWith(".so"));
    if (!found) return []; // another NumPy: it loads its modules itself
    libs.push({ path: `${sitePackages}/${found[0]}`, module: WebAssembly.compile(found[1]) });
  }
  return libs;
}

// Have the next loadPyodide run `before(Module)` in its preRun, before the interpreter starts; the
// runtime waits there for the promise it returns (a run dependency), so its own download and
// compilation are not held up by what `before` waits for. Returns {error} (`before`'s, once
// Python is up: thrown in preRun, it would stop the start), or null where pyodide.asm.js is
// not loaded (nothing to wrap).
let createPyodideModule = null; // pyodide.asm.js's own, once seen (a start may fail before using our wrapper)
function beforePythonStarts(before) {
  const outcome = { error: null };
  createPyodideModule = createPyodideModule || self._createPyodideModule;
  const create = createPyodideModule;
  if (typeof create !== "function") return null;
  self._createPyodideModule = (config) => {
    self._createPyodideModule = create; // this start only
    config.preRun = [...[].concat(config.preRun || []), (Module) => {
      Module.addRunDependency("nnpy-before-python");
      Promise.resolve().then(() => before(Module)).catch((error) => {
        outcome.error = error;
      }).finally(() => Module.removeRunDependency("nnpy-before-python"));
    }];
    return create(config);
  };
  return outcome;
}

// Load `libs` ([{path, module: Promise<WebAssembly.Module>}]) into the runtime `Module`, in
// order; returns where the function table ends after them.
async function loadDynlibs(Module, libs) {
  const modules = await Promise.all(libs.map((lib) => lib.module));
  libs.forEach(({ path }, i) => {
    const dso = Module.newDSO(path, undefined, "loading");
    dso.global = false;
    dso.exports = Module.loadWebAssemblyModule(modules[i], { loadAsync: false, nodelete: true }, path, {});
  });
  return Module.wasmTable.length;
}

// What a snapshot holding `libs` must record to be restored: their order, where the function
// table ended after them and the dlopen handles Python holds on them.
function dynlibRecord(libs, tableEnd) {
  const paths = libs.map((lib) => lib.path);
  const handles = {};
  for (const [handle, dso] of Object.entries(pyodide._module.LDSO.loadedLibsByHandle)) {
    if (paths.includes(dso.name)) handles[handle] = dso.name;
  }
  return { order: paths, tableEnd, handles };
}

// Start Python: from `snapshot` (storedSnapshot's) when there is one and it restores, else cold
// (making a snapshot if `cache` can keep it; `preimport`: of the interpreter with the modules
// PREIMPORT names). `startup`: {dynlibs: Promise of startupDynlibs' list, prepare()}, NumPy's
// extension modules to load first and what imports NumPy and nnpy before the snapshot (or null:
// the snapshot holds Python alone). Returns how it started: "snapshot" | "cold" (+ the snapshot
// to store).
async function startPython(options, cache, key, snapshot, preimport, startup) {
  const dynlibs = startup ? startup.dynlibs : Promise.resolve([]);
  if (snapshot) {
    let started = null;
    try {
      const record = snapshot.dynlibs || { order: [], tableEnd: null, handles: {} };
      // The runtime downloads and compiles meanwhile; before Python starts, NumPy's modules
      // load as the record says and the snapshot is read and checked. Anything amiss leaves
      // memory without a snapshot's magic number, which Pyodide refuses to restore.
      const prepare = async (Module) => {
        try {
          const available = await dynlibs;
          const libs = record.order.map((path) => {
            const lib = available.find((candidate) => candidate.path === path);
            if (!lib) throw new Error(`it holds ${path}, which this NumPy does not have`);
            return lib;
          });
          if (libs.length) {
            if (!Module) throw new Error("NumPy's modules cannot be loaded before Python starts");
            const tableEnd = await loadDynlibs(Module, libs);
            if (tableEnd !== record.tableEnd) {
              throw new Error(`NumPy's modules ended the function table at ${tableEnd}, not ${record.tableEnd}`);
            }
          }
          await snapshot.ready;
          const api = Module && Module.API;
          const restore = api && api.restoreSnapshot;
          if (typeof restore !== "function") {
            snapshot.restore(null);
            return;
          }
          // Pyodide restores after the runtime's own start, copying the whole memory in; here
          // the stored pages go straight into the memory and Pyodide reads the header alone.
          api.restoreSnapshot = (whole) => {
            api.restoreSnapshot = restore;
            return restore.call(api, whole === snapshot.bytes ? snapshot.restore(Module.HEAPU8) : whole);
          };
        } catch (error) {
          snapshot.bytes.fill(0, 0, 16);
          throw error;
        }
      };
      started = beforePythonStarts(prepare);
      if (!started) await prepare(null);
      pyodide = await self.loadPyodide({ ...options, _loadSnapshot: snapshot.bytes });
      if (started && started.error) throw started.error;
      const { LDSO } = pyodide._module;
      for (const [handle, path] of Object.entries(record.handles)) LDSO.loadedLibsByHandle[handle] = LDSO.loadedLibsByName[path];
      workerHelpers().reseed();
      const held = workerHelpers().held_modules();
      const snapshotHolds = held.toJs();
      held.destroy();
      return { boot: "snapshot", snapshotHolds };
    } catch (error) {
      const reason = (started && started.error) || error;
      console.warn(`nnpy: the Python snapshot did not restore (${reason.message}); starting from scratch`);
      await cache.delete(snapshotURL(key)).catch(() => {});
    }
  }
  forgetHelpers(); // of the interpreter that did not restore
  if (createPyodideModule) self._createPyodideModule = createPyodideModule; // no wrapper of a failed restore left
  let tableEnd = null;
  const loaded = startup ? beforePythonStarts(async (Module) => {
    tableEnd = await loadDynlibs(Module, await dynlibs);
  }) : null;
  pyodide = await self.loadPyodide({ ...options, _makeSnapshot: Boolean(cache) });
  const libs = loaded && !loaded.error ? await dynlibs : [];
  if (loaded && loaded.error) console.warn(`nnpy: NumPy's modules did not load ahead (${loaded.error.message})`);
  let made = null;
  if (cache) {
    try {
      if (preimport) pyodide.runPython(PREIMPORT);
      let record = { order: [], tableEnd: null, handles: {} };
      if (libs.length) {
        const before = Object.keys(pyodide._module.LDSO.loadedLibsByName).length;
        await startup.prepare(); // imports NumPy (it finds its modules loaded) and nnpy
        const opened = Object.keys(pyodide._module.LDSO.loadedLibsByName).length - before;
        if (opened) throw new Error(`importing NumPy and nnpy opened ${opened} more extension module(s)`);
        record = dynlibRecord(libs, tableEnd);
      }
      forgetHelpers(); // no proxy of ours is alive in the memory the snapshot copies
      made = { bytes: pyodide.makeMemorySnapshot(), dynlibs: record };
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

// The members of a zip whose entries are all stored (the build stores the page's wheels), as
// [name, bytes] views into `buffer`; null for anything else (compressed members, zip64).
function storedZipMembers(buffer) {
  const data = new Uint8Array(buffer);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let end = data.length - 22; // the end-of-central-directory record, after any comment
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) return null;
  const decoder = new TextDecoder();
  const members = [];
  let at = view.getUint32(end + 16, true); // the central directory
  for (let i = view.getUint16(end + 10, true); i > 0; i--) {
    if (view.getUint32(at, true) !== 0x02014b50 || view.getUint16(at + 10, true) !== 0) return null;
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const local = view.getUint32(at + 42, true);
    const name = decoder.decode(data.subarray(at + 46, at + 46 + nameLength));
    if (name.startsWith("/") || name.split("/").includes("..")) return null;
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (!name.endsWith("/")) members.push([name, data.subarray(start, start + size)]);
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  return members;
}

// A wheel (its bytes, or storedZipMembers' list) into site-packages, but for the members named
// in `skip`. The build's wheels are stored zips: their files are written
// straight from the downloaded bytes (no trip through Python's zipfile, which took a third of a
// second for NumPy); any other wheel goes through Pyodide's unpacker.
function unpackWheel(bytes, skip = null) {
  const members = Array.isArray(bytes) ? bytes : storedZipMembers(bytes);
  if (!members) {
    pyodide.unpackArchive(bytes, "wheel", { extractDir: pyodide._api.sitepackages });
    return;
  }
  const folders = new Set();
  for (const [name, content] of members) {
    if (skip && skip.has(name)) continue;
    const path = `${pyodide._api.sitepackages}/${name}`;
    const folder = path.slice(0, path.lastIndexOf("/"));
    if (!folders.has(folder)) pyodide.FS.mkdirTree(folder);
    folders.add(folder);
    pyodide.FS.writeFile(path, content);
  }
  workerHelpers().forget_folder_listings();
}

// Run the classic script at `url` in this worker: by import(), whose compiled code the browser
// keeps in its code cache from visit to visit (pyodide.asm.js is 1.2 MB of JavaScript, ~70 ms to
// compile; importScripts compiles it anew every visit), else by importScripts (an engine
// without import() in workers).
async function importScript(url) {
  try {
    await import(url);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // the script itself failed
    importScripts(url);
  }
}

// The browser keeps a script's compiled code once it has seen the script load twice (a script
// loaded once may never come back), so by itself a second visit would compile pyodide.asm.js
// again and only the third find it compiled. So a first visit, once idle (its snapshot stored)
// and a second or more after its own import, imports it once more under another fragment (a
// new module for the engine, the same file for the cache), which the next visit then finds
// compiled. The import defines nothing new: the start's function stays the one in use.
async function keepCompiledCode(url, importedAt) {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, importedAt + 1000 - performance.now())));
  const own = self._createPyodideModule;
  try {
    await import(`${url}#nnpy-keep-compiled`);
  } catch {
    // an optimisation only
  } finally {
    self._createPyodideModule = own;
  }
}

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
  async load_model({ data }) {
    return call("load_model", { data, data_sha256: await tensorDataSha256(data) });
  },

  // runtime: {url, files: {name: sha256} | null}; stdlib / wheel / numpy: {url, sha256} (stdlib
  // null: Pyodide's own; numpy null: Pyodide's full NumPy); snapshotKey null: never a snapshot.
  async init({ runtime, stdlib, wheel, numpy, kernelsURL, snapshotKey, sizes }, id) {
    mark("worker");
    refuseWithoutWebAssembly();
    const progress = (stage, extra = {}) => post({ id, event: "progress", data: { stage, ...extra } });
    const versioned = (name) => runtime.url + name + (runtime.files ? `?v=${runtime.files[name].slice(0, 16)}` : "");
    self.fetch = countingFetch((file, loaded, total, done) => {
      if (done && file === "pyodide.asm.wasm") mark("wasm-fetched");
      progress("download", { file, loaded, total });
    }, sizes);
    // Every download starts now, side by side: the runtime's two scripts (pyodide.asm.js run
    // here, so beforePythonStarts can wrap what it defines), its wasm (Pyodide asks for it
    // later, by name: it gets this response), the wheels, the kernel and the stored snapshot.
    const runtimeScripts = Promise.all([importScript(versioned("pyodide.js")), importScript(versioned("pyodide.asm.js"))]);
    runtimeScripts.catch(() => {}); // awaited below
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
    await runtimeScripts;
    const asmImported = performance.now();
    const options = { indexURL: runtime.url, stdLibURL: stdlib ? stdlib.url : versioned("python_stdlib.zip"),
      lockFileURL: versioned("pyodide-lock.json") };
    // The trimmed NumPy's members, and its startup extension modules compiled (off this thread)
    // as soon as its bytes are here: loaded before Python starts, so a snapshot can hold NumPy
    // imported (see NUMPY_STARTUP_DYNLIBS). Python starts meanwhile: it waits for them only
    // where it must.
    const numpyParts = numpy ? numpyBytes.then((bytes) => {
      mark("numpy-fetched");
      const members = storedZipMembers(bytes) || bytes;
      const python = /-cp(\d)(\d+)-/.exec(numpy.url);
      const dynlibs = python && Array.isArray(members)
        ? startupDynlibs(members, `/lib/python${python[1]}.${python[2]}/site-packages`) : [];
      for (const lib of dynlibs) lib.module.catch(() => {}); // awaited when Python starts
      return { members, dynlibs };
    }) : null;
    const startup = numpy ? { dynlibs: numpyParts.then((parts) => parts.dynlibs), prepare: () => prepareNnpy() } : null;
    for (const pending of [numpyParts, startup && startup.dynlibs]) if (pending) pending.catch(() => {}); // awaited below
    // What Python needs before `import numpy`, then the import; each step once (a cold start
    // takes them before its snapshot, a restored one finds NumPy imported and only unpacks its
    // files, which the snapshot cannot hold).
    let stdlibReady = false;
    let numpyUnpacked = false;
    let nnpyUnpacked = false;
    const prepareStdlib = () => {
      if (stdlibReady || !stdlib) return;
      // the whole library's sha256 when the manifest names Pyodide's files (else, from a CDN, None)
      const full = runtime.files ? runtime.files["python_stdlib.zip"] : null;
      workerHelpers().standard_library_rest(versioned("python_stdlib.zip"), full);
      stdlibReady = true;
    };
    // `skipImported`: restored with NumPy imported, its modules are in memory and only the files
    // of those it has not imported yet (numpy.random, ...) are needed
    const unpackNumpy = async (skipImported = false) => writeNumpy((await numpyParts).members, skipImported);
    const writeNumpy = (members, skipImported) => {
      if (numpyUnpacked) return;
      let imported = null;
      if (skipImported) {
        const files = workerHelpers().imported_files();
        imported = new Set(files.toJs());
        files.destroy();
      }
      unpackWheel(members, imported);
      numpyUnpacked = true;
      workerHelpers().trimmed_numpy_hint();
    };
    const unpackNnpy = async () => writeNnpy(await wheelBytes);
    const writeNnpy = (bytes) => {
      if (!nnpyUnpacked) unpackWheel(bytes);
      nnpyUnpacked = true;
    };
    const prepareNnpy = async () => {
      prepareStdlib();
      await unpackNumpy();
      pyodide.pyimport("numpy").destroy();
      await unpackNnpy();
      pyodide.pyimport("nnpy.web").destroy();
      if (kernelsURL) { // what installKernel imports
        for (const name of ["nnpy.backend.wasm_gemm", "nnpy.backend.wasm_inference"]) pyodide.pyimport(name).destroy();
      }
    };
    const restored = await startPython(options, snapshots, snapshotKey, await snapshot, Boolean(stdlib), startup);
    const { boot, made } = restored;
    mark("python-started");
    if (made) {
      storeWhenIdle(() => storeSnapshot(snapshots, snapshotKey, made).catch((error) =>
        console.warn(`nnpy: the Python snapshot was not stored (${error.message})`))
        .then(() => keepCompiledCode(versioned("pyodide.asm.js"), asmImported)));
    }
    // A crash of Python itself (e.g. the browser's stack overflowing) leaves its promises
    // pending forever: answer every open request instead, so the page can start a new nnpy.
    pyodide._api.on_fatal = (error) => {
      fatal = `Python crashed (${error && error.message}); start nnpy again with nnpy.load()`;
      for (const openId of running) post({ id: openId, ok: false, error: { type: "FatalError", message: fatal } });
      running.clear();
    };
    prepareStdlib();
    mark("stdlib-mounted");
    progress("numpy", { message: "Loading NumPy" });
    const holds = restored.snapshotHolds || [];
    const deferFiles = workerHelpers().files_before_imports; // undefined: a snapshot made without it
    if (numpy && holds.includes("numpy") && holds.includes("nnpy.web") && deferFiles) {
      // written later (FILES_IDLE_MS idle, or the first import): the memory has all a start needs
      const [{ members }, nnpyWheel] = await Promise.all([numpyParts, wheelBytes]);
      pendingFiles = () => {
        workerHelpers().files_written();
        writeNumpy(members, true);
        writeNnpy(nnpyWheel);
      };
      const packages = new Set([...(Array.isArray(members) ? members : []), ...(storedZipMembers(nnpyWheel) || [])]
        .map(([name]) => name.split("/")[0]).filter((name) => !name.endsWith(".dist-info")));
      if (!Array.isArray(members)) packages.add("numpy");
      deferFiles(writeDeferredFiles, [...packages]);
      mark("numpy-unpacked");
    } else if (numpy) {
      await unpackNumpy(holds.includes("numpy"));
      mark("numpy-unpacked");
    } else {
      await pyodide.loadPackage(["numpy"], { messageCallback: () => {}, errorCallback: console.warn });
    }
    if (deferFiles) deferFiles.destroy();
    pyodide.pyimport("numpy").destroy();
    mark("numpy-imported");
    progress("nnpy", { message: "Loading nnpy" });
    if (!pendingFiles) await unpackNnpy();
    const module = pyodide.pyimport("nnpy.web");
    session = module.Session();
    module.destroy();
    mark("nnpy-imported");
    const gemm = await installKernel(await kernel);
    mark("kernel-installed");
    const found = workerHelpers().versions();
    const versions = found.toJs({ dict_converter: Object.fromEntries });
    found.destroy();
    progress("ready", { message: "Ready" });
    return { pyodide: pyodide.version, ...versions, gemm, boot, snapshotHolds: restored.snapshotHolds || null,
      numpyWheel: numpy ? "trimmed" : "full",
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
  warming.requests++; // a run of warm-ups under way stops here; warmUpWhenIdle below resumes it
  try {
    if (fatal) throw Object.assign(new Error(fatal), { type: "FatalError" });
    if (op !== "init" && !session) throw Object.assign(new Error("nnpy is not loaded yet"), { type: "RuntimeError" });
    const result = ops[op] ? await ops[op](args, id) : await call(op, args);
    if (running.delete(id)) post({ id, ok: true, result }, [...collectTransfers(result)]);
    waitForIdle();
    writeFilesWhenIdle();
    if (op !== "dispose") warmUpWhenIdle(result && result.__model__ !== undefined ? result.__model__ : args && args.model);
  } catch (error) {
    if (!running.delete(id)) return; // already answered (a fatal error)
    const type = error.type || error.name || "Error";
    post({ id, ok: false, error: { type, message: error.message, traceback: error.traceback || error.stack } });
  } finally {
    if (op === "init") stopReader(); // a start's reads are over
  }
};
