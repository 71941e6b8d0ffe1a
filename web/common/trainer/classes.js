// classes.js — a trainer element's classes as Python keeps them: its state applied here, and
// adding, deleting and renaming a class. Each class is {name, count, thumbnails: [elements]}.

import { historyFromWorker } from "./view.js";

export const MIN_CLASSES = 2;
export const MAX_CLASSES = 10;

export const classMethods = {
  applyState(state) {
    const before = this.classes;
    this.classes = state.class_names.map((name, i) => ({
      name, count: state.counts[i], thumbnails: (before[i] && before[i].name === name) ? before[i].thumbnails : [],
    }));
    this.trained = state.trained;
    this.history = historyFromWorker(state.history);
    this.confusion = state.confusion;
    this.lastTraining = state.last_training;
    this.applyOwnState(state);
  },

  async classChange(op, args) {
    try {
      this.applyState(await this.request(op, { project: this.handle, ...args }));
      this.render();
      this.scheduleSave();
    } catch (error) {
      this.setStatus(`${error.name}: ${error.message}`, "error");
      this.render();
    }
  },

  addClass() {
    if (this.classes.length >= MAX_CLASSES) return;
    this.classChange("project_add_class", { name: `Class ${this.classes.length + 1}` });
  },

  deleteClass(index) {
    const { name, count } = this.classes[index];
    if (count && !confirm(`Delete "${name}" and its ${count} samples?`)) return;
    this.classChange("project_delete_class", { class_index: index });
  },

  renameClass(index, input) {
    const name = input.value.trim();
    if (!name || name === this.classes[index].name) {
      input.value = this.classes[index].name;
      return;
    }
    this.classChange("project_rename_class", { class_index: index, name });
  },

  /** Tell Python a sample of class `index` is gone (its thumbnail `thumb` too). */
  async deleteSample(index, thumb) {
    const entry = this.classes[index];
    const position = entry.thumbnails.indexOf(thumb);
    if (position < 0) return;
    entry.thumbnails.splice(position, 1);
    thumb.remove();
    entry.count -= 1;
    this.showClassSamples(index);
    try {
      entry.count = await this.request("project_delete_sample", { project: this.handle, class_index: index, sample_index: position });
      this.showClassSamples(index);
      this.scheduleSave();
    } catch (error) {
      this.setStatus(`${error.name}: ${error.message}`, "error");
    }
  },
};
