// backbone.js — the element's two ways to learn ("Learn with"): pretrained features, where
// EfficientNet-Lite0 (loaded once into the worker) describes every sample and a small head learns
// the classes, or a small CNN from scratch. When the pretrained network cannot be loaded, the
// project learns from scratch and the page says why.

import { BACKBONE_KEY, BACKBONE_URL } from "./constants.js";

export const backboneMethods = {
  // A new project learns as the `mode` attribute says ("pretrained" unless the backbone failed).
  newProjectOptions() {
    const wanted = this.getAttribute("mode") || "pretrained";
    return { mode: this.backboneProblem ? "scratch" : wanted };
  },

  applyOwnState(state) {
    this.mode = state.mode;
    this.size = state.image_size;
    this.needsBackbone = Boolean(state.needs_backbone);
    this.burst = Math.max(this.burst, state.last_burst || 0); // new recordings get new numbers
  },

  // Pretrained mode needs the backbone in the worker: loaded once per element (9 MB, float16),
  // then given to each project that needs it. Never throws: on failure the project learns from
  // scratch, with the reason under "Learn with".
  async prepareProject() {
    if (!this.needsBackbone || this.handle === null) return;
    const handle = this.handle;
    try {
      if (!this.backbone) {
        this.setMessage(".mode-message", "Loading the pretrained image network (EfficientNet-Lite0, 9 MB)…");
        this.backbone = this.client.loadModel(this.getAttribute("backbone") || BACKBONE_URL);
      }
      const model = await this.backbone;
      if (handle !== this.handle) return; // another project was opened meanwhile
      this.applyState(await this.request("project_set_backbone", { project: handle, model: model.handle, key: BACKBONE_KEY }));
      this.setMessage(".mode-message", "");
    } catch (error) {
      this.backbone = null;
      this.backboneProblem = `${error.name}: ${error.message}`;
      if (handle !== this.handle) return;
      this.applyState(await this.request("project_set_mode", { project: handle, mode: "scratch" }));
      this.setMessage(".mode-message", `The pretrained image network could not be loaded (${this.backboneProblem}), so this project learns from scratch. Reload the page to try again.`, "error");
    }
    this.render();
  },

  async setMode(mode) {
    try {
      if (mode === "pretrained") this.backboneProblem = null; // the user asks to try again
      this.applyState(await this.request("project_set_mode", { project: this.handle, mode }));
      await this.prepareProject();
      this.render();
      this.scheduleSave();
    } catch (error) {
      this.setStatus(`${error.name}: ${error.message}`, "error");
      this.render();
    }
  },
};
