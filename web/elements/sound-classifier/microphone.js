// microphone.js — the element's microphone: start and stop it, explain a failure, keep the last
// seconds it heard in a ring, and draw the level meter and the spectrogram picture. The samples
// arrive from the audio thread (an AudioWorklet) in blocks; nothing here waits for Python.

import * as microphone from "../../common/microphone.js"; // microphone.startMicrophone is the function, this.startMicrophone the method
import { scrollSpectrogram } from "./view.js";

const RING_SECONDS = 40; // the longest hold-to-record, and the sound live listening reads from
const LISTEN_EVERY_MS = 250; // a decision every quarter second, each on the last second heard

export const microphoneMethods = {
  async startMicrophone() {
    if (this.mic || this.microphoneStarting) return;
    this.microphoneStarting = true;
    this.updateButtons();
    this.showDeviceProblem(null);
    const seconds = Number(this.getAttribute("permission-timeout") || 10);
    try {
      this.mic = await microphone.startMicrophone({
        onSamples: (block) => this.onSamples(block),
        timeoutMs: seconds * 1000,
        onWaiting: (problem) => this.showDeviceProblem(problem, "waiting"),
      });
      this.ring = new microphone.SoundRing(RING_SECONDS, this.mic.rate);
      this.showDeviceProblem(null);
      this.$(".scope").classList.add("on");
      this.drawLoop = requestAnimationFrame(() => this.drawSound());
      this.listenTimer = setInterval(() => this.listen(), LISTEN_EVERY_MS);
    } catch (error) {
      this.showDeviceProblem(error);
    } finally {
      this.microphoneStarting = false;
      this.updateButtons();
    }
  },

  stopMicrophone() {
    this.endRecording();
    clearInterval(this.listenTimer);
    cancelAnimationFrame(this.drawLoop);
    if (this.mic) this.mic.stop();
    this.mic = null;
    this.answers = [];
    this.$(".scope").classList.remove("on");
    this.$(".level-fill").style.width = "0";
    this.$(".level-text").textContent = "–";
    this.updateButtons();
    this.showPrediction(null);
  },

  // Every block the audio thread sends (64 ms): into the ring; a recording of N clips ends when
  // it holds enough.
  onSamples(block) {
    this.ring.push(block);
    this.lastBlockAt = performance.now();
    if (this.recording && this.ring.total >= this.recording.until) this.endRecording();
  },

  // Once a display frame: the level meter and a new column of the spectrogram picture.
  drawSound() {
    if (!this.mic) return;
    const { analyser } = this.mic;
    const canvas = this.$(".spectrogram");
    const width = Math.round(canvas.clientWidth), height = Math.round(canvas.clientHeight);
    if (width && (canvas.width !== width || canvas.height !== height)) Object.assign(canvas, { width, height });
    const decibels = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(decibels);
    scrollSpectrogram(canvas, decibels);
    const wave = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(wave);
    const rms = Math.sqrt(wave.reduce((sum, v) => sum + v * v, 0) / wave.length);
    const db = 20 * Math.log10(rms + 1e-9);
    this.$(".level-fill").style.width = `${Math.max(0, Math.min(100, (db + 70) / 70 * 100)).toFixed(0)}%`;
    this.$(".level-text").textContent = `${Math.max(-99, db).toFixed(0)} dB`;
    this.drawLoop = requestAnimationFrame(() => this.drawSound());
  },
};
