// <nnpy-webcam-classifier>: teach a small network your own classes from the webcam, train it on
// this device, watch it classify live, and keep the whole project.
//
//   <script src="https://YOUR-HOST/web/nnpy.js"></script>
//   <nnpy-webcam-classifier></nnpy-webcam-classifier>
//
// (or import this module alone: it brings nnpy.js). Attributes: project-name (the IndexedDB key
// the project autosaves under; default "webcam"), permission-timeout (seconds to wait for an answer
// to the camera prompt; default 10), mode (how a new project learns: "pretrained", the default, on
// EfficientNet-Lite0's features, or "scratch", a small CNN on 64x64 pixels), backbone (the URL of
// the pretrained network's file; default the site's web/models/efficientnet-lite0.safetensors).
// Property `nn`: a loaded nnpy client (or a promise of one); without it the element uses the
// page's one worker, nnpy.shared(). Methods: stats() and resetStats() (live-classification
// timings); `ready`, a promise; `history`, {loss, accuracy, valLoss, valAccuracy} per epoch.
// Events: "prediction", "trained", "saved" (web/common/trainer/element.js).
//
// All Python runs in nnpy's worker (nnpy/web/projects.py): recorded frames and live frames go
// there as square RGBA frames (the project's image_size) in transferable buffers. The frame loop
// never waits for Python: at most one prediction is in flight, and frames that arrive meanwhile
// are simply not classified. The element's methods live in this folder by concern (camera, live,
// recording, rendering, backbone, teachable); what every trainer element shares (classes,
// training, the project file) is in web/common/trainer/.

import { TrainerElement } from "../../common/trainer/element.js";
import { TEMPLATE, thumbnail } from "./view.js";
import { toImageData } from "../../common/image.js";
import { cameraMethods } from "./camera.js";
import { liveMethods } from "./live.js";
import { recordingMethods } from "./recording.js";
import { renderingMethods } from "./rendering.js";
import { backboneMethods } from "./backbone.js";
import { teachableMethods } from "./teachable.js";
import { SIZE } from "./constants.js";

class WebcamClassifier extends TrainerElement {
  constructor() {
    super(TEMPLATE, new URL("style.css", import.meta.url));
    this.kind = "image";
    this.firstClasses = ["Class 1", "Class 2"];
    this.storePlace = { database: "nnpy-webcam", store: "projects" };
    this.defaultProjectName = "webcam";
    this.enoughSamples = "a few dozen";
    this.stream = null;
    this.stopFrames = null;
    this.recording = null; // the class index being recorded
    this.burst = 0; // numbers recordings (presses, uploads): each sample says which one it came from
    this.size = SIZE; // the project's image_size: frames are sent at size x size
    this.mode = null; // "pretrained" or "scratch", from the project's state
    this.needsBackbone = false;
    this.backbone = null; // a promise of the loaded EfficientNet-Lite0 model
    this.backboneProblem = null; // why it could not be loaded
    this.lastRecordedAt = 0;
    this.canvas = document.createElement("canvas");
    this.$(".start-camera").onclick = () => this.startCamera();
    this.$(".stop-camera").onclick = () => this.stopCamera();
    this.$(".mode").onchange = (event) => this.setMode(event.target.value);
    this.$(".open-teachable").onchange = (event) => this.openTeachable(event.target);
  }

  get readyText() {
    return this.stream ? "Camera on. Hold a class's button to record a few dozen frames of it (in two or more presses), then train."
      : "Ready. Start the camera, record a few dozen frames for each class, then train.";
  }

  // While Python starts (after its progress on the status line): the camera needs no Python.
  get earlyText() {
    return this.stream ? "the camera works already; recording waits for Python" : "you can start the camera already";
  }

  get trainedText() {
    return this.stream ? "Trained: the camera is classified live. Record more or train again to improve it."
      : "Trained. Start the camera to classify it live.";
  }

  startDevice() { return this.startCamera(); }

  stopDevice() { this.stopCamera(); }

  get deviceOn() { return Boolean(this.stream); }

  /** A thumbnail per sample of `samples` ((N, S, S, 3) RGB, as project_samples gives). */
  thumbnailsOf(samples) {
    return Array.from({ length: samples.shape[0] }, (_, n) => thumbnail(toImageData(samples, n)));
  }
}

Object.assign(WebcamClassifier.prototype, cameraMethods, liveMethods, recordingMethods, renderingMethods, backboneMethods, teachableMethods);

if (!customElements.get("nnpy-webcam-classifier")) customElements.define("nnpy-webcam-classifier", WebcamClassifier);
