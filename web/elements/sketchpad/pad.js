// sketchpad.js — draw with a mouse, a finger or a pen, and let a model read the drawing live.
//
//   <script src="…/web/nnpy.js"></script>
//   <script src="…/web/sketchpad.js"></script>
//   <nnpy-sketchpad model="…/web/models/digits.safetensors"></nnpy-sketchpad>
//
// or, on your own canvas:
//
//   const pad = new nnpy.SketchPad(canvas, { onChange: () => predictor.request() });
//   pad.undo(); pad.clear(); pad.toPixels(140);   // RGBA of the drawing, alpha = ink
//
// The pad is transparent and the ink is its alpha, which is what `nnpy.data.prepare_digit`
// reads as ink whatever the colour. Strokes are kept (in pad units, 0..1) so undo and resizing
// redraw them exactly.
(function (root) {
  "use strict";

  const nnpy = root.nnpy || (root.nnpy = {});

  // ---- the pad ---------------------------------------------------------------------------------

  class SketchPad {
    /** `lineWidth` is a fraction of the pad's side (MNIST strokes are about a tenth of it). */
    constructor(canvas, { lineWidth = 0.1, color = "#1b1f3b", onChange = null } = {}) {
      this.canvas = canvas;
      this.lineWidth = lineWidth;
      this.color = color;
      this.onChange = onChange;
      this.strokes = []; // [{points: [[x, y, width factor], ...]}], x and y in 0..1
      this.version = 0; // +1 on every change, so a reader knows which drawing it answered
      this.pointerId = null;
      canvas.style.touchAction = "none"; // the page must not scroll or zoom while drawing
      canvas.addEventListener("pointerdown", (event) => this._down(event));
      canvas.addEventListener("pointermove", (event) => this._move(event));
      canvas.addEventListener("pointerup", (event) => this._up(event));
      canvas.addEventListener("pointercancel", (event) => this._up(event));
      canvas.addEventListener("keydown", (event) => {
        if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); this.undo(); }
      });
      if (typeof ResizeObserver === "function") new ResizeObserver(() => this.resize()).observe(canvas);
      this.resize();
    }

    get isEmpty() {
      return this.strokes.length === 0;
    }

    /** Match the canvas's pixels to its size on screen (sharp on high-DPI screens) and redraw. */
    resize() {
      const ratio = Math.min(root.devicePixelRatio || 1, 3);
      const side = Math.round((this.canvas.clientWidth || this.canvas.width) * ratio);
      if (side > 0 && (this.canvas.width !== side || this.canvas.height !== side)) {
        this.canvas.width = this.canvas.height = side;
      }
      this.redraw();
    }

    undo() {
      if (!this.strokes.length) return;
      this.strokes.pop();
      this._changed("undo");
    }

    clear() {
      if (!this.strokes.length) return;
      this.strokes = [];
      this._changed("clear");
    }

    redraw() {
      const context = this.canvas.getContext("2d");
      context.clearRect(0, 0, this.canvas.width, this.canvas.height);
      for (const stroke of this.strokes) drawStroke(context, stroke.points, this.canvas.width, this.lineWidth, this.color);
    }

    /** The drawing as RGBA bytes at `side` x `side` pixels (drawn afresh at that size, so it does
     *  not depend on the screen's pixel ratio): {pixels, width, height}. */
    toPixels(side = 140) {
      const canvas = newCanvas(side, side);
      const context = canvas.getContext("2d", { willReadFrequently: true });
      for (const stroke of this.strokes) drawStroke(context, stroke.points, side, this.lineWidth, "#000");
      return { pixels: new Uint8Array(context.getImageData(0, 0, side, side).data.buffer), width: side, height: side };
    }

    _point(event) {
      const box = this.canvas.getBoundingClientRect();
      // a pen's pressure thickens the ink a little; a mouse reports 0.5 while pressed
      const width = event.pointerType === "pen" ? 0.6 + 0.8 * (event.pressure || 0.5) : 1;
      return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height, width];
    }

    _down(event) {
      if (this.pointerId !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
      event.preventDefault();
      this.canvas.focus({ preventScroll: true });
      this.pointerId = event.pointerId;
      this.canvas.setPointerCapture(event.pointerId);
      this.strokes.push({ points: [this._point(event)] });
      this._drawTail();
      this._changed("draw");
    }

    _move(event) {
      if (event.pointerId !== this.pointerId) return;
      const points = this.strokes[this.strokes.length - 1].points;
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const each of events.length ? events : [event]) {
        points.push(this._point(each));
        this._drawTail();
      }
      this._changed("draw");
    }

    _up(event) {
      if (event.pointerId !== this.pointerId) return;
      this.pointerId = null;
      const points = this.strokes[this.strokes.length - 1].points;
      points.push(this._point(event));
      this.redraw(); // the final stroke ends on its last point exactly
      this._changed("end");
    }

    // While drawing, only the newest piece of the stroke is painted: the cost per pointer event
    // stays constant however long the drawing gets.
    _drawTail() {
      const points = this.strokes[this.strokes.length - 1].points;
      drawPiece(this.canvas.getContext("2d"), points, points.length - 1, this.canvas.width, this.lineWidth, this.color);
    }

    _changed(reason) {
      this.version += 1;
      if (this.onChange) this.onChange({ reason, version: this.version });
    }
  }

  // A stroke is smoothed by quadratic curves: each piece runs from the midpoint of two samples to
  // the next midpoint, bending toward the sample between them. Pieces share their ends, and round
  // caps hide the joins, so drawing it piece by piece and all at once look the same.
  function drawPiece(context, points, i, side, lineWidth, color) {
    const at = (k) => points[Math.max(0, Math.min(points.length - 1, k))];
    const mid = (a, b) => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
    const [x, y, width] = at(i);
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = color;
    context.fillStyle = color;
    context.lineWidth = lineWidth * side * width;
    context.beginPath();
    if (i === 0) { // a dot: a touch that does not move still leaves ink
      context.arc(x * side, y * side, (lineWidth * side * width) / 2, 0, 2 * Math.PI);
      context.fill();
      return;
    }
    const start = i === 1 ? at(0) : mid(at(i - 2), at(i - 1));
    const end = mid(at(i - 1), at(i));
    context.moveTo(start[0] * side, start[1] * side);
    context.quadraticCurveTo(at(i - 1)[0] * side, at(i - 1)[1] * side, end[0] * side, end[1] * side);
    context.stroke();
  }

  function drawStroke(context, points, side, lineWidth, color) {
    for (let i = 0; i < points.length; i++) drawPiece(context, points, i, side, lineWidth, color);
    if (points.length > 1) { // the last half-piece, from the final midpoint to the final sample
      const a = points[points.length - 2], b = points[points.length - 1];
      context.beginPath();
      context.moveTo(((a[0] + b[0]) / 2) * side, ((a[1] + b[1]) / 2) * side);
      context.lineTo(b[0] * side, b[1] * side);
      context.stroke();
    }
  }

  function newCanvas(width, height) {
    if (typeof OffscreenCanvas === "function") return new OffscreenCanvas(width, height);
    return Object.assign(document.createElement("canvas"), { width, height });
  }

  // ---- live predictions ------------------------------------------------------------------------

  /** Runs `predict()` whenever `request()` is called, but never two at once: a request made while
   *  one runs only marks the drawing as changed, and when it finishes the newest drawing is read
   *  (the ones in between are skipped). So drawing never waits for the network.
   *  stats.predictMs: each prediction's round trip; stats.updateMs: from a change of the drawing
   *  to the answer that covers it being shown. */
  class LivePredictor {
    constructor(predict, { onResult, onError } = {}) {
      this.predict = predict;
      this.onResult = onResult || (() => {});
      this.onError = onError || ((error) => console.error(error));
      this.pending = false;
      this.changedAt = null; // when the oldest change not yet being read happened
      this.running = null;
      this.stats = { predictMs: [], updateMs: [] };
    }

    request() {
      this.pending = true;
      if (this.changedAt === null) this.changedAt = performance.now();
      if (!this.running) this.running = this._run();
      return this.running;
    }

    /** Resolves when the newest drawing has been read and shown. */
    settled() {
      return this.running || Promise.resolve();
    }

    async _run() {
      while (this.pending) {
        this.pending = false;
        const changedAt = this.changedAt;
        this.changedAt = null;
        const started = performance.now();
        try {
          const result = await this.predict();
          this.onResult(result);
          const now = performance.now();
          this.stats.predictMs.push(now - started);
          this.stats.updateMs.push(now - changedAt);
        } catch (error) {
          this.onError(error);
        }
      }
      this.running = null;
    }
  }

  // ---- the shared nnpy instance of a page -----------------------------------------------------

  let shared = null;
  /** The page's one nnpy worker: the demo page's `nnReady`, else one started on first use. */
  function sharedClient() {
    if (root.nnReady && typeof root.nnReady.then === "function") return root.nnReady;
    if (!shared) {
      if (typeof nnpy.load !== "function") return Promise.reject(new Error("include nnpy.js before sketchpad.js"));
      shared = nnpy.load();
    }
    return shared;
  }

  // ---- <nnpy-sketchpad model="URL"> -----------------------------------------------------------

  const ELEMENT_STYLE = `
    :host { display: block; max-width: 360px; font: 15px/1.4 system-ui, sans-serif; color: #1d2230; }
    .pad { position: relative; aspect-ratio: 1; border-radius: 12px; overflow: hidden;
      background: #fff; border: 1px solid #dfe3ec; box-shadow: inset 0 1px 3px rgba(0,0,0,.06); }
    canvas { display: block; width: 100%; height: 100%; cursor: crosshair; outline: none; }
    .hint { position: absolute; inset: 0; display: grid; place-items: center; margin: 0;
      color: #9aa3b5; pointer-events: none; }
    .hint[hidden] { display: none; }
    .row { display: flex; align-items: center; gap: 8px; margin-top: 8px; }
    button { font: inherit; border: 1px solid #3b5bdb; color: #3b5bdb; background: #fff;
      border-radius: 8px; padding: 4px 12px; min-height: 34px; cursor: pointer; }
    .answer { margin-left: auto; font-size: 1.6rem; font-weight: 700; }
    .answer small { font-size: .8rem; font-weight: 400; color: #5b6477; margin-left: 4px; }
    .bars { display: grid; gap: 3px; margin-top: 10px; }
    .bar { display: grid; grid-template-columns: var(--label-width, 1.6ch) 1fr 2.8em; align-items: center;
      gap: 8px; font-size: .8rem; font-variant-numeric: tabular-nums; color: #5b6477; }
    .bar span { text-align: center; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .bar div { height: 9px; border-radius: 5px; background: #f1f3f8; overflow: hidden; }
    .bar i { display: block; height: 100%; border-radius: 5px; background: #b7c3ef; }
    .bar b { font-weight: 400; text-align: right; }
    .bar.top { color: #1d2230; font-weight: 700; }
    .bar.top i { background: #3b5bdb; }
    .bar.top b { font-weight: 700; }
    .seen { width: 42px; height: 42px; image-rendering: pixelated; border: 1px solid #dfe3ec;
      border-radius: 4px; }
    .seen[hidden] { display: none; }
    .status { font-size: .8rem; color: #5b6477; min-height: 1.2em; margin: 6px 0 0; }`;

  class SketchpadElement extends HTMLElement {
    static get observedAttributes() { return ["model"]; }

    connectedCallback() {
      if (this.pad) return;
      const shadow = this.attachShadow({ mode: "open" });
      shadow.innerHTML = `<style>${ELEMENT_STYLE}</style>
        <div class="pad"><canvas part="canvas" tabindex="0" aria-label="drawing pad"></canvas>
          <p class="hint" part="hint">Draw here</p></div>
        <div class="row"><button class="undo">Undo</button><button class="clear">Clear</button>
          <span class="answer" part="answer" aria-live="polite"></span>
          <canvas class="seen" width="28" height="28" part="seen" title="what the network sees" hidden></canvas></div>
        <div class="bars" part="bars"></div>
        <p class="status" part="status">Loading…</p>`;
      const $ = (selector) => shadow.querySelector(selector);
      this.pad = new SketchPad($("canvas"), { onChange: () => this._changed() });
      this.predictor = new LivePredictor(() => this._predict(), {
        onResult: ({ result, version }) => this._show(result, version),
        onError: (error) => this._status(`${error.name}: ${error.message}`),
      });
      $(".undo").onclick = () => this.pad.undo();
      $(".clear").onclick = () => this.pad.clear();
      this._load();
    }

    attributeChangedCallback(name, before, after) {
      if (this.pad && before !== after) this._load();
    }

    /** The model URL: the `model` attribute, else the digit model that comes with nnpy. */
    get modelURL() {
      return this.getAttribute("model") || new URL("models/digits.safetensors", nnpy.scriptURL || root.location.href).href;
    }

    /** Resolves with the current reading, after the newest stroke has been read. */
    async reading() {
      await this.predictor.settled();
      return this.result || null;
    }

    async _load() {
      const token = (this._loading = {});
      this._status("Loading…");
      try {
        const nn = await (this.client || sharedClient());
        const model = await nn.loadModel(this.modelURL);
        if (token !== this._loading) return model.dispose();
        if (this.model) this.model.dispose();
        this.nn = nn;
        this.model = model;
        this._status("");
        this.dispatchEvent(new CustomEvent("ready", { detail: { model } }));
        this._changed();
      } catch (error) {
        this._status(`Could not load the model: ${error.name}: ${error.message}`);
      }
    }

    _changed() {
      this.shadowRoot.querySelector(".hint").hidden = !this.pad.isEmpty;
      if (this.model) this.predictor.request();
    }

    async _predict() {
      const version = this.pad.version;
      if (this.pad.isEmpty) return { result: null, version };
      const args = { model: this.model.handle, inputs: padInputs(this.pad, this.model),
        activity: Boolean(this.wantsActivity) };
      return { result: await this.nn.request("digits_predict", args), version };
    }

    _show(result, version) {
      const shadow = this.shadowRoot;
      this.result = result;
      const answer = shadow.querySelector(".answer");
      answer.dataset.version = version;
      const seen = shadow.querySelector(".seen");
      const bars = shadow.querySelector(".bars");
      seen.hidden = !result;
      if (!result) {
        answer.textContent = "";
        bars.textContent = "";
      } else {
        const labels = this.model.labels || [...result.probabilities.keys()].map(String);
        const top = result.probabilities[result.index];
        answer.innerHTML = `${escapeHTML(String(result.label))}<small>${Math.round(top * 100)}%</small>`;
        bars.style.setProperty("--label-width", `${Math.min(8, Math.max(...labels.map((l) => String(l).length))) + 0.6}ch`);
        bars.innerHTML = Array.from(result.probabilities, (p, i) =>
          `<div class="bar${i === result.index ? " top" : ""}"><span>${escapeHTML(String(labels[i]))}</span>` +
          `<div><i style="width:${(p * 100).toFixed(1)}%"></i></div><b>${Math.round(p * 100)}%</b></div>`).join("");
        drawImage(seen, result.input);
      }
      this.dispatchEvent(new CustomEvent("prediction", { detail: { ...(result || {}), version } }));
    }

    _status(text) {
      this.shadowRoot.querySelector(".status").textContent = text;
    }
  }

  /** The drawing as `inputs` for the model's `predict` / `digits_predict`: for a model with the
   *  "mnist-digit" preprocessing, 140 px a side (Python crops the ink and centres it in 28x28);
   *  for another image model, its own input size. */
  function padInputs(pad, model) {
    const spec = model.input || {};
    const side = spec.preprocess === "mnist-digit" ? 140 : spec.width || 28;
    return { ...pad.toPixels(side), count: 1 };
  }

  // a uint8 (H, W, 1 or 3) image onto `canvas`; one channel is drawn as dark ink on white
  function drawImage(canvas, image) {
    const [height, width, channels] = image.shape;
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    const pixels = context.createImageData(width, height);
    for (let k = 0; k < width * height; k++) {
      const rgb = channels === 3
        ? [image[3 * k], image[3 * k + 1], image[3 * k + 2]]
        : [255 - 0.89 * image[k], 255 - 0.88 * image[k], 255 - 0.77 * image[k]];
      pixels.data.set([...rgb, 255], 4 * k);
    }
    context.putImageData(pixels, 0, 0);
  }

  function escapeHTML(text) {
    return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  Object.assign(nnpy, { SketchPad, LivePredictor, sharedClient, padInputs, drawImage });
  if (root.customElements && !root.customElements.get("nnpy-sketchpad")) {
    root.customElements.define("nnpy-sketchpad", SketchpadElement);
  }
})(typeof globalThis !== "undefined" ? globalThis : this);
