// What every benchmark page shares. A page defines `window.system` with
//   init() -> info                       load the library (once per page)
//   setup(name) -> {note?}               build workload `name`; bench.py warms it up with a round
//   round(seconds) -> {value} | {samples}  a rate (GFLOP/s, examples/s) or ms per prediction
//   predictOnce()                        one prediction of the workload set up (cold start)
// and includes this file, which starts it: window.ready resolves with init()'s info. With
// ?cold=1 the page instead goes from navigation to its first digit prediction and sets
// window.coldStart to the seconds that took (navigation start is performance.now() = 0);
// window.coldReport() then gives its milestones (bench.mark) and the bytes every file cost.
// A system may define workerResources() -> resource entries of its worker (pages can't see them).
"use strict";

const bench = (() => {
  const params = new URLSearchParams(location.search);
  let settings = null;
  let mnist = null;
  const marks = {}; // milestone -> seconds since navigation, the first time it is reached

  function mark(name, seconds = performance.now() / 1000) {
    if (!(name in marks)) marks[name] = seconds;
  }

  // What each file cost: bytes on the wire (transferSize: headers + body as served, 0 from a
  // cache, ~300 for a 304) and the body compressed (encoded) and not (decoded).
  function resourceBytes(entries) {
    return entries.map((e) => ({ name: e.name, transfer: e.transferSize, encoded: e.encodedBodySize,
      decoded: e.decodedBodySize }));
  }

  async function coldReport() {
    const seconds = await window.coldStart;
    let resources = resourceBytes(performance.getEntriesByType("resource"));
    const [navigation] = resourceBytes(performance.getEntriesByType("navigation"));
    if (window.system.workerResources) resources = resources.concat(await window.system.workerResources());
    const info = await window.ready;
    return { seconds, marks, boot: info && info.boot, resources: [navigation, ...resources] };
  }

  // The shared definitions bench.py wrote (architectures, batch sizes, learning rate).
  async function loadSettings() {
    if (!settings) settings = await (await fetch("/bench-data/architectures.json")).json();
    return settings;
  }

  // Workload `name` with everything a system needs: its spec, the model's architecture (nnpy
  // layer configs), and the shared settings.
  async function workload(name) {
    const s = await loadSettings();
    const spec = s.workloads[name];
    return { name, ...spec, architecture: spec.model && s.models[spec.model], settings: s };
  }

  // The MNIST training pool: x (POOL * 784 floats), y (POOL labels).
  async function loadMnist() {
    if (!mnist) {
      const [x, y] = await Promise.all(["mnist-x.f32", "mnist-y.u8"].map(
        async (name) => (await fetch(`/bench-data/${name}`)).arrayBuffer()));
      mnist = { x: new Float32Array(x), y: new Uint8Array(y), count: new Uint8Array(y).length };
    }
    return mnist;
  }

  // Call step(k) -> units done, for `seconds`; k (work per call) doubles while calls are short,
  // so slow and fast systems alike make many calls per round. Returns units per second.
  async function rate(seconds, step, state) {
    state.k = state.k || 1;
    let units = 0;
    const start = performance.now();
    for (;;) {
      const callStart = performance.now();
      units += await step(state.k);
      const now = performance.now();
      if (now - start >= seconds * 1000) return (units * 1000) / (now - start);
      if (now - callStart < 20 && state.k < (state.maxK || 64)) state.k *= 2;
    }
  }

  // Milliseconds of each of `count` sequential calls of the async `predict`.
  async function latencies(predict, count = 25) {
    const samples = [];
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      await predict();
      samples.push(performance.now() - start);
    }
    return samples;
  }

  // A handwritten-looking "7" on a 280 x 280 canvas (white ink on black, like MNIST), as a
  // sketch pad would hold it.
  function digitCanvas() {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 280;
    const context = canvas.getContext("2d");
    context.fillStyle = "black";
    context.fillRect(0, 0, 280, 280);
    context.strokeStyle = "white";
    context.lineWidth = 22;
    context.lineCap = context.lineJoin = "round";
    context.beginPath();
    context.moveTo(70, 60);
    context.lineTo(210, 62);
    context.lineTo(120, 230);
    context.stroke();
    return canvas;
  }

  // A 64 x 64 colour frame (gradients and a shape), standing in for a webcam frame.
  function frameCanvas(size = 64) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const context = canvas.getContext("2d");
    const gradient = context.createLinearGradient(0, 0, size, size);
    gradient.addColorStop(0, "#c84");
    gradient.addColorStop(1, "#38c");
    context.fillStyle = gradient;
    context.fillRect(0, 0, size, size);
    context.fillStyle = "#eb9";
    context.fillRect(size / 4, size / 3, size / 5, size / 3);
    return canvas;
  }

  // The wasm files this page fetched (which TF.js binary loaded).
  function wasmFiles() {
    return performance.getEntriesByType("resource").map((entry) => entry.name)
      .filter((name) => name.split("?")[0].endsWith(".wasm"))
      .map((name) => name.split("?")[0].split("/").pop());
  }

  function start() {
    window.ready = window.system.init();
    if (params.get("cold")) {
      window.coldStart = (async () => {
        await window.ready;
        mark("ready");
        await window.system.setup("digits-predict");
        mark("model");
        await window.system.predictOnce();
        mark("predict");
        return performance.now() / 1000;
      })();
      window.coldReport = coldReport;
    }
  }

  return { params, mark, resourceBytes, workload, loadMnist, rate, latencies, digitCanvas, frameCanvas,
    wasmFiles, start };
})();
