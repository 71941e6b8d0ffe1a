// <nnpy-sound-classifier>: teach a small network your own sounds from the microphone (a word, a
// clap, a whistle, and the room's background noise), train it on this device, and hear it
// recognise them live; keep the whole project.
//
//   <script src="https://YOUR-HOST/web/nnpy.js"></script>
//   <nnpy-sound-classifier></nnpy-sound-classifier>
//
// (or import this module alone: it brings nnpy.js). Attributes: project-name (the IndexedDB key
// the project autosaves under; default "sound"), permission-timeout (seconds to wait for an
// answer to the microphone prompt; default 10). Property `nn`: a loaded nnpy client (or a promise
// of one); without it the element uses the page's one worker, nnpy.shared(). Methods: stats() and
// resetStats() (live-listening timings); `ready`, a promise; `history`, {loss, accuracy, valLoss,
// valAccuracy} per epoch; `decisions`, the latest live answers ({label, index, p, sure; at and
// sent, performance.now() of the answer and its request; heard, the samples heard by then}).
// Events: "prediction" (its detail adds `sure`), "trained", "saved" (web/common/trainer/element.js).
//
// The microphone is heard at 16 kHz by an AudioWorklet in the audio thread; the main thread keeps
// the last 40 seconds in a ring. All Python runs in nnpy's worker (nnpy/web/projects.py):
// recordings go there as float32 samples and come back as 1 s clips (their loudest seconds);
// every quarter second the last second heard goes there to be classified. The element's methods
// live in this folder by concern (microphone, recording, live); what every trainer element shares
// (classes, training, the project file) is in web/common/trainer/.

import { spread } from "../../common/trainer/timings.js";
import { TrainerElement } from "../../common/trainer/element.js";
import { CLASS_CARD, TEMPLATE, clipThumbnail } from "./view.js";
import { microphoneMethods } from "./microphone.js";
import { recordingMethods } from "./recording.js";
import { liveMethods } from "./live.js";

const CLIP_RATE = 16000; // the clips Python keeps: 1 s at 16 kHz, int16

class SoundClassifier extends TrainerElement {
  constructor() {
    super(TEMPLATE, new URL("style.css", import.meta.url));
    this.kind = "sound";
    this.firstClasses = ["Background noise", "Sound 1", "Sound 2"];
    this.backgroundClass = 0; // Python mixes its clips into the others while training
    this.storePlace = { database: "nnpy-sound", store: "projects" };
    this.readyText = "Ready. Start the microphone, record 8 or more clips of each sound (and of the room's background noise), then train.";
    this.defaultProjectName = "sound";
    this.enoughSamples = "8 or more";
    this.mic = null;
    this.ring = null;
    this.recording = null; // {index, clips, from, until} while recording
    this.decisions = [];
    this.answers = []; // the latest answers' probabilities, averaged into a decision
    this.timings.latency = [];
    const $ = this.$;
    $(".start-microphone").onclick = () => this.startMicrophone();
    $(".stop-microphone").onclick = () => this.stopMicrophone();
    $(".threshold").oninput = () => { $(".threshold-value").textContent = `${Math.round($(".threshold").value * 100)}%`; };
    $(".clip-count").onchange = () => this.render();
  }

  startDevice() { return this.startMicrophone(); }

  stopDevice() { this.stopMicrophone(); }

  get deviceOn() { return Boolean(this.mic); }

  get trainedText() {
    return this.mic ? "Trained: the network listens live. Record more or train again to improve it."
      : "Trained. Start the microphone to hear it listen live.";
  }

  get clipCount() {
    return Math.max(1, Math.min(30, Math.round(Number(this.$(".clip-count").value) || 8)));
  }

  /** A thumbnail per clip of `samples` (int16, shape (N, 16000), as project_samples gives). */
  thumbnailsOf(samples) {
    const [count, length] = samples.shape;
    return Array.from({ length: count }, (_, n) => clipThumbnail(samples.subarray(n * length, (n + 1) * length), CLIP_RATE));
  }

  classCard(entry, index) {
    const li = document.createElement("li");
    li.className = "class-card";
    li.innerHTML = CLASS_CARD;
    if (index === this.backgroundClass) li.classList.add("background");
    const record = li.querySelector(".record");
    this.wireHoldButton(record, () => this.beginRecording(index, record));
    const clips = li.querySelector(".record-clips");
    clips.textContent = `Record ${this.clipCount} clips`;
    clips.onclick = () => this.beginRecording(index, clips, this.clipCount);
    li.querySelector(".upload input").onchange = (event) => this.uploadSounds(index, event.target);
    this.wireClassCard(li, entry, index);
    return li;
  }

  updateButtons() {
    this.$(".start-microphone").disabled = Boolean(this.mic) || Boolean(this.microphoneStarting);
    this.$(".stop-microphone").disabled = !this.mic;
    this.updateTrainerButtons(".record, .record-clips, .upload input");
  }

  /** The trainer's timings and the latency from the newest sound heard to its answer. */
  stats() {
    return { ...super.stats(), latencyMs: spread(this.timings.latency) };
  }
}

Object.assign(SoundClassifier.prototype, microphoneMethods, recordingMethods, liveMethods);

if (!customElements.get("nnpy-sound-classifier")) customElements.define("nnpy-sound-classifier", SoundClassifier);
