// recording.js — the element's clips: recorded while a class's button is held (one clip a
// second of it) or N at a time, uploaded as sound files, deleted from their thumbnails. Python
// cuts a recording into its loudest non-overlapping seconds and keeps them.

import { takeFiles } from "../../common/files.js";
import { decodeAudioFile } from "../../common/microphone.js";

const SHORTEST_S = 0.3; // a hold shorter than this is a slip of the finger
const RECORD_MARGIN_S = 0.5; // N clips are taken from N + this many seconds

export const recordingMethods = {
  /** Record class `index`: `clips` clips (from a little more than that many seconds), or, with
   *  clips null, until endRecording (one clip per second held). */
  beginRecording(index, button, clips = null) {
    if (this.handle === null || this.recording) return;
    if (!this.mic) {
      this.setStatus("Start the microphone first, then record.", "error");
      return;
    }
    const rate = this.mic.rate;
    const seconds = clips ? clips + RECORD_MARGIN_S : this.ring.buffer.length / rate;
    this.recording = { index, clips, from: this.ring.total, until: this.ring.total + Math.round(seconds * rate) };
    button.classList.add("active");
    const badge = this.$(".recording-badge");
    badge.textContent = clips ? `● Recording ${clips} clips of “${this.classes[index].name}”: say it once a second`
      : `● Recording “${this.classes[index].name}”`;
    badge.hidden = false;
  },

  endRecording() {
    if (!this.recording) return;
    const { index, clips, from } = this.recording;
    this.recording = null;
    this.$(".recording-badge").hidden = true;
    this.shadowRoot.querySelectorAll(".record.active, .record-clips.active").forEach((b) => b.classList.remove("active"));
    const samples = this.ring.since(from);
    const seconds = samples.length / this.mic.rate;
    if (seconds < SHORTEST_S) {
      this.setStatus("Hold the button while you make the sound (a clip is one second).", "error");
      return;
    }
    this.addSound(index, samples, clips || Math.max(1, Math.floor(seconds)), this.mic.rate);
  },

  // A recording into class `index` as `clips` clips; thumbnails of the new clips from Python.
  async addSound(index, samples, clips, rate) {
    const entry = this.classes[index];
    try {
      const before = entry.count;
      entry.count = await this.request("project_add_sound", { project: this.handle, class_index: index, samples, clips, rate });
      const all = await this.request("project_samples", { project: this.handle, class_index: index });
      for (const thumb of this.thumbnailsOf(all).slice(before)) {
        entry.thumbnails.push(thumb);
        this.showClassSamples(index, thumb);
      }
      this.showClassSamples(index);
      this.scheduleSave();
    } catch (error) {
      this.setStatus(`The recording was not added: ${error.name}: ${error.message}`, "error");
    }
  },

  // Sound files into class `index`: one clip each (its loudest second), or one per second of a
  // background-noise recording.
  async uploadSounds(index, input) {
    const refused = [];
    for (const file of takeFiles(input)) {
      let sound;
      try {
        sound = await decodeAudioFile(file);
      } catch {
        refused.push(file.name);
        continue;
      }
      const clips = index === this.backgroundClass ? Math.max(1, Math.floor(sound.seconds)) : 1;
      await this.addSound(index, sound.samples, clips, sound.rate);
    }
    if (refused.length) this.setStatus(`Not sound files this browser can read (skipped): ${refused.join(", ")}`, "error");
  },
};
