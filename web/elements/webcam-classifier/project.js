// project.js — the element's project file: a new one, one opened from bytes or a file, the
// download, and the autosave into this browser a while after the last change.

import nnpy from "../../common/library.js";
import { takeFiles } from "../../common/files.js";
import { toImageData } from "../../common/image.js";
import { loadSavedProject, saveProject } from "./store.js";
import { thumbnail } from "./view.js";
import { BACKBONE_KEY, BACKBONE_URL } from "./constants.js";

const AUTOSAVE_DELAY_MS = 1200;

export const projectMethods = {
  async newProject() {
    const mode = this.getAttribute("mode") || "pretrained";
    this.adoptProject(await this.request("project_new", { class_names: ["Class 1", "Class 2"], mode }));
    await this.ensureBackbone();
  },

  // Pretrained mode needs the backbone in the worker: loaded once per element (9 MB, float16), then
  // given to each project that needs it.
  async ensureBackbone() {
    if (!this.needsBackbone || this.handle === null) return;
    const handle = this.handle;
    if (!this.backbone) {
      this.setStatus("Loading the pretrained image network (EfficientNet-Lite0, 9 MB)…");
      this.backbone = this.client.loadModel(BACKBONE_URL);
      this.backbone.catch(() => { this.backbone = null; });
    }
    const model = await this.backbone;
    if (handle !== this.handle) return; // another project was opened meanwhile
    this.applyState(await this.request("project_set_backbone", { project: handle, model: model.handle, key: BACKBONE_KEY }));
    this.render();
  },

  async setMode(mode) {
    try {
      this.applyState(await this.request("project_set_mode", { project: this.handle, mode }));
      await this.ensureBackbone();
      this.render();
      this.scheduleSave();
    } catch (error) {
      this.setStatus(`${error.name}: ${error.message}`, "error");
    }
  },

  // Open .safetensors bytes as the current project; on failure the current project stays.
  async openBytes(bytes) {
    const opened = await this.request("project_open", { data: new Uint8Array(bytes) });
    const thumbnails = await Promise.all(opened.class_names.map((_, i) =>
      this.request("project_samples", { project: opened.project, class_index: i })));
    this.adoptProject(opened, thumbnails);
    await this.ensureBackbone();
  },

  // The project `opened` in Python becomes the current one (the previous one is closed), with the
  // samples' pixels (N, S, S, 3) per class as thumbnails.
  adoptProject(opened, thumbnails = []) {
    if (this.handle !== null) this.request("project_close", { project: this.handle }).catch(() => {});
    this.handle = opened.project;
    this.classes = [];
    this.applyState(opened);
    this.classes.forEach((c, i) => {
      const samples = thumbnails[i];
      c.thumbnails = samples ? Array.from({ length: samples.shape[0] }, (_, n) => thumbnail(toImageData(samples, n))) : [];
    });
    this.render();
  },

  // Autosave: a while after the last change (recording makes ten a second), one write.
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
      await saveProject(this.projectName, bytes);
      if (!this.unsaved) this.setSaveState(`Saved in this browser at ${new Date().toLocaleTimeString()} (${(bytes.byteLength / 1e6).toFixed(1)} MB)`, "ok");
      this.dispatchEvent(new CustomEvent("saved", { detail: { bytes: bytes.byteLength } }));
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
