// <nnpy-webcam-classifier>: teach a small network your own classes from the webcam, train it on
// this device, watch it classify live, and keep the whole project.
//
//   <script src="https://YOUR-HOST/web/nnpy.js"></script>
//   <nnpy-webcam-classifier></nnpy-webcam-classifier>
//
// (or import this module alone: it brings nnpy.js). Attributes: project-name (the IndexedDB key
// the project autosaves under; default "webcam"), permission-timeout (seconds to wait for an answer
// to the camera prompt; default 10). Property `nn`: a loaded nnpy client (or a promise of one);
// without it the element uses the page's one worker, nnpy.shared(). Methods: stats() and
// resetStats() (live-classification timings); `ready`, a promise; `history`, {loss, accuracy,
// valLoss, valAccuracy} per epoch.
//
// All Python runs in nnpy's worker (nnpy/web/projects.py): recorded frames and live frames go
// there as SIZE x SIZE RGBA bytes in transferable buffers. The frame loop never waits for Python:
// at most one prediction is in flight, and frames that arrive meanwhile are simply not classified.
// The element's methods live in this folder by concern (camera, live, recording, rendering); what
// every trainer element shares (classes, training, the project file) is in web/common/trainer/.

import { TrainerElement } from "../../common/trainer/element.js";
import { TEMPLATE, thumbnail } from "./view.js";
import { toImageData } from "../../common/image.js";
import { cameraMethods } from "./camera.js";
import { liveMethods } from "./live.js";
import { recordingMethods } from "./recording.js";
import { renderingMethods } from "./rendering.js";

class WebcamClassifier extends TrainerElement {
  constructor() {
    super(TEMPLATE, new URL("style.css", import.meta.url));
    this.kind = "image";
    this.firstClasses = ["Class 1", "Class 2"];
    this.storePlace = { database: "nnpy-webcam", store: "projects" };
    this.readyText = "Ready. Start the camera, record a few dozen frames for each class, then train.";
    this.defaultProjectName = "webcam";
    this.enoughSamples = "a few dozen";
    this.stream = null;
    this.stopFrames = null;
    this.recording = null; // the class index being recorded
    this.lastRecordedAt = 0;
    this.canvas = document.createElement("canvas");
    this.$(".start-camera").onclick = () => this.startCamera();
    this.$(".stop-camera").onclick = () => this.stopCamera();
  }

  startDevice() { return this.startCamera(); }

  stopDevice() { this.stopCamera(); }

  get deviceOn() { return Boolean(this.stream); }

  /** A thumbnail per sample of `samples` ((N, SIZE, SIZE, 3) RGB, as project_samples gives). */
  thumbnailsOf(samples) {
    return Array.from({ length: samples.shape[0] }, (_, n) => thumbnail(toImageData(samples, n)));
  }
}

Object.assign(WebcamClassifier.prototype, cameraMethods, liveMethods, recordingMethods, renderingMethods);

if (!customElements.get("nnpy-webcam-classifier")) customElements.define("nnpy-webcam-classifier", WebcamClassifier);
