// recording.js — the element's samples: recorded while a class's button is held, uploaded as
// images (deleting one is web/common/trainer/classes.js). Each goes to Python at once; the count
// comes back.

import nnpy from "../../common/library.js";
import { takeFiles } from "../../common/files.js";
import { thumbnail } from "./view.js";

export const recordingMethods = {
  // One frame (ImageData, this.size square) into class `index`, recorded in `burst` (one press of
  // a record button, or one upload; validation holds out whole bursts): a thumbnail now, the
  // count from Python. Frames go to Python one after another while the button is held, so an
  // answer counts the samples up to its own: the count shown adds those still on their way
  // (`entry.sending`), else it would fall back for a moment at every answer.
  async addSample(index, image, burst) {
    const entry = this.classes[index];
    const thumb = thumbnail(image);
    entry.thumbnails.push(thumb);
    entry.count += 1;
    entry.sending = (entry.sending || 0) + 1;
    this.showClassSamples(index, thumb);
    try {
      const total = await this.request("project_add_samples", {
        project: this.handle, class_index: index, pixels: new Uint8Array(image.data.buffer),
        width: image.width, height: image.height, count: 1, burst,
      });
      entry.sending -= 1;
      entry.count = total + entry.sending;
      this.showClassSamples(index);
      this.scheduleSave();
    } catch (error) {
      entry.sending -= 1;
      entry.count -= 1;
      entry.thumbnails.splice(entry.thumbnails.indexOf(thumb), 1);
      thumb.remove();
      this.showClassSamples(index);
      this.setStatus(`The sample was not added: ${error.name}: ${error.message}`, "error");
    }
  },

  async uploadSamples(index, input) {
    const files = takeFiles(input);
    const refused = [];
    const burst = ++this.burst; // one upload: one burst
    for (const file of files) {
      try {
        const bitmap = await createImageBitmap(file);
        const pixels = nnpy.readImage(bitmap, this.size, this.size, this.canvas);
        bitmap.close();
        await this.addSample(index, pixels, burst);
      } catch {
        refused.push(file.name);
      }
    }
    if (refused.length) this.setStatus(`Not images (skipped): ${refused.join(", ")}`, "error");
  },

  beginRecording(index, button) {
    if (this.handle === null) return;
    if (!this.stream) {
      this.setStatus("Start the camera first, then hold the button to record.", "error");
      return;
    }
    this.recording = index;
    this.burst += 1; // the frames of one press are near copies: they are validated together
    this.lastRecordedAt = 0;
    button.classList.add("active");
    const badge = this.$(".recording-badge");
    badge.textContent = `● Recording “${this.classes[index].name}”`;
    badge.hidden = false;
  },

  endRecording() {
    this.recording = null;
    this.$(".recording-badge").hidden = true;
    this.shadowRoot.querySelectorAll(".record.active").forEach((b) => b.classList.remove("active"));
  },
};
