// <nnpy-webcam-classifier>: teach a small network your own classes from the webcam, train it on
// this device, watch it classify live, and keep the whole project.
//
//   <script src="https://YOUR-HOST/web/nnpy.js"></script>
//   <nnpy-webcam-classifier></nnpy-webcam-classifier>
//
// (or import this module alone: it brings nnpy.js). Attributes: project-name (the IndexedDB key
// the project autosaves under; default "webcam"), permission-timeout (seconds to wait for an answer
// to the camera prompt; default 10), mode (a new project's: "pretrained", the default, learns on
// EfficientNet-Lite0's features; "scratch" trains a small CNN on 64x64 pixels). Events: "prediction"
// (detail {label, index, probabilities}, every live classification), "trained" (detail {history,
// confusion, classNames}), "saved" (detail {bytes}: the project was saved in this browser). Property `nn`: a loaded nnpy client (or a promise of one);
// without it the element uses the page's one worker, nnpy.shared(). Methods: stats() and
// resetStats() (live-classification timings); `ready`, a promise; `history`, {loss, accuracy,
// valLoss, valAccuracy} per epoch.
//
// All Python runs in nnpy's worker (nnpy/web/projects.py): recorded frames and live frames go
// there as square RGBA frames (the project's image_size) in transferable buffers. The frame loop
// never waits for Python: at most one prediction is in flight, and frames that arrive meanwhile
// are simply not classified.
// The element's methods live in this folder by concern (camera, live, classes, recording,
// rendering, training, project); this file holds its life cycle and wiring.

import nnpy from "../../common/library.js";
import { showMessage } from "../../common/message.js";
import { TEMPLATE } from "./view.js";
import { loadSavedProject } from "./store.js";
import { cameraMethods } from "./camera.js";
import { liveMethods } from "./live.js";
import { classMethods } from "./classes.js";
import { recordingMethods } from "./recording.js";
import { renderingMethods } from "./rendering.js";
import { trainingMethods } from "./training.js";
import { projectMethods } from "./project.js";

class WebcamClassifier extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = new URL("style.css", import.meta.url).href;
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
    this.recordingButton = null; // the button whose press is recording
    this.burst = 0; // counts recordings (presses); each sample says which one it came from
    this.size = 64; // the project's image_size: frames are sent at size x size
    this.mode = null; // "pretrained" or "scratch", from the project's state
    this.backbone = null; // a promise of the loaded EfficientNet-Lite0 model
    this.lastRecordedAt = 0;
    this.predicting = false;
    this.timings = { roundTrip: [], python: [], classified: [], frames: [] };
    this.training = null; // an AbortController while training
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
      this.client = await (this.givenClient || nnpy.shared());
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

  wire() {
    const $ = this.$;
    $(".start-camera").onclick = () => this.startCamera();
    $(".stop-camera").onclick = () => this.stopCamera();
    $(".add-class").onclick = () => this.addClass();
    $(".mode").onchange = (event) => this.setMode(event.target.value);
    $(".train").onclick = () => this.train(false);
    $(".restart").onclick = () => this.train(true);
    $(".cancel").onclick = () => { if (this.training) this.training.abort(); };
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
    showMessage(this.$(".status"), text, kind);
  }

  setMessage(selector, text, kind = "") {
    showMessage(this.$(selector), text, kind);
  }

  setSaveState(text, kind = "") {
    showMessage(this.$(".save-state"), text, kind);
  }
}

Object.assign(WebcamClassifier.prototype, cameraMethods, liveMethods, classMethods, recordingMethods,
  renderingMethods, trainingMethods, projectMethods);

if (!customElements.get("nnpy-webcam-classifier")) customElements.define("nnpy-webcam-classifier", WebcamClassifier);
