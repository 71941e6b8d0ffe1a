// rendering.js — the element's own parts of drawing its state: a class card (hold to record,
// upload images), the camera's buttons and the "Learn with" choice; the rest is
// web/common/trainer/rendering.js.

import { CLASS_CARD } from "./view.js";

export const renderingMethods = {
  classCard(entry, index) {
    const li = document.createElement("li");
    li.className = "class-card";
    li.innerHTML = CLASS_CARD;
    const record = li.querySelector(".record");
    this.wireHoldButton(record, () => this.beginRecording(index, record));
    li.querySelector(".upload input").onchange = (event) => this.uploadSamples(index, event.target);
    this.wireClassCard(li, entry, index);
    return li;
  },

  // The "Learn with" choice and what the network gets, as the project says.
  showMode() {
    this.$(".mode").value = this.mode || "pretrained";
    this.$(".seen-caption").textContent = `What the network gets: the centre square, ${this.size}×${this.size} pixels` +
      (this.mode === "pretrained" ? ", described by EfficientNet-Lite0 (trained on ImageNet)" : "");
  },

  updateButtons() {
    this.showMode();
    this.$(".start-camera").disabled = Boolean(this.stream) || Boolean(this.cameraStarting);
    this.$(".stop-camera").disabled = !this.stream;
    this.updateTrainerButtons(".record, .upload input");
    this.$(".open-teachable").disabled = this.handle === null || Boolean(this.training);
  },
};
