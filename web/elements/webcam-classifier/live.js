// live.js — the element's live classification: one prediction in flight at most (the newest frame
// goes next, as soon as the answer comes), its bars and verdict, and the timings that show the
// page stays smooth (kept by web/common/trainer/timings.js).

import { showBars } from "../../common/bars.js";
import { percent } from "../../common/format.js";
import { medianMs } from "../../common/trainer/timings.js";

export const liveMethods = {
  async classify(pixels) {
    this.predicting = true;
    const seen = this.$(".seen-frame");
    if (seen.width !== pixels.width) Object.assign(seen, { width: pixels.width, height: pixels.height });
    seen.getContext("2d").putImageData(pixels, 0, 0);
    const sent = performance.now();
    const data = new Uint8Array(pixels.data.slice().buffer); // its own buffer, to transfer
    try {
      const result = await this.request("project_predict", { project: this.handle, pixels: data, width: pixels.width, height: pixels.height });
      const now = performance.now();
      if (!this.training) { // during training a prediction waits for a training step to end
        this.remember("roundTrip", now - sent);
        this.remember("python", result.ms);
      }
      this.remember("classified", now);
      this.showPrediction(result);
      this.emit("prediction", { label: result.label, index: result.index, probabilities: Array.from(result.probabilities) });
    } catch (error) {
      if (error.name === "RuntimeError") this.trained = false; // the classes changed: train again
      else this.setStatus(`Live classification failed: ${error.name}: ${error.message}`, "error");
    } finally {
      this.predicting = false;
    }
    // A frame came while this one was in Python: classify the newest now rather than at the
    // next frame (up to a frame's time idle per answer: a third of the rate at 30 fps)
    if (this.frameWaiting && this.stream && this.trained) {
      this.frameWaiting = false;
      const pixels = this.readFrame();
      if (pixels) this.classify(pixels);
    }
  },

  showPrediction(result) {
    const verdict = this.$(".verdict");
    showBars(this.$(".bars"), result);
    if (!result) {
      verdict.textContent = "";
      this.$(".perf").textContent = this.trained ? "Start the camera to classify live." : "Train the network to classify live.";
      return;
    }
    verdict.textContent = `${result.label} · ${percent(result.probabilities[result.index])}`;
    this.showPerf((s) => {
      const python = medianMs(s.pythonMs);
      const roundTrip = medianMs(s.roundTripMs);
      const times = python && roundTrip ? `${python} in Python, ${roundTrip} round trip (median)`
        : this.training ? "between training steps (not timed)" : "timing…";
      return `${times} · ${s.classifiedPerSecond} frames classified/s · page ${s.displayFps} fps`;
    });
  },
};
