// webcam.js — <nnpy-webcam-classifier>: teach a small network your own classes from the webcam,
// train it on this device, watch it classify live, and keep the whole project.
//
//   <script src="https://YOUR-HOST/web/nnpy.js"></script>
//   <script type="module" src="https://YOUR-HOST/web/webcam.js"></script>
//   <nnpy-webcam-classifier></nnpy-webcam-classifier>
//
// Attributes: project-name (the IndexedDB key the project autosaves under; default "webcam"),
// permission-timeout (seconds to wait for an answer to the camera prompt; default 10).
// Property `nn`: a loaded nnpy client (or a promise of one) to share with the page; without it the
// element starts its own. Methods: stats() and resetStats() (live-classification timings); `ready`, a promise.
//
// All Python runs in nnpy's worker (nnpy/browser_webcam.py): recorded frames and live frames go
// there as 64x64 RGBA bytes in transferable buffers. The frame loop never waits for Python: at
// most one prediction is in flight, and frames that arrive meanwhile are simply not classified.

import { everyFrame, explainCameraError, squarePixels, startCamera, stopCamera } from "./camera.js";
import {
  BAR, CLASS_CARD, TEMPLATE, drawTrainingCurves, fillConfusion, percent, spread, thumbnail, toImageData,
  trainingSummary,
} from "./webcam-view.js";
import { downloadBytes, loadSavedProject, saveProject } from "./webcam-store.js";

if (!globalThis.nnpy) await import("./nnpy.js"); // embedding with this one module is enough

const SIZE = 64; // the model's input: the centred square of the video at 64x64 RGB
const RECORD_INTERVAL_MS = 90; // recording keeps about 10 frames a second (of a 30 fps camera: every 3rd)
const TRAIN_STEP_MS = 50; // a training step's length: predictions get in between steps
const AUTOSAVE_DELAY_MS = 1200;
const MIN_CLASSES = 2;
const MAX_CLASSES = 10;

let sharedClient = null; // one worker for every element that was not given one

class WebcamClassifier extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = new URL("webcam.css", import.meta.url).href;
    const template = document.createElement("template");
    template.innerHTML = TEMPLATE;
    this.shadowRoot.append(style, template.content);
    this.$ = (selector) => this.shadowRoot.querySelector(selector);
    this.handle = null; // the Python project
    this.classes = []; // [{name, count, thumbnails: [canvas elements, oldest first]}]
    this.trained = false;
    this.history = {};
    this.confusion = null;
    this.stream = null;
    this.stopFrames = null;
    this.recording = null; // the class index being recorded
    this.lastRecordedAt = 0;
    this.predicting = false;
    this.timings = { roundTrip: [], python: [], classified: [], frames: [] };
    this.training = null; // {cancelled} while training
    this.saveTimer = null;
    this.canvas = document.createElement("canvas");
    let resolveReady;
    this.ready = new Promise((resolve) => { resolveReady = resolve; });
    this.resolveReady = resolveReady;
    if (Object.prototype.hasOwnProperty.call(this, "nn")) { // set before this element upgraded
      const given = this.nn;
      delete this.nn;
      this.nn = given;
    }
    this.wire();
  }

  set nn(client) { this.givenClient = client; }
  get nn() { return this.client || this.givenClient || null; }

  get projectName() { return this.getAttribute("project-name") || "webcam"; }

  connectedCallback() {
    if (this.started) return;
    this.started = true;
    this.onPageHide = () => this.stopCamera();
    this.onVisibility = () => {
      if (document.visibilityState === "hidden") {
        this.resumeCamera = Boolean(this.stream);
        this.stopCamera(); // the camera light goes off when the tab is not looked at
        this.saveNow();
      } else if (this.resumeCamera) {
        this.resumeCamera = false;
        this.startCamera();
      }
    };
    window.addEventListener("pagehide", this.onPageHide);
    document.addEventListener("visibilitychange", this.onVisibility);
    this.countDisplayFrames();
    this.start();
  }

  disconnectedCallback() {
    this.stopCamera();
    window.removeEventListener("pagehide", this.onPageHide);
    document.removeEventListener("visibilitychange", this.onVisibility);
    cancelAnimationFrame(this.displayLoop);
    this.started = false;
  }

  async start() {
    try {
      this.client = await (this.givenClient || (sharedClient ??= globalThis.nnpy.load()));
      const saved = await loadSavedProject(this.projectName).catch(() => null);
      if (saved) {
        try {
          await this.openBytes(saved.bytes);
          const samples = this.classes.reduce((sum, c) => sum + c.count, 0);
          this.setStatus(`Restored your project from this browser: ${this.classes.length} classes, ${samples} samples${this.trained ? ", trained" : ""}.`);
          this.setSaveState(`Saved in this browser ${new Date(saved.savedAt).toLocaleString()}`);
        } catch (error) {
          await this.newProject();
          this.setStatus(`The project saved in this browser could not be opened (${error.message}); this is a new one.`, "error");
        }
      } else {
        await this.newProject();
        this.setStatus("Ready. Start the camera, record a few dozen frames for each class, then train.");
      }
    } catch (error) {
      this.setStatus(`Could not start Python: ${error.name}: ${error.message}`, "error");
    }
    this.resolveReady();
  }

  request(op, args) {
    return this.client.request(op, args);
  }

  // ---- wiring the controls ---------------------------------------------------------------------

  wire() {
    const $ = this.$;
    $(".start-camera").onclick = () => this.startCamera();
    $(".stop-camera").onclick = () => this.stopCamera();
    $(".add-class").onclick = () => this.addClass();
    $(".train").onclick = () => this.train(false);
    $(".restart").onclick = () => this.train(true);
    $(".cancel").onclick = () => { if (this.training) this.training.cancelled = true; };
    $(".download").onclick = () => this.download();
    $(".open-file").onchange = (event) => this.openFile(event.target);
    $(".new-project").onclick = () => {
      if (confirm("Start a new project? The classes, samples and model of this one are forgotten (download it first to keep it).")) {
        this.newProject().then(() => this.scheduleSave());
      }
    };
    new ResizeObserver(() => this.drawCharts()).observe($(".charts"));
  }

  setStatus(text, kind = "") {
    this.$(".status").textContent = text;
    this.$(".status").className = `status ${kind}`;
  }

  setMessage(selector, text, kind = "") {
    this.$(selector).textContent = text;
    this.$(selector).className = `${selector.slice(1)} message ${kind}`;
  }

  setSaveState(text, kind = "") {
    this.$(".save-state").textContent = text;
    this.$(".save-state").className = `save-state ${kind}`;
  }

  // ---- the camera -------------------------------------------------------------------------------

  async startCamera() {
    if (this.stream || this.cameraStarting) return;
    this.cameraStarting = true;
    this.$(".start-camera").disabled = true;
    this.showCameraProblem(null);
    const seconds = Number(this.getAttribute("permission-timeout") || 10);
    try {
      this.stream = await startCamera(this.$("video"), {
        timeoutMs: seconds * 1000,
        onWaiting: (problem) => this.showCameraProblem(problem, "waiting"),
      });
      this.showCameraProblem(null);
      this.$(".viewport").classList.add("on");
      this.stopFrames = everyFrame(this.$("video"), (now) => this.onFrame(now));
    } catch (error) {
      this.showCameraProblem(explainCameraError(error));
    } finally {
      this.cameraStarting = false;
      this.updateButtons();
    }
  }

  stopCamera() {
    this.endRecording();
    if (this.stopFrames) this.stopFrames();
    this.stopFrames = null;
    stopCamera(this.stream, this.$("video"));
    this.stream = null;
    this.$(".viewport").classList.remove("on");
    this.updateButtons();
    this.showPrediction(null);
  }

  showCameraProblem(problem, kind = "error") {
    const box = this.$(".camera-message");
    box.hidden = !problem;
    box.className = `camera-message ${kind}`;
    if (!problem) return;
    this.$(".camera-error-name").textContent = problem.name;
    this.$(".camera-error-text").textContent = problem.message;
    this.$(".camera-error-advice").textContent = problem.advice;
  }

  // Every new video frame: record it if a record button is held, classify it if no prediction is
  // in flight. Nothing here waits for Python.
  onFrame(now) {
    const video = this.$("video");
    const record = this.recording !== null && now - this.lastRecordedAt >= RECORD_INTERVAL_MS;
    const classify = this.trained && !this.predicting && this.handle !== null;
    if (!record && !classify) return;
    let pixels;
    try {
      pixels = squarePixels(video, SIZE, this.canvas);
    } catch {
      return; // no frame yet
    }
    if (classify) this.classify(pixels); // first: it copies the pixels that addSample hands over
    if (record) {
      this.lastRecordedAt = now;
      this.addSample(this.recording, pixels);
    }
  }

  async classify(pixels) {
    this.predicting = true;
    this.$(".seen-frame").getContext("2d").putImageData(pixels, 0, 0);
    const sent = performance.now();
    const data = new Uint8Array(pixels.data.slice().buffer); // its own buffer, to transfer
    try {
      const result = await this.request("project_predict", { project: this.handle, pixels: data, width: SIZE, height: SIZE });
      const now = performance.now();
      if (!this.training) { // during training a prediction waits for a training step to end
        this.remember("roundTrip", now - sent);
        this.remember("python", result.ms);
      }
      this.remember("classified", now);
      this.showPrediction(result);
    } catch (error) {
      if (error.name === "RuntimeError") this.trained = false; // the classes changed: train again
      else this.setStatus(`Live classification failed: ${error.name}: ${error.message}`, "error");
    } finally {
      this.predicting = false;
    }
  }

  remember(kind, value) {
    const list = this.timings[kind];
    list.push(value);
    if (list.length > 300) list.shift();
  }

  // Display frames per second, counted all along: the measure that the page stays smooth.
  countDisplayFrames() {
    const tick = (now) => {
      this.timings.frames.push(now);
      while (this.timings.frames.length && now - this.timings.frames[0] > 1000) this.timings.frames.shift();
      this.displayLoop = requestAnimationFrame(tick);
    };
    this.displayLoop = requestAnimationFrame(tick);
  }

  /** Forget the timings so far (e.g. to measure from now on). */
  resetStats() {
    this.timings.roundTrip = [];
    this.timings.python = [];
  }

  /** Live-classification timings: round trip and Python time (median, p90, in ms), frames
   *  classified in the last second, display frames in the last second. */
  stats() {
    const now = performance.now();
    return {
      roundTripMs: spread(this.timings.roundTrip),
      pythonMs: spread(this.timings.python),
      classifiedPerSecond: this.timings.classified.filter((t) => now - t <= 1000).length,
      displayFps: this.timings.frames.filter((t) => now - t <= 1000).length,
    };
  }

  showPrediction(result) {
    const bars = this.$(".bars");
    const verdict = this.$(".verdict");
    if (!result) {
      bars.querySelectorAll(".fill").forEach((fill) => { fill.style.width = "0%"; });
      bars.querySelectorAll(".value").forEach((value) => { value.textContent = ""; });
      bars.querySelectorAll("li").forEach((li) => li.classList.remove("top"));
      verdict.textContent = "";
      this.$(".perf").textContent = this.trained ? "Start the camera to classify live." : "Train the network to classify live.";
      return;
    }
    [...bars.children].forEach((li, i) => {
      const p = result.probabilities[i] ?? 0;
      li.querySelector(".fill").style.width = percent(p);
      li.querySelector(".value").textContent = percent(p);
      li.classList.toggle("top", i === result.index);
    });
    verdict.textContent = `${result.label} · ${percent(result.probabilities[result.index])}`;
    if (!this.perfPending) { // the readout changes at most 4 times a second, so it can be read
      this.perfPending = true;
      setTimeout(() => {
        this.perfPending = false;
        const s = this.stats();
        this.$(".perf").textContent = `${s.pythonMs.median.toFixed(1)} ms in Python, ${s.roundTripMs.median.toFixed(1)} ms round trip (median) · ${s.classifiedPerSecond} frames classified/s · page ${s.displayFps} fps`;
      }, 250);
    }
  }

  // ---- classes and samples ---------------------------------------------------------------------

  applyState(state) {
    const before = this.classes;
    this.classes = state.class_names.map((name, i) => ({
      name, count: state.counts[i], thumbnails: (before[i] && before[i].name === name) ? before[i].thumbnails : [],
    }));
    this.trained = state.trained;
    this.history = state.history || {};
    this.confusion = state.confusion;
    this.lastTraining = state.last_training;
  }

  async newProject() {
    const opened = await this.request("project_new", { class_names: ["Class 1", "Class 2"] });
    if (this.handle !== null) this.request("project_close", { project: this.handle }).catch(() => {});
    this.handle = opened.project;
    this.classes = [];
    this.applyState(opened);
    this.render();
  }

  // Open .safetensors bytes as the current project; on failure the current project stays.
  async openBytes(bytes) {
    const opened = await this.request("project_open", { data: new Uint8Array(bytes) });
    const thumbnails = await Promise.all(opened.class_names.map((_, i) =>
      this.request("project_samples", { project: opened.project, class_index: i })));
    if (this.handle !== null) this.request("project_close", { project: this.handle }).catch(() => {});
    this.handle = opened.project;
    this.classes = [];
    this.applyState(opened);
    this.classes.forEach((c, i) => { c.thumbnails = toImageData(thumbnails[i]).map((image) => thumbnail(image)); });
    this.render();
  }

  async classChange(op, args) {
    try {
      this.applyState(await this.request(op, { project: this.handle, ...args }));
      this.render();
      this.scheduleSave();
    } catch (error) {
      this.setStatus(`${error.name}: ${error.message}`, "error");
      this.render();
    }
  }

  addClass() {
    if (this.classes.length >= MAX_CLASSES) return;
    this.classChange("project_add_class", { name: `Class ${this.classes.length + 1}` });
  }

  deleteClass(index) {
    const { name, count } = this.classes[index];
    if (count && !confirm(`Delete "${name}" and its ${count} samples?`)) return;
    this.classChange("project_delete_class", { class_index: index });
  }

  renameClass(index, input) {
    const name = input.value.trim();
    if (!name || name === this.classes[index].name) {
      input.value = this.classes[index].name;
      return;
    }
    this.classChange("project_rename_class", { class_index: index, name });
  }

  // One frame (ImageData, SIZE x SIZE) into class `index`: a thumbnail now, the count from Python.
  async addSample(index, image) {
    const entry = this.classes[index];
    const thumb = thumbnail(image);
    entry.thumbnails.push(thumb);
    entry.count += 1;
    this.showClassSamples(index, thumb);
    try {
      entry.count = await this.request("project_add_samples", {
        project: this.handle, class_index: index, pixels: new Uint8Array(image.data.buffer),
        width: image.width, height: image.height, count: 1,
      });
      this.showClassSamples(index);
      this.scheduleSave();
    } catch (error) {
      this.setStatus(`The sample was not added: ${error.name}: ${error.message}`, "error");
    }
  }

  async deleteSample(index, thumb) {
    const entry = this.classes[index];
    const position = entry.thumbnails.indexOf(thumb);
    if (position < 0) return;
    entry.thumbnails.splice(position, 1);
    thumb.remove();
    entry.count -= 1;
    this.showClassSamples(index);
    try {
      entry.count = await this.request("project_delete_sample", { project: this.handle, class_index: index, sample_index: position });
      this.showClassSamples(index);
      this.scheduleSave();
    } catch (error) {
      this.setStatus(`${error.name}: ${error.message}`, "error");
    }
  }

  async uploadSamples(index, input) {
    const files = [...input.files];
    input.value = "";
    let refused = [];
    for (const file of files) {
      try {
        const bitmap = await createImageBitmap(file);
        const pixels = squarePixels(bitmap, SIZE, this.canvas);
        bitmap.close();
        await this.addSample(index, pixels);
      } catch {
        refused.push(file.name);
      }
    }
    if (refused.length) this.setStatus(`Not images (skipped): ${refused.join(", ")}`, "error");
  }

  beginRecording(index, button) {
    if (this.handle === null) return;
    if (!this.stream) {
      this.setStatus("Start the camera first, then hold the button to record.", "error");
      return;
    }
    this.recording = index;
    this.lastRecordedAt = 0;
    button.classList.add("active");
    const badge = this.$(".recording-badge");
    badge.textContent = `● Recording “${this.classes[index].name}”`;
    badge.hidden = false;
  }

  endRecording() {
    this.recording = null;
    this.$(".recording-badge").hidden = true;
    this.shadowRoot.querySelectorAll(".record.active").forEach((b) => b.classList.remove("active"));
  }

  // ---- drawing the classes ---------------------------------------------------------------------

  render() {
    const list = this.$(".class-list");
    list.replaceChildren(...this.classes.map((entry, index) => this.classCard(entry, index)));
    this.$(".bars").replaceChildren(...this.classes.map((entry) => {
      const li = document.createElement("li");
      li.innerHTML = BAR;
      li.querySelector(".name").textContent = entry.name;
      return li;
    }));
    this.showPrediction(null);
    this.drawCharts();
    fillConfusion(this.$(".confusion"), this.confusion, this.classes.map((c) => c.name));
    this.updateButtons();
  }

  classCard(entry, index) {
    const li = document.createElement("li");
    li.className = "class-card";
    li.innerHTML = CLASS_CARD;
    const input = li.querySelector(".class-name");
    input.value = entry.name;
    input.onchange = () => this.renameClass(index, input);
    input.onkeydown = (event) => { if (event.key === "Enter") input.blur(); };
    const remove = li.querySelector(".delete-class");
    remove.setAttribute("aria-label", `Delete class ${entry.name}`);
    remove.onclick = () => this.deleteClass(index);
    const record = li.querySelector(".record");
    record.onpointerdown = (event) => {
      record.setPointerCapture(event.pointerId);
      this.beginRecording(index, record);
    };
    record.onpointerup = record.onpointercancel = record.onlostpointercapture = () => this.endRecording();
    record.oncontextmenu = (event) => event.preventDefault(); // a long press is recording, not a menu
    record.onkeydown = (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) {
        event.preventDefault();
        this.beginRecording(index, record);
      }
    };
    record.onkeyup = () => this.endRecording();
    record.onblur = () => this.endRecording();
    li.querySelector(".upload input").onchange = (event) => this.uploadSamples(index, event.target);
    const thumbs = li.querySelector(".thumbs");
    thumbs.onclick = (event) => {
      const button = event.target.closest(".delete-sample");
      if (button) this.deleteSample(index, button.parentElement);
    };
    thumbs.append(...[...entry.thumbnails].reverse()); // newest first
    this.showClassSamples(index, null, li);
    return li;
  }

  // Update a class card's count (and put a new thumbnail first).
  showClassSamples(index, newThumb = null, card = null) {
    card = card || this.$(".class-list").children[index];
    if (!card) return;
    const { count } = this.classes[index];
    card.querySelector(".count").textContent = `${count} sample${count === 1 ? "" : "s"}`;
    if (newThumb) card.querySelector(".thumbs").prepend(newThumb);
    this.updateButtons();
  }

  updateButtons() {
    const $ = this.$;
    const training = Boolean(this.training);
    const loaded = this.handle !== null;
    $(".start-camera").disabled = Boolean(this.stream) || Boolean(this.cameraStarting);
    $(".stop-camera").disabled = !this.stream;
    $(".add-class").disabled = !loaded || training || this.classes.length >= MAX_CLASSES;
    this.shadowRoot.querySelectorAll(".delete-class").forEach((b) => { b.disabled = training || this.classes.length <= MIN_CLASSES; });
    const ready = loaded && this.classes.length >= MIN_CLASSES && this.classes.every((c) => c.count >= 2);
    $(".train").disabled = training || !ready;
    $(".train").textContent = this.trained ? "Train more" : "Train";
    $(".restart").disabled = training || !ready || !this.trained;
    $(".cancel").disabled = !training;
    for (const selector of [".new-project", ".open-file", ".download"]) $(selector).disabled = !loaded || training;
    this.shadowRoot.querySelectorAll(".record, .upload input").forEach((b) => { b.disabled = !loaded; });
    if (!training) { // a hint replaces an earlier hint, not the outcome of a training run
      const missing = this.classes.filter((c) => c.count < 2).map((c) => c.name);
      const stale = !this.trained && this.epochsDone() > 0;
      const hint = missing.length
        ? `Record at least 2 samples (a few dozen is better) for: ${missing.join(", ")}.`
        : stale ? "The classes changed since the network was trained: Train starts a new network." : "";
      if (hint || this.showingHint) this.setMessage(".train-message", hint);
      this.showingHint = Boolean(hint);
    }
  }

  // ---- training --------------------------------------------------------------------------------

  async train(restart) {
    if (this.training || this.handle === null) return;
    this.training = { cancelled: false };
    this.showingHint = false;
    this.updateButtons();
    const epochs = Math.max(1, Math.round(Number(this.$(".epochs").value) || 20));
    const learningRate = Number(this.$(".learning-rate").value) || 1e-3;
    this.setMessage(".train-message", "Starting…");
    let job = null;
    try {
      const started = await this.request("project_train_start", { project: this.handle, epochs, learning_rate: learningRate, restart });
      job = started.job;
      this.applyState(started.state);
      this.render();
      this.updateButtons();
      for (;;) {
        if (this.training.cancelled) {
          const stopped = await this.request("project_train_stop", { job });
          job = null;
          this.applyState(stopped);
          this.setMessage(".train-message", `Cancelled after ${this.epochsDone()} epochs in all. The network keeps its best weights so far; press Train more to continue.`);
          break;
        }
        const step = await this.request("project_train_step", { job, budget_ms: TRAIN_STEP_MS });
        for (const log of step.epochs) {
          for (const key of ["loss", "accuracy", "val_loss", "val_accuracy"]) (this.history[key] ??= []).push(log[key]);
        }
        if (step.epochs.length) this.drawCharts();
        const last = step.batch || step.epochs[step.epochs.length - 1];
        if (last) {
          this.setMessage(".train-message", `Epoch ${last.epoch + 1} of ${last.epochs}` +
            (step.batch ? ` · batch ${step.batch.batch + 1} of ${step.batch.batches} · loss ${step.batch.loss.toFixed(3)}` : ""));
        }
        if (step.done) {
          job = null;
          this.applyState(step.state);
          this.setMessage(".train-message", trainingSummary(this.history, this.lastTraining), "ok");
          break;
        }
      }
    } catch (error) {
      this.setMessage(".train-message", `${error.name}: ${error.message}`, "error");
    } finally {
      if (job !== null) await this.request("project_train_stop", { job }).catch(() => {});
      this.training = null;
      this.render();
      this.scheduleSave();
    }
  }

  drawCharts() {
    drawTrainingCurves(this.$(".loss-chart"), this.$(".accuracy-chart"), this.history);
  }

  epochsDone() {
    return (this.history.loss || []).length;
  }

  // ---- the project file ------------------------------------------------------------------------

  // Autosave: a while after the last change (recording makes ten a second), one write.
  scheduleSave() {
    clearTimeout(this.saveTimer);
    this.unsaved = true;
    this.setSaveState("Unsaved changes…");
    this.saveTimer = setTimeout(() => this.saveNow(), AUTOSAVE_DELAY_MS);
  }

  async saveNow() {
    clearTimeout(this.saveTimer);
    if (this.handle === null || !this.unsaved) return;
    if (this.training) { // the weights change every batch: save when training ends
      this.saveTimer = setTimeout(() => this.saveNow(), AUTOSAVE_DELAY_MS);
      return;
    }
    this.unsaved = false; // changes from now on need another save
    try {
      const bytes = await this.request("project_to_bytes", { project: this.handle });
      await saveProject(this.projectName, bytes);
      if (!this.unsaved) this.setSaveState(`Saved in this browser at ${new Date().toLocaleTimeString()} (${(bytes.byteLength / 1e6).toFixed(1)} MB)`, "ok");
    } catch (error) {
      this.unsaved = true;
      this.setSaveState(`Not saved in this browser: ${error.message}. Download the project to keep it.`, "error");
    }
  }

  async download() {
    try {
      const bytes = await this.request("project_to_bytes", { project: this.handle });
      downloadBytes(bytes, `${this.projectName}-project.safetensors`);
      this.setMessage(".project-message", `Downloaded ${(bytes.byteLength / 1e6).toFixed(1)} MB: open it here later to continue.`, "ok");
    } catch (error) {
      this.setMessage(".project-message", `${error.name}: ${error.message}`, "error");
    }
  }

  async openFile(input) {
    const file = input.files[0];
    input.value = "";
    if (!file) return;
    this.setMessage(".project-message", `Reading ${file.name}…`);
    try {
      await this.openBytes(await file.arrayBuffer());
      this.setMessage(".project-message", `Opened ${file.name}: ${this.classes.length} classes, ${this.classes.reduce((s, c) => s + c.count, 0)} samples${this.trained ? ", trained" : ""}.`, "ok");
      this.scheduleSave();
    } catch (error) {
      this.setMessage(".project-message", `${file.name} was refused: ${error.message.replace(/\.?$/, ".")} Your current project is unchanged.`, "error");
    }
  }
}

if (!customElements.get("nnpy-webcam-classifier")) customElements.define("nnpy-webcam-classifier", WebcamClassifier);
