// teachable.js — a Teachable Machine image model (its export: model.json, weights.bin and
// metadata.json, chosen together) opened as a new project: its classes, its MobileNet as the
// project's own pretrained features, its last layers to fine-tune on new samples
// (nnpy/web/projects.py, project_from_model). It classifies the camera at once.

import { takeFiles } from "../../common/files.js";

const bytesOf = async (file) => new Uint8Array(await file.arrayBuffer());

export const teachableMethods = {
  async openTeachable(input) {
    const files = takeFiles(input);
    if (!files.length) return;
    const modelJson = files.find((file) => file.name.endsWith(".json") && file.name !== "metadata.json");
    if (!modelJson) {
      this.setMessage(".project-message", "Choose the Teachable Machine export's files together: model.json, weights.bin and metadata.json.", "error");
      return;
    }
    const metadata = files.find((file) => file.name === "metadata.json");
    this.setMessage(".project-message", `Reading the Teachable Machine model ${modelJson.name}…`);
    try {
      const shards = {};
      for (const file of files) if (file !== modelJson && file !== metadata) shards[file.name] = await bytesOf(file);
      const model = await this.request("load_tfjs", {
        model_json: await bytesOf(modelJson), shards, metadata: metadata ? await bytesOf(metadata) : null,
      });
      const opened = await this.request("project_from_model", { model: model.handle });
      this.adoptProject(opened);
      await this.prepareProject();
      const names = this.classes.map((c) => c.name).join(", ");
      this.setMessage(".project-message", `Opened the Teachable Machine model: ${this.classes.length} classes (${names}). ` +
        "It classifies the camera now; record samples of its classes and press Train more to fine-tune it.", "ok");
      this.scheduleSave();
    } catch (error) {
      this.setMessage(".project-message", `The Teachable Machine model was refused: ${error.message.replace(/\.?$/, ".")} Your current project is unchanged.`, "error");
    }
  },
};
