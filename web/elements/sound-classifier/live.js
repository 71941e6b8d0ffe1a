// live.js — the element's live listening: every quarter second the last second heard goes to
// Python (one request in flight at most); the bars and the verdict show the mean of the last two
// answers (two overlapping windows agree before a sound is named, so the edge of a word that one
// window half holds is not taken for another word), and the verdict names a class only when that
// mean is at least the threshold.

import { showBars } from "../../common/bars.js";
import { percent } from "../../common/format.js";
import { medianMs } from "../../common/trainer/timings.js";

const DECISIONS_KEPT = 2000;
const ANSWERS_AVERAGED = 2; // half a second of overlapping windows
export const liveMethods = {
  async listen() {
    if (!this.trained || this.predicting || this.handle === null || !this.mic) return;
    const samples = this.ring.last(this.mic.rate); // the last second (overlapping the previous 3/4)
    if (samples.length < this.mic.rate / 2) return;
    this.predicting = true;
    const sent = performance.now();
    const heardAt = this.lastBlockAt; // when the newest of these samples arrived
    const heard = this.ring.total; // samples heard since the microphone started
    try {
      const result = await this.request("project_listen", { project: this.handle, samples, rate: this.mic.rate });
      const now = performance.now();
      if (!this.training) { // during training an answer waits for a training step to end
        this.remember("roundTrip", now - sent);
        this.remember("python", result.ms);
        this.remember("latency", now - heardAt);
      }
      this.remember("classified", now);
      this.decide(result, { at: now, sent, heard });
    } catch (error) {
      if (error.name === "RuntimeError") this.trained = false; // the classes changed: train again
      else this.setStatus(`Listening failed: ${error.name}: ${error.message}`, "error");
    } finally {
      this.predicting = false;
    }
  },

  // An answer becomes a decision: the mean of the latest answers, a class when it is sure
  // enough, "not sure" otherwise. `when`: {at, sent} (performance.now() of the answer and of the
  // request) and `heard` (the samples heard when it was asked).
  decide(result, when) {
    const classes = result.probabilities.length; // answers from before a class was added do not count
    this.answers = [...this.answers.filter((a) => a.length === classes), result.probabilities].slice(-ANSWERS_AVERAGED);
    const probabilities = result.probabilities.map((_, i) =>
      this.answers.reduce((sum, answer) => sum + answer[i], 0) / this.answers.length);
    const index = probabilities.indexOf(Math.max(...probabilities));
    const label = this.classes[index] ? this.classes[index].name : result.label;
    const p = probabilities[index];
    const sure = p >= Number(this.$(".threshold").value);
    this.decisions.push({ ...when, label, index, p, sure });
    if (this.decisions.length > DECISIONS_KEPT) this.decisions.shift();
    this.showPrediction({ probabilities, index, label }, sure);
    this.emit("prediction", { label, index, probabilities: Array.from(probabilities), sure });
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
    this.showPerf((s) => {
      const python = medianMs(s.pythonMs);
      const latency = medianMs(s.latencyMs, 0);
      const times = python && latency ? `${python} in Python, ${latency} from sound to answer (median)`
        : this.training ? "between training steps (not timed)" : "timing…";
      return `${s.classifiedPerSecond} answers/s, each on the last second · ${times} · page ${s.displayFps} fps · capture ${this.mic && this.mic.offMainThread ? "off the main thread" : "on the main thread"}`;
    });
  },
};
