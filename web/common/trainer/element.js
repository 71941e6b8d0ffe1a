// element.js — what every trainer element (<nnpy-webcam-classifier>, <nnpy-sound-classifier>) is
// before its device: a shadow root with the shared styles and its own, the page's one worker (or
// the client given as its `nn` property), its project restored from this browser, and the
// classes, training and project-file buttons wired. A subclass passes its markup and style sheet
// and defines its device's methods (see webcam-classifier/ and sound-classifier/): startDevice(),
// stopDevice() and deviceOn (the device is off while nobody looks at the tab), `readyText` (the
// status line of a new project), `earlyText` (optional: what works while Python starts) and
// `thumbnailsOf(samples)`.

import nnpy from "../library.js";
import { loadingProgress } from "../loading.js";
import { showMessage } from "../message.js";
import { classMethods } from "./classes.js";
import { projectMethods } from "./project.js";
import { renderingMethods } from "./rendering.js";
import { timingMethods } from "./timings.js";
import { trainingMethods } from "./training.js";

export class TrainerElement extends HTMLElement {
  constructor(template, styleURL) {
    super();
    this.attachShadow({ mode: "open" });
    const styles = [new URL("trainer.css", import.meta.url), styleURL].map((href) =>
      Object.assign(document.createElement("link"), { rel: "stylesheet", href: String(href) }));
    const markup = document.createElement("template");
    markup.innerHTML = template;
    this.shadowRoot.append(...styles, markup.content);
    this.$ = (selector) => this.shadowRoot.querySelector(selector);
    this.handle = null; // the Python project
    this.classes = []; // [{name, count, thumbnails: [elements, oldest first]}]
    this.trained = false;
    this.history = {};
    this.confusion = null;
    this.predicting = false;
    this.timings = { roundTrip: [], python: [], classified: [], frames: [] };
    this.training = null; // an AbortController while training
    this.saveTimer = null;
    let resolveReady;
    this.ready = new Promise((resolve) => { resolveReady = resolve; });
    this.resolveReady = resolveReady;
    if (Object.prototype.hasOwnProperty.call(this, "nn")) { // set before this element upgraded
      const given = this.nn;
      delete this.nn;
      this.nn = given;
    }
    this.wireTrainer();
  }

  set nn(client) { this.givenClient = client; }

  get nn() { return this.client || this.givenClient || null; }

  get projectName() { return this.getAttribute("project-name") || this.defaultProjectName; }

  connectedCallback() {
    if (this.started) return;
    this.started = true;
    this.onPageHide = () => this.stopDevice();
    this.onVisibility = () => {
      if (document.visibilityState === "hidden") {
        this.resumeDevice = this.deviceOn;
        this.stopDevice(); // the camera light goes off, the microphone closes, while nobody looks
        this.saveNow();
      } else if (this.resumeDevice) {
        this.resumeDevice = false;
        this.startDevice();
      }
    };
    window.addEventListener("pagehide", this.onPageHide);
    document.addEventListener("visibilitychange", this.onVisibility);
    this.countDisplayFrames();
    this.start();
  }

  disconnectedCallback() {
    this.stopDevice();
    window.removeEventListener("pagehide", this.onPageHide);
    document.removeEventListener("visibilitychange", this.onVisibility);
    cancelAnimationFrame(this.displayLoop);
    this.started = false;
  }

  /** Start Python (the page's worker), then restore the saved project or start a new one.
   *  Meanwhile the status line tells how far Python has got and, if the element says so
   *  (`earlyText`), what already works: the device needs no Python, only its samples do. */
  async start() {
    this.updateButtons(); // what needs Python (no project yet) is disabled until it is ready
    const progress = loadingProgress(({ text, seconds, ready }) => {
      if (!ready && this.handle === null) {
        this.setStatus(`${text} · ${seconds.toFixed(1)} s${this.earlyText ? ` — ${this.earlyText}` : ""}`);
      }
    });
    try {
      this.client = await Promise.resolve(this.givenClient || nnpy.shared({ onProgress: progress })).finally(progress.stop);
      if (!this.givenClient) { // if the page's Python crashes, reopen the autosaved project in a new one
        this.client.addEventListener("crash", () => this.start(), { once: true });
      }
      await this.restoreOrStart();
    } catch (error) {
      this.setStatus(`Could not start Python: ${error.name}: ${error.message}`, "error");
    }
    this.resolveReady();
  }

  request(op, args) {
    return this.client.request(op, args);
  }

  /** Tell the host page: a CustomEvent `type` with `detail` (see the events above). */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // What an element with settings of its own overrides (see the top of this file).
  newProjectOptions() { return {}; }

  applyOwnState() {}

  async prepareProject() {}

  wireTrainer() {
    const $ = this.$;
    $(".add-class").onclick = () => this.addClass();
    $(".train").onclick = () => this.train(false);
    $(".restart").onclick = () => this.train(true);
    $(".cancel").onclick = () => { if (this.training) this.training.abort(); };
    $(".download").onclick = () => this.download();
    $(".open-file").onchange = (event) => this.openFile(event.target);
    $(".new-project").onclick = () => this.confirmNewProject();
    new ResizeObserver(() => this.drawCharts()).observe($(".charts"));
  }

  /** Show a device's failure (a MediaError: name, message, advice) in the .device-message box,
   *  as an error or as "waiting" (a prompt not yet answered); null hides it. */
  showDeviceProblem(problem, kind = "error") {
    const box = this.$(".device-message");
    box.hidden = !problem;
    box.className = `device-message ${kind}`;
    if (!problem) return;
    this.$(".device-error-name").textContent = problem.name;
    this.$(".device-error-text").textContent = problem.message;
    this.$(".device-error-advice").textContent = problem.advice || "";
  }

  setStatus(text, kind = "") {
    showMessage(this.$(".status"), text, kind);
    this.statusIsHint = false;
  }

  /** The status line as a hint of what to do now (`trainedText` or `readyText`, which may
   *  depend on whether the device is on); it follows the device while nothing else was said. */
  showHint() {
    this.setStatus(this.trained ? this.trainedText : this.readyText);
    this.statusIsHint = true;
  }

  // The device started or stopped, or training ended: a hint on the status line must not go
  // stale (updateTrainerButtons calls this whenever the buttons change).
  refreshHint() {
    if (this.statusIsHint) this.showHint();
  }

  setMessage(selector, text, kind = "") {
    showMessage(this.$(selector), text, kind);
  }

  setSaveState(text, kind = "") {
    showMessage(this.$(".save-state"), text, kind);
  }
}

Object.assign(TrainerElement.prototype, classMethods, projectMethods, renderingMethods, timingMethods, trainingMethods);
