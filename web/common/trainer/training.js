// training.js — a trainer element's training loop: a job in the worker run in short steps (live
// predictions get in between), its epochs added to the history as they end; Cancel aborts it.
// The element has inputs .epochs (empty: the project's own default) and .learning-rate, and a
// .train-message line; when a run ends the status line says what now (`trainedText`) and the
// element fires "trained".

import { appendToHistory } from "../history.js";
import { runJob } from "../training.js";
import { HISTORY_KEYS, drawTrainingCurves, historyFromWorker, trainingSummary } from "./view.js";

const TRAIN_STEP_MS = 50; // a training step's length: predictions get in between steps
const DEFAULT_LEARNING_RATE = 1e-3;

export const trainingMethods = {
  async train(restart) {
    if (this.training || this.handle === null) return;
    const controller = (this.training = new AbortController());
    this.showingHint = false;
    this.updateButtons();
    const given = Math.round(Number(this.$(".epochs").value));
    const epochs = given >= 1 ? given : null; // empty: the project's default (more for a small head)
    const learningRate = Number(this.$(".learning-rate").value) || DEFAULT_LEARNING_RATE;
    this.setMessage(".train-message", "Starting…");
    try {
      const started = await this.request("project_train_start", { project: this.handle, epochs, learning_rate: learningRate, restart });
      const { job } = started;
      this.applyState(started.state);
      this.render();
      this.updateButtons();
      const done = await runJob(this.client, job, {
        budgetMs: TRAIN_STEP_MS, signal: controller.signal, onStep: (step) => this.showStep(step),
      });
      this.applyState(done.state);
      this.setMessage(".train-message", trainingSummary(this.history, this.lastTraining), "ok");
      this.trainingEnded(false);
    } catch (error) {
      if (error.name === "AbortError" && error.stopped) {
        this.applyState(error.stopped.state);
        this.setMessage(".train-message", `Cancelled after ${this.epochsDone()} epochs in all. The network keeps its best weights so far; press Train more to continue.`);
        this.trainingEnded(true);
      } else {
        this.setMessage(".train-message", `${error.name}: ${error.message}`, "error");
      }
    } finally {
      this.training = null;
      this.render();
      this.scheduleSave();
    }
  },

  // A run ended with a trained network: the status line says what now, and the host page hears.
  trainingEnded(stopped) {
    if (!this.trained) return;
    this.showHint();
    this.emit("trained", {
      history: structuredClone(this.history), confusion: this.confusion,
      classNames: this.classes.map((c) => c.name), stopped,
    });
  },

  // One step's epochs into the history and the charts; where training is, in words.
  showStep(step) {
    for (const log of step.epochs) appendToHistory(this.history, historyFromWorker(log), HISTORY_KEYS);
    if (step.epochs.length) this.drawCharts();
    const last = step.batch || step.epochs[step.epochs.length - 1];
    if (last && last.kind === "embed") { // pretrained features: each sample described once
      this.setMessage(".train-message", `Describing the samples with the pretrained network: ${last.done} of ${last.total}`);
    } else if (last) {
      this.setMessage(".train-message", `Epoch ${last.epoch + 1} of ${last.epochs}` +
        (step.batch ? ` · batch ${step.batch.batch + 1} of ${step.batch.batches} · loss ${step.batch.loss.toFixed(3)}` : ""));
    }
  },

  epochsDone() {
    return (this.history.loss || []).length;
  },

  drawCharts() {
    drawTrainingCurves(this.$(".loss-chart"), this.$(".accuracy-chart"), this.history);
  },
};
