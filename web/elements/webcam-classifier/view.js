// view.js — what <nnpy-webcam-classifier> looks like: its markup and a sample's thumbnail (the
// training and project sections are every trainer's: web/common/trainer/view.js).

import { classCard, thumbnailOf, trainerTemplate } from "../../common/trainer/view.js";
import { SIZE } from "./constants.js";

const html = String.raw;
export const TEMPLATE = trainerTemplate({
  deviceClass: "camera",
  deviceLabel: "Camera",
  device: html`
      <div class="viewport">
        <video playsinline muted aria-label="Your camera (mirrored)"></video>
        <p class="placeholder">Camera off</p>
        <p class="recording-badge" hidden>● Recording</p>
      </div>
      <div class="toolbar">
        <button type="button" class="start-camera">Start camera</button>
        <button type="button" class="stop-camera secondary" disabled>Stop camera</button>
      </div>`,
  live: html`
        <figure class="seen">
          <canvas class="seen-frame" width="${SIZE}" height="${SIZE}" aria-label="the image the network gets"></canvas>
          <figcaption class="seen-caption">What the network gets: the centre square</figcaption>
        </figure>`,
  classesHint: "hold a button to record ~10 frames a second",
  trainingNote: html`
    <p class="training-note">Pretrained features (the default): an ImageNet network, EfficientNet-Lite0,
      describes every sample once, and only a small last layer learns your classes, in about a second;
      it holds up in other light, farther away and partly covered. From scratch: a small network learns
      from the pixels alone (weaker on real objects). Validation holds out whole recordings (one press of
      a record button), never frames next to ones the network trained on: record each class in two or
      more presses, in different positions.</p>
    <p class="mode-message message"></p>`,
  trainControls: html`
      <label>Learn with <select class="mode">
        <option value="pretrained">pretrained features (EfficientNet-Lite0)</option>
        <option value="scratch">a small network from scratch</option>
      </select></label>`,
  projectActions: html`
      <label class="button secondary" title="Choose its model.json, weights.bin and metadata.json together">Open a Teachable Machine model
        <input type="file" class="open-teachable" multiple accept=".json,.bin,application/json,application/octet-stream"></label>`,
});

export const CLASS_CARD = classCard(html`
    <button type="button" class="record">Hold to record</button>
    <label class="button secondary upload">Upload images<input type="file" accept="image/*" multiple></label>`);

/** A sample's thumbnail: its pixels and a delete button. */
export function thumbnail(image) {
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext("2d").putImageData(image, 0, 0);
  return thumbnailOf(canvas);
}
