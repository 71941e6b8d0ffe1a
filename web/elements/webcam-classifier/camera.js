// camera.js — the element's camera: start and stop it, explain a failure, and on every frame
// record and/or classify it. Nothing here waits for Python.

import nnpy from "../../common/library.js";
import * as camera from "../../common/camera.js"; // camera.startCamera is the function, this.startCamera the method

const RECORD_INTERVAL_MS = 90; // recording keeps about 10 frames a second (of a 30 fps camera: every 3rd)

export const cameraMethods = {
  async startCamera() {
    if (this.stream || this.cameraStarting) return;
    this.cameraStarting = true;
    this.$(".start-camera").disabled = true;
    this.showDeviceProblem(null);
    const seconds = Number(this.getAttribute("permission-timeout") || 10);
    try {
      this.stream = await camera.startCamera(this.$("video"), {
        timeoutMs: seconds * 1000,
        onWaiting: (problem) => this.showDeviceProblem(problem, "waiting"),
      });
      this.showDeviceProblem(null);
      this.$(".viewport").classList.add("on");
      this.stopFrames = camera.everyFrame(this.$("video"), (now) => this.onFrame(now));
    } catch (error) {
      this.showDeviceProblem(error);
    } finally {
      this.cameraStarting = false;
      this.updateButtons();
    }
  },

  stopCamera() {
    this.endRecording();
    if (this.stopFrames) this.stopFrames();
    this.stopFrames = null;
    this.frameWaiting = false;
    camera.stopCamera(this.stream, this.$("video"));
    this.stream = null;
    this.$(".viewport").classList.remove("on");
    this.updateButtons();
    this.showPrediction(null);
  },

  // Every new video frame: record it if a record button is held, classify it if no prediction is
  // in flight (else the answer's arrival classifies the newest frame at once, see live.js).
  // Nothing here waits for Python.
  onFrame(now) {
    const record = this.recording !== null && now - this.lastRecordedAt >= RECORD_INTERVAL_MS;
    const live = this.trained && this.handle !== null;
    if (live && this.predicting) this.frameWaiting = true;
    const classify = live && !this.predicting;
    if (!record && !classify) return;
    const pixels = this.readFrame();
    if (!pixels) return;
    if (classify) this.classify(pixels); // first: it copies the pixels that addSample hands over
    if (record) {
      this.lastRecordedAt = now;
      this.addSample(this.recording, pixels, this.burst);
    }
  },

  /** The centre square of the video now at the project's size (ImageData), or null before the
   *  first frame. */
  readFrame() {
    try {
      return nnpy.readImage(this.$("video"), this.size, this.size, this.canvas);
    } catch {
      return null; // no frame yet
    }
  },
};
