// rendering.js — a trainer element drawn from its state: the class cards (the element's
// `classCard(entry, index)` makes one), the bars, the charts, the confusion matrix, and which of
// the buttons every trainer has may be pressed (the element's `updateButtons` adds its device's).

import { buildBars } from "../bars.js";
import { fillConfusion } from "./view.js";
import { MAX_CLASSES, MIN_CLASSES } from "./classes.js";

export const renderingMethods = {
  render() {
    const list = this.$(".class-list");
    const editing = this.nameBeingEdited(list);
    list.replaceChildren(...this.classes.map((entry, index) => this.classCard(entry, index)));
    if (editing) this.keepEditingName(list, editing);
    buildBars(this.$(".bars"), this.classes.map((entry) => entry.name));
    this.showPrediction(null);
    this.drawCharts();
    fillConfusion(this.$(".confusion"), this.confusion, this.classes.map((c) => c.name));
    this.updateButtons();
  },

  // A button that records while it is held: by pointer (captured, so sliding off still ends it)
  // or by keyboard (Space or Enter down ... up). Only the button whose press began the recording
  // ends it: a mouse press on another class's button first starts that one's recording, and only
  // then does the previously pressed button lose focus (its blur must not end the new recording).
  wireHoldButton(button, begin) {
    const press = () => {
      this.heldButton = button;
      begin();
    };
    const release = () => {
      if (this.heldButton !== button) return;
      this.heldButton = null;
      this.endRecording();
    };
    button.onpointerdown = (event) => {
      button.setPointerCapture(event.pointerId);
      press();
    };
    button.onpointerup = button.onpointercancel = button.onlostpointercapture = release;
    button.oncontextmenu = (event) => event.preventDefault(); // a long press is recording, not a menu
    button.onkeydown = (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) {
        event.preventDefault();
        press();
      }
    };
    button.onkeyup = button.onblur = release;
  },

  // The name a person is typing into a class card (focused), or null: cards are redrawn whenever
  // Python answers (another class renamed, a sample recorded), and what is typed there must
  // survive it. The field is let go first: removing a focused field blurs it, which would commit
  // the half-typed name.
  nameBeingEdited(list) {
    const input = this.shadowRoot.activeElement;
    if (!input || !input.classList.contains("class-name") || !list.contains(input)) return null;
    input.onblur = null;
    const index = [...list.children].indexOf(input.closest(".class-card"));
    return { index, was: input.defaultValue, value: input.value, start: input.selectionStart,
             end: input.selectionEnd, direction: input.selectionDirection };
  },

  // Put an edit back into the redrawn card of the same class (if that class is still there, under
  // the name the edit began from or the one it committed).
  keepEditingName(list, { index, was, value, start, end, direction }) {
    const card = list.children[index];
    if (!card || ![was, value.trim()].includes(this.classes[index].name)) return;
    const input = card.querySelector(".class-name");
    input.value = value;
    input.focus({ preventScroll: true });
    input.setSelectionRange(start, end, direction);
  },

  // A class card's name field, delete button and thumbnails, wired (`li` holds the card markup).
  wireClassCard(li, entry, index) {
    const input = li.querySelector(".class-name");
    input.defaultValue = input.value = entry.name; // defaultValue: the name the card was drawn with
    input.onblur = () => this.renameClass(index, input); // committed when left (Enter leaves it)
    input.onkeydown = (event) => { if (event.key === "Enter") input.blur(); };
    const remove = li.querySelector(".delete-class");
    remove.setAttribute("aria-label", `Delete class ${entry.name}`);
    remove.onclick = () => this.deleteClass(index);
    const thumbs = li.querySelector(".thumbs");
    thumbs.onclick = (event) => {
      const button = event.target.closest(".delete-sample");
      if (button) this.deleteSample(index, button.parentElement);
    };
    thumbs.append(...[...entry.thumbnails].reverse()); // newest first
    this.showClassSamples(index, null, li);
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

  // The buttons of classes, training and the project file; `recordButtons` is the selector of
  // the element's buttons that add samples.
  updateTrainerButtons(recordButtons) {
    const $ = this.$;
    const training = Boolean(this.training);
    const loaded = this.handle !== null;
    $(".add-class").disabled = !loaded || training || this.classes.length >= MAX_CLASSES;
    this.shadowRoot.querySelectorAll(".delete-class").forEach((b) => { b.disabled = training || this.classes.length <= MIN_CLASSES; });
    const ready = loaded && this.classes.length >= MIN_CLASSES && this.classes.every((c) => c.count >= 2);
    $(".train").disabled = training || !ready;
    $(".train").textContent = this.trained ? "Train more" : "Train";
    $(".restart").disabled = training || !ready || !this.trained;
    $(".cancel").disabled = !training;
    this.shadowRoot.querySelectorAll(".new-project, .open-file, .download, .mode").forEach((b) => { b.disabled = !loaded || training; });
    this.shadowRoot.querySelectorAll(recordButtons).forEach((b) => { b.disabled = !loaded; });
    this.refreshHint();
    if (!training) { // a hint replaces an earlier hint, not the outcome of a training run
      const missing = this.classes.filter((c) => c.count < 2).map((c) => c.name);
      const stale = !this.trained && this.epochsDone() > 0;
      const hint = missing.length
        ? `Record at least 2 samples (${this.enoughSamples} is better) for: ${missing.join(", ")}.`
        : stale ? "The classes changed since the network was trained: Train starts a new network." : "";
      if (hint || this.showingHint) this.setMessage(".train-message", hint);
      this.showingHint = Boolean(hint);
    }
  },
};
