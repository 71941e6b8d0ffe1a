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
          <canvas class="seen-frame" width="${SIZE}" height="${SIZE}" aria-label="the ${SIZE} by ${SIZE} image the network gets"></canvas>
          <figcaption>What the network gets: the centre square, ${SIZE}×${SIZE} pixels</figcaption>
        </figure>`,
  classesHint: "hold a button to record ~10 frames a second",
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
