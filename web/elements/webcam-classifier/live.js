// live.js — the element's live classification: one prediction in flight at most, its bars and
// verdict, and the timings that show the page stays smooth (kept by web/common/trainer/timings.js).

import { showBars } from "../../common/bars.js";
import { percent } from "../../common/format.js";
import { SIZE } from "./constants.js";

export const liveMethods = {
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
    this.showPerf((s) => `${s.pythonMs.median.toFixed(1)} ms in Python, ${s.roundTripMs.median.toFixed(1)} ms round trip (median) · ${s.classifiedPerSecond} frames classified/s · page ${s.displayFps} fps`);
  },
};
