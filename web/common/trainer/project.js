// project.js — a trainer element's project file: a new one, one opened from bytes or a file, the
// download, and the autosave into this browser a while after the last change. The element says
// what is its own: `kind` ("image", "sound"), `firstClasses` (a new project's class names),
// `storePlace` (its IndexedDB database), `thumbnailsOf(samples)` (an element per sample of the
// array project_samples gives), and what a project needs before use (`newProjectOptions()`,
// `prepareProject()`).

import nnpy from "../library.js";
import { takeFiles } from "../files.js";
import { loadSavedProject, saveProject } from "./store.js";

const AUTOSAVE_DELAY_MS = 1200;

export const projectMethods = {
  async newProject() {
    this.adoptProject(await this.request("project_new", { class_names: this.firstClasses, kind: this.kind, ...this.newProjectOptions() }));
    await this.prepareProject();
  },

  // Open .safetensors bytes as the current project; on failure the current project stays.
  async openBytes(bytes) {
    const opened = await this.request("project_open", { data: new Uint8Array(bytes), kind: this.kind });
    const samples = await Promise.all(opened.class_names.map((_, i) =>
      this.request("project_samples", { project: opened.project, class_index: i })));
    this.adoptProject(opened, samples);
    await this.prepareProject();
  },

  // The project `opened` in Python becomes the current one (the previous one is closed), with
  // its samples per class shown as thumbnails.
  adoptProject(opened, samples = []) {
    if (this.handle !== null) this.request("project_close", { project: this.handle }).catch(() => {});
    this.handle = opened.project;
    this.classes = [];
    this.applyState(opened);
    this.classes.forEach((c, i) => { c.thumbnails = samples[i] ? this.thumbnailsOf(samples[i]) : []; });
    this.render();
  },

  // Restore the project this browser saved, or start a new one; says which in the status line.
  async restoreOrStart() {
    const saved = await loadSavedProject(this.storePlace, this.projectName).catch(() => null);
    if (!saved) {
      await this.newProject();
      this.showHint();
      return;
    }
    try {
      await this.openBytes(saved.bytes);
      const samples = this.classes.reduce((sum, c) => sum + c.count, 0);
      this.setStatus(`Restored your project from this browser: ${this.classes.length} classes, ${samples} samples${this.trained ? ", trained" : ""}.`);
      this.setSaveState(`Saved in this browser ${new Date(saved.savedAt).toLocaleString()}`);
    } catch (error) {
      await this.newProject();
      this.setStatus(`The project saved in this browser could not be opened (${error.message}); this is a new one.`, "error");
    }
  },

  confirmNewProject() {
    if (confirm("Start a new project? The classes, samples and model of this one are forgotten (download it first to keep it).")) {
      this.newProject().then(() => this.scheduleSave());
    }
  },

  // Autosave: a while after the last change (recording makes many a second), one write.
  scheduleSave() {
    clearTimeout(this.saveTimer);
    this.unsaved = true;
    this.setSaveState("Unsaved changes…");
    this.saveTimer = setTimeout(() => this.saveNow(), AUTOSAVE_DELAY_MS);
  },

  async saveNow() {
    clearTimeout(this.saveTimer);
    if (this.handle === null || !this.unsaved) return;
    if (this.training) { // the weights change every batch: save when training ends
      this.saveTimer = setTimeout(() => this.saveNow(), AUTOSAVE_DELAY_MS);
      return;
    }
    this.unsaved = false; // changes from now on need another save
    try {
      const bytes = await this.request("project_to_bytes", { project: this.handle });
      const savedAt = Date.now();
      await saveProject(this.storePlace, this.projectName, bytes, savedAt);
      if (!this.unsaved) this.setSaveState(`Saved in this browser at ${new Date(savedAt).toLocaleTimeString()} (${(bytes.byteLength / 1e6).toFixed(1)} MB)`, "ok");
      this.emit("saved", { bytes: bytes.byteLength, savedAt });
    } catch (error) {
      this.unsaved = true;
      this.setSaveState(`Not saved in this browser: ${error.message}. Download the project to keep it.`, "error");
    }
  },

  async download() {
    try {
      const bytes = await this.request("project_to_bytes", { project: this.handle });
      nnpy.downloadBytes(bytes, `${this.projectName}-project.safetensors`);
      this.setMessage(".project-message", `Downloaded ${(bytes.byteLength / 1e6).toFixed(1)} MB: open it here later to continue.`, "ok");
    } catch (error) {
      this.setMessage(".project-message", `${error.name}: ${error.message}`, "error");
    }
  },

  async openFile(input) {
    const [file] = takeFiles(input);
    if (!file) return;
    this.setMessage(".project-message", `Reading ${file.name}…`);
    try {
      await this.openBytes(await file.arrayBuffer());
      this.setMessage(".project-message", `Opened ${file.name}: ${this.classes.length} classes, ${this.classes.reduce((s, c) => s + c.count, 0)} samples${this.trained ? ", trained" : ""}.`, "ok");
      this.scheduleSave();
    } catch (error) {
      this.setMessage(".project-message", `${file.name} was refused: ${error.message.replace(/\.?$/, ".")} Your current project is unchanged.`, "error");
    }
  },
};
