// nnpy.js - deep learning on the user's own device, from one <script> tag.
//
//   <script src="https://YOUR-HOST/web/nnpy.js"></script>
//   const nn = await nnpy.load({ onProgress: (p) => console.log(p.stage, p.file, p.loaded) });
//   await nn.exec("1 + 1");                              // 2 (Python runs in a Web Worker)
//   const model = await nn.loadModel("web/models/digits.safetensors");
//   const { label, probabilities } = await model.predict(canvas);
//
// Every URL defaults to where this script came from: the wheel and its manifest beside it, the
// vendored Pyodide at ../pyodide/ (else the official CDN). A classic script; `import` works too.
// The elements a page uses (<nnpy-sketchpad>, <nnpy-network>, <nnpy-webcam-classifier>,
// <nnpy-sound-classifier>) are ES modules under elements/, imported from here when their tag is on
// the page; they all share one worker, `nnpy.shared()`.
//
// Longer than 400 lines because a classic script cannot import, so everything the
// one-tag API needs synchronously (the client, the Model, turning an image into pixels, IndexedDB)
// lives in this file; everything else is a module that takes these from `window.nnpy`.
(function (root) {
  "use strict";

  const VERSION = "0.2.0";
  const PYODIDE_VERSION = "0.27.7";
  const PYODIDE_CDN = `https://cdn.jsdelivr.net/pyodide/v${PYODIDE_VERSION}/full/`;
  const SCRIPT_URL = findScriptURL();

  function findScriptURL() {
    const current = typeof document !== "undefined" && document.currentScript;
    if (current && current.src) return current.src;
    // Imported as a module (no currentScript): our own URL is in a stack trace.
    const match = /(https?:\/\/[^\s()]+?\/nnpy\.js)/.exec(new Error().stack || "");
    if (match) return match[1];
    return new URL("web/nnpy.js", root.location ? root.location.href : "http://localhost/").href;
  }

  // ---- errors ---------------------------------------------------------------------------------

  // A Python exception becomes an Error whose name is the Python type (e.g. "ZeroDivisionError").
  function toError({ type, message, traceback }) {
    const error = new Error(message);
    error.name = type || "Error";
    if (traceback) error.pythonTraceback = traceback;
    return error;
  }

  function abortError() {
    return toError({ type: "AbortError", message: "training was cancelled" });
  }

  // ---- values crossing to and from the worker --------------------------------------------------

  const TYPED_ARRAYS = {
    float32: Float32Array, float64: Float64Array, int8: Int8Array, uint8: Uint8Array,
    int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
    int64: BigInt64Array,
  };
  const DTYPE_OF = new Map(Object.entries(TYPED_ARRAYS).map(([name, type]) => [type, name]));
  DTYPE_OF.set(Uint8ClampedArray, "uint8");

  // NumPy arrays arrive as {__ndarray__: dtype, shape, data: Uint8Array}: make a typed array with
  // a `shape` property; models arrive as {__model__: handle, ...}: make a Model.
  function decode(value, client) {
    if (!value || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
    if (Array.isArray(value)) return value.map((item) => decode(item, client));
    if (value.__ndarray__) {
      const Type = TYPED_ARRAYS[value.__ndarray__];
      const bytes = value.data.byteOffset % Type.BYTES_PER_ELEMENT ? value.data.slice() : value.data;
      const array = new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT);
      array.shape = value.shape;
      return array;
    }
    if (value.__model__) return new Model(client, value);
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = decode(item, client);
    return out;
  }

  // A typed array or (nested) array of numbers -> {data, dtype, shape} with a copy of the data.
  function toTensor(value) {
    if (ArrayBuffer.isView(value)) {
      const dtype = DTYPE_OF.get(value.constructor);
      if (!dtype) throw new TypeError(`unsupported array type ${value.constructor.name}`);
      return { data: value.slice(), dtype, shape: value.shape || [value.length] };
    }
    if (Array.isArray(value)) {
      const shape = [];
      for (let level = value; Array.isArray(level); level = level[0]) shape.push(level.length);
      const data = Float32Array.from(value.flat(Infinity));
      if (data.length !== shape.reduce((a, b) => a * b, 1)) {
        throw new TypeError(`ragged nested array: shape ${JSON.stringify(shape)} but ${data.length} numbers`);
      }
      return { data, dtype: "float32", shape };
    }
    throw new TypeError("expected a typed array, an array of numbers, or an image source");
  }

  function isImageSource(value) {
    return ["HTMLCanvasElement", "OffscreenCanvas", "HTMLImageElement", "HTMLVideoElement",
      "ImageBitmap", "ImageData", "SVGImageElement", "VideoFrame"]
      .some((name) => typeof root[name] === "function" && value instanceof root[name]);
  }

  function newCanvas(width, height) {
    if (typeof OffscreenCanvas === "function") return new OffscreenCanvas(width, height);
    return Object.assign(document.createElement("canvas"), { width, height });
  }

  function sourceSize(source) {
    return [source.videoWidth || source.naturalWidth || source.displayWidth || source.width,
      source.videoHeight || source.naturalHeight || source.displayHeight || source.height];
  }

  // The size the worker gets an image at: the model's input size, or for "mnist-digit" the whole
  // drawing (at most MAX_DRAWING_SIDE a side), which Python crops to the ink and centres like MNIST.
  function targetSize(source, spec) {
    if (spec.preprocess === "mnist-digit") {
      const [width, height] = sourceSize(source);
      const shrink = Math.min(1, MAX_DRAWING_SIDE / Math.max(width, height));
      return [Math.max(1, Math.round(width * shrink)), Math.max(1, Math.round(height * shrink))];
    }
    if (!spec.width || !spec.height) throw new TypeError("this model takes vectors, not images: pass a Float32Array");
    return [spec.width, spec.height];
  }

  // A drawing's longest side as the worker gets it: large enough that thin strokes survive the
  // shrink (the digit ends up 20 pixels tall), small enough to cross to the worker and be read
  // by Python quickly (it is what <nnpy-sketchpad> sends too; 280 took Python 3x as long).
  const MAX_DRAWING_SIDE = 140;

  /** Draw an image source at width x height (centre-cropped to that aspect ratio) on `canvas` and
   *  read it back: an ImageData (RGBA). The worker turns such pixels into greyscale/RGB floats per
   *  the input spec; the webcam element reads its frames with it too. */
  function readImage(source, width, height, canvas = newCanvas(width, height)) {
    if (source instanceof ImageData) {
      const staging = newCanvas(source.width, source.height);
      staging.getContext("2d").putImageData(source, 0, 0);
      source = staging;
    }
    const [sourceWidth, sourceHeight] = sourceSize(source);
    if (!sourceWidth || !sourceHeight) throw new TypeError("the image source has no pixels yet (still loading?)");
    const scale = Math.min(sourceWidth / width, sourceHeight / height);
    const cropWidth = width * scale;
    const cropHeight = height * scale;
    if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
    const context = canvas.getContext("2d", { willReadFrequently: true });
    // Shrinking at most 2x, bilinear ("low") already weighs in every source pixel (at exactly 2x
    // it is the 2x2 average) and costs a third of "high", which a larger shrink needs so thin
    // strokes do not fall between samples.
    context.imageSmoothingQuality = scale <= 2 ? "low" : "high";
    context.drawImage(source, (sourceWidth - cropWidth) / 2, (sourceHeight - cropHeight) / 2,
      cropWidth, cropHeight, 0, 0, width, height);
    return context.getImageData(0, 0, width, height);
  }

  // One canvas per size to draw predictions' images on, kept: making a canvas and its context
  // for every frame cost about as much as reading its pixels (getImageData copies them out).
  const scratchCanvases = new Map();
  function scratchCanvas(width, height) {
    const key = `${width}x${height}`;
    let canvas = scratchCanvases.get(key);
    if (!canvas) {
      if (scratchCanvases.size >= 4) scratchCanvases.clear();
      canvas = newCanvas(width, height);
      scratchCanvases.set(key, canvas);
    }
    return canvas;
  }

  // One image source, a list of them, or numbers -> what the worker's `inputs` argument expects.
  function toInputs(value, spec, overrides) {
    const list = Array.isArray(value) && value.length && isImageSource(value[0]) ? value : null;
    if (!list && !isImageSource(value)) return toTensor(value);
    const images = list || [value];
    const [width, height] = targetSize(images[0], spec);
    if (images.length === 1) { // the canvas's own pixels cross to the worker (transferred, no copy)
      const { data } = readImage(images[0], width, height, scratchCanvas(width, height));
      return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, count: 1, spec: overrides };
    }
    const pixels = new Uint8Array(width * height * 4 * images.length);
    images.forEach((image, i) => pixels.set(readImage(image, width, height).data, i * width * height * 4));
    return { pixels, width, height, count: images.length, spec: overrides };
  }

  function toLabels(labels) {
    if (Array.isArray(labels) && labels.length && typeof labels[0] === "string") return labels;
    const tensor = toTensor(labels);
    return tensor.dtype === "float32" && !ArrayBuffer.isView(labels)
      ? { ...tensor, data: Float64Array.from(tensor.data), dtype: "float64" } : tensor;
  }

  // Python's keys (val_loss, stopped_epoch) -> the JS API's (valLoss, stoppedEpoch), one level deep.
  function camelKeys(object) {
    const camel = (key) => key.replace(/_([a-z])/g, (_, letter) => letter.toUpperCase());
    return Object.fromEntries(Object.entries(object).map(([key, value]) => [camel(key), value]));
  }

  function transfersOf(value, out = new Set()) {
    if (ArrayBuffer.isView(value)) out.add(value.buffer);
    else if (value && typeof value === "object") Object.values(value).forEach((v) => transfersOf(v, out));
    return [...out];
  }

  // ---- IndexedDB: models saved in this browser as their .safetensors bytes ----------------------

  const DB_NAME = "nnpy";
  const STORE = "models";

  // `place` picks another database/store (the webcam trainer keeps its projects apart).
  function openDB({ database = DB_NAME, store = STORE } = {}) {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(database, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(store);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  // One transaction: either it commits completely or the previous value stays.
  async function withStore(mode, action, place = {}) {
    const db = await openDB(place);
    try {
      return await new Promise((resolve, reject) => {
        const transaction = db.transaction(place.store || STORE, mode);
        const request = action(transaction.objectStore(place.store || STORE));
        transaction.oncomplete = () => resolve(request.result);
        transaction.onerror = transaction.onabort = () =>
          reject(transaction.error || new Error("the IndexedDB transaction was aborted"));
      });
    } finally {
      db.close();
    }
  }

  /** Offer `bytes` to the user as a file download. */
  function downloadBytes(bytes, filename) {
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const link = Object.assign(document.createElement("a"), { href: url, download: filename });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function savedName(url) {
    const match = /^indexeddb:\/\/(.+)$/.exec(url);
    if (!match) throw new TypeError(`expected "indexeddb://NAME", got ${JSON.stringify(url)}`);
    return match[1];
  }

  async function loadSaved(name) {
    const record = await withStore("readonly", (store) => store.get(name));
    if (record === undefined) throw toError({ type: "NotFoundError", message: `no model saved as "indexeddb://${name}" in this browser` });
    const bytes = record && record.bytes;
    const length = bytes instanceof ArrayBuffer || ArrayBuffer.isView(bytes) ? bytes.byteLength : -1;
    if (length <= 0) {
      let found = "a record without model bytes";
      if (record === null || typeof record !== "object") found = `${record === null ? "null" : `a ${typeof record}`} instead of a record`;
      else if (length === 0) found = "an empty model";
      throw toError({ type: "ModelFormatError", message: `the model saved as "indexeddb://${name}" is damaged (the browser holds ${found}); delete it with nn.deleteModel("indexeddb://${name}") and save the model again` });
    }
    return bytes;
  }

  // fetch(url), where a refused or failed connection (a bare "Failed to fetch") names the URL.
  async function fetchURL(url) {
    let response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw toError({ type: "NetworkError", message: `${url}: the connection failed (${error.message}); check the address, that the server is running, and that it sends Access-Control-Allow-Origin if it is on another origin` });
    }
    if (!response.ok) throw toError({ type: "NetworkError", message: `${url}: HTTP ${response.status} ${response.statusText}` });
    return response;
  }

  // ---- the page side of the worker protocol ------------------------------------------------------

  function startWorker(url) {
    if (url.origin === root.location.origin) return { worker: new Worker(url), blobURL: null };
    // A page may not start a Worker from another origin's URL; a blob: worker that imports the
    // real script may (importScripts is allowed cross-origin, like <script src>).
    const blob = new Blob([`importScripts(${JSON.stringify(url.href)});`], { type: "text/javascript" });
    const blobURL = URL.createObjectURL(blob);
    return { worker: new Worker(blobURL), blobURL };
  }

  // A Client is an EventTarget: "crash" fires once when Python itself has crashed (e.g. its stack
  // overflowed) or the worker died. Every pending call is rejected, the worker is ended, and
  // nnpy.shared() starts a new one on its next call; the elements listen and reload what they had.
  class Client extends EventTarget {
    constructor(worker, baseURL) {
      super();
      this.worker = worker;
      this.baseURL = baseURL;
      this.pending = new Map();
      this.nextId = 1;
      this.crashed = null; // the error, once Python has crashed
      this.preloaded = new Map(); // URL -> fetch started by load({preload}), used once
      worker.onmessage = (event) => this._receive(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        this._crash(toError({ type: "FatalError", message: `the nnpy worker failed: ${event.message || "could not load worker.js"}` }));
      };
    }

    _receive(message) {
      const request = this.pending.get(message.id);
      if (!request) return;
      if (message.event) {
        if (request.onEvent) request.onEvent(message.event, message.data);
        return;
      }
      this.pending.delete(message.id);
      if (message.ok) request.resolve(decode(message.result, this));
      else request.reject(toError(message.error));
      if (!message.ok && message.error.type === "FatalError") this._crash(toError(message.error));
    }

    _crash(error) {
      if (this.crashed) return;
      this.crashed = error; // what every later call is told
      this._failAll(error);
      this.terminate();
      this.dispatchEvent(Object.assign(new Event("crash"), { error }));
    }

    _failAll(error) {
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
    }

    // Send {id, op, args}; resolves with the decoded result. `signal` (an AbortSignal) cancels.
    request(op, args, { onEvent, signal } = {}) {
      if (this.crashed) return Promise.reject(this.crashed);
      if (!this.worker) return Promise.reject(toError({ type: "Error", message: "nnpy was terminated" }));
      if (signal && signal.aborted) return Promise.reject(abortError());
      const id = this.nextId++;
      return new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject, onEvent });
        if (signal) {
          signal.addEventListener("abort", () => this.worker && this.worker.postMessage({ op: "cancel", args: { id } }), { once: true });
        }
        this.worker.postMessage({ id, op, args }, transfersOf(args));
      });
    }

    /** Run Python (nnpy and numpy imported as `nnpy`, `np`); resolves with the last expression. */
    exec(source) {
      return this.request("exec", { source: String(source) });
    }

    /** A model from a URL, a File/Blob, an ArrayBuffer/typed array, or "indexeddb://NAME".
     *  A URL ending in .json is a TF.js layers model (e.g. a Teachable Machine export): its
     *  weight shards and metadata.json are fetched from beside it. */
    async loadModel(source) {
      let bytes;
      if (typeof source === "string" && source.startsWith("indexeddb://")) {
        bytes = await loadSaved(savedName(source));
      } else if (typeof source === "string" || source instanceof URL) {
        const url = new URL(source, root.document ? document.baseURI : this.baseURL);
        if (url.pathname.endsWith(".json")) return this._loadTfjs(url);
        const early = this.preloaded.get(url.href);
        this.preloaded.delete(url.href);
        bytes = await (await (early || fetchURL(url))).arrayBuffer();
      } else if (source instanceof Blob) {
        bytes = await source.arrayBuffer();
      } else if (source instanceof ArrayBuffer) {
        bytes = source.slice(0);
      } else if (ArrayBuffer.isView(source)) {
        bytes = source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength);
      } else {
        throw new TypeError("loadModel expects a URL, a File/Blob, an ArrayBuffer or 'indexeddb://NAME'");
      }
      return this.request("load_model", { data: new Uint8Array(bytes) });
    }

    /** model.json, the shards its weightsManifest names and (if there) metadata.json, all
     *  fetched here and handed to the worker as bytes. */
    async _loadTfjs(url) {
      const fetchBytes = async (where) => new Uint8Array(await (await fetchURL(where)).arrayBuffer());
      const modelJson = await fetchBytes(url);
      let manifest = [];
      try {
        manifest = JSON.parse(new TextDecoder().decode(modelJson)).weightsManifest || [];
      } catch (error) {
        // not JSON: the worker says what is wrong with it
      }
      const paths = new Set();
      for (const group of Array.isArray(manifest) ? manifest : []) {
        for (const path of Array.isArray(group && group.paths) ? group.paths : []) paths.add(String(path));
      }
      const shards = {};
      await Promise.all([...paths].map(async (path) => { shards[path] = await fetchBytes(new URL(path, url)); }));
      const metadataResponse = await fetch(new URL("metadata.json", url)).catch(() => null);
      const metadata = metadataResponse && metadataResponse.ok ? new Uint8Array(await metadataResponse.arrayBuffer()) : null;
      return this.request("load_tfjs", { model_json: modelJson, shards, metadata });
    }

    /** Names of the models saved in this browser ("indexeddb://NAME" without the prefix). */
    savedModels() {
      return withStore("readonly", (store) => store.getAllKeys());
    }

    /** Forget a model saved in this browser: deleteModel("indexeddb://NAME"). */
    deleteModel(url) {
      const name = savedName(url);
      return withStore("readwrite", (store) => store.delete(name));
    }

    terminate() {
      if (!this.worker) return;
      this.worker.terminate();
      this.worker = null;
      this._failAll(toError({ type: "Error", message: "nnpy was terminated" }));
    }
  }

  class Model {
    constructor(client, info) {
      this.client = client;
      this.handle = info.__model__;
      this.labels = info.labels || null;
      this.input = info.input || null; // {height, width, channels, scale, invert} for images
      this.inputShape = info.input_shape || null;
      this.card = info.card || null; // the model file's card: {accuracy, data, ...} as strings
    }

    _call(op, args = {}, options) {
      return this.client.request(op, { model: this.handle, ...args }, options);
    }

    /** Probabilities for one input (image source or numbers): {probabilities, label, index}.
     *  `options` override the input spec for this call, e.g. {invert: true}. */
    predict(input, options = {}) {
      const spec = { ...(this.input || {}), ...options };
      return this._call("predict", { inputs: toInputs(input, spec, options) });
    }

    /** Train in the worker; resolves with the history {loss: [...], accuracy: [...], valLoss:
     *  [...], ...}. An AbortSignal in `signal` cancels (the promise rejects with an AbortError; the
     *  weights keep what they learnt so far). */
    async fit(inputs, labels, { epochs = 1, batchSize = 32, validationSplit = 0, shuffle = true, seed,
      onBatch, onEpoch, signal, ...options } = {}) {
      const onEvent = (event, data) => {
        if (event === "batch" && onBatch) onBatch(camelKeys(data));
        if (event === "epoch" && onEpoch) onEpoch(camelKeys(data));
      };
      return camelKeys(await this._call("fit", {
        inputs: toInputs(inputs, { ...(this.input || {}), ...options }, options),
        labels: toLabels(labels), epochs, batch_size: batchSize,
        validation_split: validationSplit, shuffle, seed: seed === undefined ? null : seed,
      }, { onEvent, signal }));
    }

    /** The model as .safetensors bytes. */
    async toBytes() {
      return this._call("to_bytes");
    }

    /** Save into this browser: save("indexeddb://NAME"). A failed save keeps the previous one. */
    async save(url) {
      const name = savedName(url);
      const bytes = await this.toBytes();
      await withStore("readwrite", (store) => store.put({ bytes, savedAt: Date.now(), size: bytes.byteLength }, name));
      return { url, bytes: bytes.byteLength };
    }

    /** Offer the model to the user as a .safetensors download; download("tfjs") offers a
     *  TF.js layers model instead (model.json and weights.bin) for tf.loadLayersModel. */
    async download(filename = "model.safetensors") {
      if (filename === "tfjs") {
        const { model_json: modelJson, weights } = await this._call("to_tfjs");
        downloadBytes(new TextEncoder().encode(modelJson), "model.json");
        downloadBytes(weights, "weights.bin");
        return;
      }
      downloadBytes(await this.toBytes(), filename);
    }

    /** The layer table, as text. */
    summary() {
      return this._call("summary");
    }

    /** Free the model in the worker. */
    dispose() {
      return this._call("dispose");
    }
  }

  // ---- loading ------------------------------------------------------------------------------------

  async function fetchJSON(url) {
    const response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) throw toError({ type: "NetworkError", message: `${url}: HTTP ${response.status} (run "python build.py" to make the site)` });
    return response.json();
  }

  async function hasVendoredPyodide(baseURL) {
    try {
      return (await fetch(new URL("pyodide/pyodide.js", baseURL), { method: "HEAD" })).ok;
    } catch {
      return false;
    }
  }

  // A file the manifest names, at a URL that names its content (so hosts may cache it for good).
  function versionedFile(path, sha256, manifestURL) {
    return { url: `${new URL(path, manifestURL)}?v=${sha256.slice(0, 16)}`, sha256 };
  }

  // file name -> bytes unpacked, from the manifest: progress has a total even when the host
  // compresses (the browser then does not know a file's size until it has it all).
  function fileSizes(manifest, runtime) {
    const sizes = runtime.files ? { ...(manifest.pyodide_sizes || {}) } : {};
    for (const key of ["stdlib", "numpy", "nnpy"]) {
      if (manifest[key] && manifest[key].size) sizes[manifest[key].file.split("/").pop()] = manifest[key].size;
    }
    return sizes;
  }

  // Where Pyodide comes from: `pyodideURL`, else the copy vendored beside nnpy (the manifest
  // lists its files with their sha256), else where the manifest says (the npm package names the
  // official CDN: nothing to probe), else the official CDN.
  async function runtimeOf(manifest, base, pyodideURL) {
    if (pyodideURL) return { url: new URL(pyodideURL, root.location.href).href.replace(/\/?$/, "/"), files: null };
    if (manifest.pyodide_files) return { url: new URL("pyodide/", base).href, files: manifest.pyodide_files };
    if (manifest.pyodide_url) return { url: new URL(manifest.pyodide_url, base).href.replace(/\/?$/, "/"), files: null };
    return (await hasVendoredPyodide(base)) ? { url: new URL("pyodide/", base).href, files: null }
      : { url: PYODIDE_CDN, files: null };
  }

  // The stored Python snapshot is only ever used with exactly the files it was made with.
  function snapshotKey(runtime, stdlib, wheel, numpy) {
    const files = runtime.files ? Object.keys(runtime.files).sort().map((name) => runtime.files[name].slice(0, 12))
      : [runtime.url];
    return [`pyodide-${PYODIDE_VERSION}`, `nnpy-${VERSION}`, files.join("."),
      stdlib ? stdlib.sha256.slice(0, 12) : "stdlib", wheel.sha256.slice(0, 12),
      numpy ? numpy.sha256.slice(0, 12) : "numpy-full"].join("/");
  }

  /** Start the worker and load Pyodide, NumPy and nnpy. Resolves with a Client:
   *  {exec, loadModel, savedModels, terminate, info}; info.gemm names the matrix-product engine:
   *  "wasm-simd-relaxed" | "wasm-simd" (web/kernels/, or `kernelsURL`) | "numpy" (`kernelsURL:
   *  false`, or no WebAssembly SIMD); info.boot says how Python started: "cold", or "snapshot"
   *  (restored from the snapshot a previous visit stored, with NumPy and nnpy imported in it:
   *  info.snapshotHolds; `snapshot: false` never uses or makes one). `numpy: "full"` loads all of Pyodide's NumPy instead of the trimmed wheel
   *  (which leaves out numpy.polynomial). `preload: [url, ...]`: model files to download while
   *  Python starts; `nn.loadModel(url)` then uses them. Progress:
   *  onProgress({stage, message}) for the stages "manifest", "runtime", "numpy", "nnpy",
   *  "ready", and onProgress({stage: "download", file, loaded, total}) while files arrive
   *  (bytes unpacked; total 0 when neither the server nor the manifest says). */
  async function load({ baseURL, pyodideURL, kernelsURL, onProgress, snapshot = true, numpy = "trimmed",
    preload = [] } = {}) {
    const report = onProgress || (() => {});
    const base = new URL(baseURL || new URL("..", SCRIPT_URL), root.location.href);
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    // The worker script downloads and starts while the manifest arrives.
    const { worker, blobURL } = startWorker(new URL("web/worker.js", base));
    const client = new Client(worker, base.href);
    // Models the page will load download while Python starts (loadModel(url) takes them).
    for (const source of preload) {
      const url = new URL(source, root.document ? document.baseURI : base.href).href;
      const pending = fetchURL(url);
      pending.catch(() => {}); // loadModel reports it
      client.preloaded.set(url, pending);
    }
    try {
      report({ stage: "manifest", message: "Finding nnpy" });
      const manifestURL = new URL("web/nnpy-manifest.json", base);
      const manifest = await fetchJSON(manifestURL);
      const runtime = await runtimeOf(manifest, base, pyodideURL);
      // the wheels and the standard library compiled to bytecode, where the build made them
      const wheel = manifest.nnpy ? versionedFile(manifest.nnpy.file, manifest.nnpy.sha256, manifestURL)
        : versionedFile(manifest.wheel, manifest.wheel_sha256, manifestURL);
      const trimmed = numpy !== "full" && manifest.numpy
        ? versionedFile(manifest.numpy.file, manifest.numpy.sha256, manifestURL) : null;
      const stdlib = manifest.stdlib ? versionedFile(manifest.stdlib.file, manifest.stdlib.sha256, manifestURL) : null;
      // kernelsURL: false keeps every matrix product in NumPy (for comparisons)
      const kernels = kernelsURL === false ? null
        : (kernelsURL ? new URL(kernelsURL, root.location.href) : new URL("web/kernels/", base)).href.replace(/\/?$/, "/");
      client.info = await client.request("init", {
        runtime, stdlib, wheel, numpy: trimmed, kernelsURL: kernels, sizes: fileSizes(manifest, runtime),
        snapshotKey: snapshot ? snapshotKey(runtime, stdlib, wheel, trimmed) : null,
      }, { onEvent: (event, data) => report(data) });
      client.info.pyodideURL = runtime.url;
    } catch (error) {
      client.terminate();
      throw error;
    } finally {
      if (blobURL) URL.revokeObjectURL(blobURL);
    }
    return client;
  }

  // ---- the page's one worker ----------------------------------------------------------------------

  let sharedClient = null;
  const sharedListeners = new Set();

  /** The page's one nnpy worker, started by the first call (with its options); every element
   *  uses it unless it is given a client of its own. `onProgress` listens from any call on. */
  function shared({ onProgress, ...options } = {}) {
    if (onProgress) sharedListeners.add(onProgress);
    if (!sharedClient) {
      const started = load({ ...options, onProgress: (p) => sharedListeners.forEach((listen) => listen(p)) });
      const forget = () => { if (sharedClient === started) sharedClient = null; }; // the next call starts afresh
      started.then((client) => client.addEventListener("crash", forget), forget);
      sharedClient = started;
    }
    return sharedClient;
  }

  if (root.nnpy && root.nnpy.load) return; // included twice (a tag and an import): the first stays
  const nnpy = {
    version: VERSION, pyodideVersion: PYODIDE_VERSION, scriptURL: SCRIPT_URL, load, shared, Model,
    // for the elements and for page features of their own: one image reader, bytes kept or offered
    newCanvas, readImage, withStore, downloadBytes,
  };
  root.nnpy = nnpy;
  if (typeof module === "object" && module.exports) module.exports = nnpy;

  // ---- custom elements: a page that includes only this script may use nnpy's tags -----------
  // tag -> the module beside this script that defines it (imported once the tag is on the page)
  const ELEMENT_MODULES = {
    "nnpy-sketchpad": "elements/sketchpad/index.js",
    "nnpy-network": "elements/network/index.js",
    "nnpy-webcam-classifier": "elements/webcam-classifier/index.js",
    "nnpy-sound-classifier": "elements/sound-classifier/index.js",
  };
  const importing = new Set();
  function importElements() {
    for (const [tag, file] of Object.entries(ELEMENT_MODULES)) {
      if (customElements.get(tag) || importing.has(file) || !document.querySelector(tag)) continue;
      importing.add(file);
      import(new URL(file, SCRIPT_URL).href)
        .catch((error) => console.error(`nnpy: ${file} did not load: ${error.message}`));
    }
    return Object.values(ELEMENT_MODULES).every((file) => importing.has(file));
  }
  if (typeof document !== "undefined" && typeof customElements !== "undefined") {
    const start = () => {
      if (importElements()) return;
      const observer = new MutationObserver(() => { // tags added later load their modules too
        if (importElements()) observer.disconnect();
      });
      observer.observe(document.documentElement, { childList: true, subtree: true });
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }
})(typeof globalThis !== "undefined" ? globalThis : this);
