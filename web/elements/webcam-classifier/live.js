// live.js — the element's live classification: one prediction in flight at most, its bars and
// verdict, and the timings that show the page stays smooth (stats(), resetStats()).

import { showBars } from "../../common/bars.js";
import { percent } from "../../common/format.js";

const TIMINGS_KEPT = 300; // the latest this many timings of each kind
const PERF_REFRESH_MS = 250; // the readout changes at most 4 times a second, so it can be read

/** {median, p90, count} of a list of numbers. */
export function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : NaN);
  return { median: at(0.5), p90: at(0.9), count: sorted.length };
}

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
      this.dispatchEvent(new CustomEvent("prediction", { detail: { label: result.label, index: result.index, probabilities: Array.from(result.probabilities) } }));
    } catch (error) {
      if (error.name === "RuntimeError") this.trained = false; // the classes changed: train again
      else this.setStatus(`Live classification failed: ${error.name}: ${error.message}`, "error");
    } finally {
      this.predicting = false;
    }
  },

  remember(kind, value) {
    const list = this.timings[kind];
    list.push(value);
    if (list.length > TIMINGS_KEPT) list.shift();
  },

  // Display frames per second, counted all along: the measure that the page stays smooth.
  countDisplayFrames() {
    const tick = (now) => {
      this.timings.frames.push(now);
      while (this.timings.frames.length && now - this.timings.frames[0] > 1000) this.timings.frames.shift();
      this.displayLoop = requestAnimationFrame(tick);
    };
    this.displayLoop = requestAnimationFrame(tick);
  },

  /** Forget the timings so far (e.g. to measure from now on). */
  resetStats() {
    this.timings.roundTrip = [];
    this.timings.python = [];
  },

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
    if (!this.perfPending) {
      this.perfPending = true;
      setTimeout(() => {
        this.perfPending = false;
        const s = this.stats();
        this.$(".perf").textContent = `${s.pythonMs.median.toFixed(1)} ms in Python, ${s.roundTripMs.median.toFixed(1)} ms round trip (median) · ${s.classifiedPerSecond} frames classified/s · page ${s.displayFps} fps`;
      }, PERF_REFRESH_MS);
    }
  },
};
