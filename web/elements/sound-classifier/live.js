// live.js — the element's live listening: every quarter second the last second heard goes to
// Python (one request in flight at most), the bars show its answer, and the verdict names a class
// only when the network is at least as sure as the threshold.

import { showBars } from "../../common/bars.js";
import { percent } from "../../common/format.js";

const DECISIONS_KEPT = 2000;
export const liveMethods = {
  async listen() {
    if (!this.trained || this.predicting || this.handle === null || !this.mic) return;
    const samples = this.ring.last(this.mic.rate); // the last second (overlapping the previous 3/4)
    if (samples.length < this.mic.rate / 2) return;
    this.predicting = true;
    const sent = performance.now();
    const heardAt = this.lastBlockAt; // when the newest of these samples arrived
    try {
      const result = await this.request("project_listen", { project: this.handle, samples, rate: this.mic.rate });
      const now = performance.now();
      if (!this.training) { // during training an answer waits for a training step to end
        this.remember("roundTrip", now - sent);
        this.remember("python", result.ms);
        this.remember("latency", now - heardAt);
      }
      this.remember("classified", now);
      this.decide(result, now);
    } catch (error) {
      if (error.name === "RuntimeError") this.trained = false; // the classes changed: train again
      else this.setStatus(`Listening failed: ${error.name}: ${error.message}`, "error");
    } finally {
      this.predicting = false;
    }
  },

  // An answer becomes a decision: a class when the network is sure enough, "not sure" otherwise.
  decide(result, now) {
    const p = result.probabilities[result.index];
    const sure = p >= Number(this.$(".threshold").value);
    this.decisions.push({ at: now, label: result.label, index: result.index, p, sure });
    if (this.decisions.length > DECISIONS_KEPT) this.decisions.shift();
    this.showPrediction(result, sure);
  },

  showPrediction(result, sure = true) {
    const verdict = this.$(".verdict");
    showBars(this.$(".bars"), result);
    if (!result) {
      verdict.textContent = "";
      this.$(".perf").textContent = this.trained ? "Start the microphone to listen live." : "Train the network to listen live.";
      return;
    }
    verdict.textContent = sure ? `${result.label} · ${percent(result.probabilities[result.index])}` : "not sure";
    verdict.classList.toggle("unsure", !sure);
    this.showPerf((s) => `${s.classifiedPerSecond} answers/s, each on the last second · ${s.pythonMs.median.toFixed(1)} ms in Python, ${s.latencyMs.median.toFixed(0)} ms from sound to answer (median) · page ${s.displayFps} fps · capture ${this.mic && this.mic.offMainThread ? "off the main thread" : "on the main thread"}`);
  },
};
