// rendering.js — the element drawn from its state: the class cards, the bars, the charts, the
// confusion matrix, and which buttons may be pressed.

import { buildBars } from "../../common/bars.js";
import { CLASS_CARD, drawTrainingCurves, fillConfusion } from "./view.js";
import { MAX_CLASSES, MIN_CLASSES } from "./constants.js";

export const renderingMethods = {
  render() {
    const list = this.$(".class-list");
    list.replaceChildren(...this.classes.map((entry, index) => this.classCard(entry, index)));
    buildBars(this.$(".bars"), this.classes.map((entry) => entry.name));
    this.showPrediction(null);
    this.drawCharts();
    fillConfusion(this.$(".confusion"), this.confusion, this.classes.map((c) => c.name));
    this.$(".mode").value = this.mode || "pretrained";
    this.$(".seen-caption").textContent = `What the network gets: the centre square, ${this.size}×${this.size} pixels` +
      (this.mode === "pretrained" ? ", described by EfficientNet-Lite0 (trained on ImageNet)" : "");
    this.updateButtons();
  },

  classCard(entry, index) {
    const li = document.createElement("li");
    li.className = "class-card";
    li.innerHTML = CLASS_CARD;
    const input = li.querySelector(".class-name");
    input.value = entry.name;
    input.onchange = () => this.renameClass(index, input);
    input.onkeydown = (event) => { if (event.key === "Enter") input.blur(); };
    const remove = li.querySelector(".delete-class");
    remove.setAttribute("aria-label", `Delete class ${entry.name}`);
    remove.onclick = () => this.deleteClass(index);
    const record = li.querySelector(".record");
    record.onpointerdown = (event) => {
      record.setPointerCapture(event.pointerId);
      this.beginRecording(index, record);
    };
    record.onpointerup = record.onpointercancel = record.onlostpointercapture = () => this.endRecording(record);
    record.oncontextmenu = (event) => event.preventDefault(); // a long press is recording, not a menu
    record.onkeydown = (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) {
        event.preventDefault();
        this.beginRecording(index, record);
      }
    };
    record.onkeyup = () => this.endRecording(record);
    record.onblur = () => this.endRecording(record);
    li.querySelector(".upload input").onchange = (event) => this.uploadSamples(index, event.target);
    const thumbs = li.querySelector(".thumbs");
    thumbs.onclick = (event) => {
      const button = event.target.closest(".delete-sample");
      if (button) this.deleteSample(index, button.parentElement);
    };
    thumbs.append(...[...entry.thumbnails].reverse()); // newest first
    this.showClassSamples(index, null, li);
    return li;
  },

  // Update a class card's count (and put a new thumbnail first).
  showClassSamples(index, newThumb = null, card = null) {
    card = card || this.$(".class-list").children[index];
    if (!card) return;
    const { count } = this.classes[index];
    card.querySelector(".count").textContent = `${count} sample${count === 1 ? "" : "s"}`;
    if (newThumb) card.querySelector(".thumbs").prepend(newThumb);
    this.updateButtons();
  },

  updateButtons() {
    const $ = this.$;
    const training = Boolean(this.training);
    const loaded = this.handle !== null;
    $(".start-camera").disabled = Boolean(this.stream) || Boolean(this.cameraStarting);
    $(".stop-camera").disabled = !this.stream;
    $(".add-class").disabled = !loaded || training || this.classes.length >= MAX_CLASSES;
    this.shadowRoot.querySelectorAll(".delete-class").forEach((b) => { b.disabled = training || this.classes.length <= MIN_CLASSES; });
    const ready = loaded && this.classes.length >= MIN_CLASSES && this.classes.every((c) => c.count >= 2);
    $(".train").disabled = training || !ready;
    $(".train").textContent = this.trained ? "Train more" : "Train";
    $(".restart").disabled = training || !ready || !this.trained;
    $(".cancel").disabled = !training;
    for (const selector of [".new-project", ".open-file", ".download", ".mode"]) $(selector).disabled = !loaded || training;
    this.shadowRoot.querySelectorAll(".record, .upload input").forEach((b) => { b.disabled = !loaded; });
    if (!training) { // a hint replaces an earlier hint, not the outcome of a training run
      const missing = this.classes.filter((c) => c.count < 2).map((c) => c.name);
      const stale = !this.trained && this.epochsDone() > 0;
      const hint = missing.length
        ? `Record at least 2 samples (a few dozen is better) for: ${missing.join(", ")}.`
        : stale ? "The classes changed since the network was trained: Train starts a new network." : "";
      if (hint || this.showingHint) this.setMessage(".train-message", hint);
      this.showingHint = Boolean(hint);
    }
  },

  drawCharts() {
    drawTrainingCurves(this.$(".loss-chart"), this.$(".accuracy-chart"), this.history);
  },
};
