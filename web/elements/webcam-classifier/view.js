// view.js — what <nnpy-webcam-classifier> looks like: its markup, thumbnails, the training
// curves and the confusion matrix. No state: the element's methods decide what is shown when.

import { COLOURS, drawCurves } from "../../common/chart.js";
import { percent } from "../../common/format.js";
import { SIZE } from "./constants.js";

const html = String.raw;
export const TEMPLATE = html`
<div class="app">
  <p class="status" role="status" aria-live="polite">Starting Python…</p>
  <div class="layout">
    <section class="camera" aria-label="Camera">
      <div class="viewport">
        <video playsinline muted aria-label="Your camera (mirrored)"></video>
        <p class="placeholder">Camera off</p>
        <p class="recording-badge" hidden>● Recording</p>
      </div>
      <div class="toolbar">
        <button type="button" class="start-camera">Start camera</button>
        <button type="button" class="stop-camera secondary" disabled>Stop camera</button>
      </div>
      <div class="camera-message" role="alert" hidden>
        <strong class="camera-error-name"></strong>
        <span class="camera-error-text"></span>
        <span class="camera-error-advice"></span>
      </div>
      <section class="live" aria-label="Live classification">
        <h3>Live <span class="verdict"></span></h3>
        <figure class="seen">
          <canvas class="seen-frame" width="${SIZE}" height="${SIZE}" aria-label="the image the network gets"></canvas>
          <figcaption class="seen-caption">What the network gets: the centre square</figcaption>
        </figure>
        <ol class="bars"></ol>
        <p class="perf">–</p>
      </section>
    </section>
    <section class="classes" aria-label="Classes">
      <h3>Classes <small>hold a button to record ~10 frames a second</small></h3>
      <ol class="class-list"></ol>
      <button type="button" class="add-class secondary">+ Add a class</button>
    </section>
  </div>
  <section class="training" aria-label="Training">
    <h3>Training</h3>
    <p class="how-it-learns">Pretrained features (the default): an ImageNet network, EfficientNet-Lite0, describes
      every sample once; only a small last layer learns your classes, in about a second, and it holds up
      in other light, farther away and partly covered. From scratch: a small network learns from the
      pixels alone (weaker on real objects). Validation is honest: it holds out whole recordings (one
      press of a record button), never frames next to ones the network trained on, so record each class
      in two or more presses, in different positions.</p>
    <div class="train-controls">
      <label>Learn with <select class="mode">
        <option value="pretrained">pretrained features (EfficientNet-Lite0)</option>
        <option value="scratch">a small network from scratch</option>
      </select></label>
      <label>Epochs <input type="number" class="epochs" min="1" max="1000" step="1" placeholder="auto"></label>
      <label>Learning rate <input type="number" class="learning-rate" min="0.00001" max="1" step="0.0005" value="0.001"></label>
      <button type="button" class="train">Train</button>
      <button type="button" class="cancel secondary" disabled>Cancel</button>
      <button type="button" class="restart secondary" title="Forget the weights and train a new network">Start over</button>
    </div>
    <p class="train-message message"></p>
    <div class="charts">
      <figure>
        <figcaption>Loss <span class="key train">training</span> <span class="key validation">validation</span></figcaption>
        <canvas class="loss-chart" role="img" aria-label="loss per epoch"></canvas>
      </figure>
      <figure>
        <figcaption>Accuracy <span class="key train">training</span> <span class="key validation">validation</span></figcaption>
        <canvas class="accuracy-chart" role="img" aria-label="accuracy per epoch"></canvas>
      </figure>
      <figure class="confusion-figure">
        <figcaption>Validation samples: true class (rows) × what the network said (columns)</figcaption>
        <div class="confusion-wrap"><table class="confusion"><tbody><tr><td class="empty">Train to see which classes get confused.</td></tr></tbody></table></div>
      </figure>
    </div>
  </section>
  <section class="project" aria-label="Project file">
    <p class="save-state">Not saved yet</p>
    <div class="toolbar">
      <button type="button" class="download secondary">Download project</button>
      <label class="button secondary">Open project file
        <input type="file" class="open-file" accept=".safetensors,application/octet-stream"></label>
      <button type="button" class="new-project secondary">New project</button>
    </div>
    <p class="project-message message"></p>
  </section>
</div>`;

export const CLASS_CARD = html`
  <div class="class-head">
    <input class="class-name" maxlength="40" aria-label="Class name">
    <span class="count"></span>
    <button type="button" class="delete-class icon" title="Delete this class">×</button>
  </div>
  <div class="class-actions">
    <button type="button" class="record">Hold to record</button>
    <label class="button secondary upload">Upload images<input type="file" accept="image/*" multiple></label>
  </div>
  <div class="thumbs" aria-label="Samples"></div>`;

/** A sample's thumbnail: its pixels and a delete button. */
export function thumbnail(image) {
  const wrap = document.createElement("div");
  wrap.className = "thumb";
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext("2d").putImageData(image, 0, 0);
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "delete-sample";
  remove.textContent = "×";
  remove.title = "Delete this sample";
  remove.setAttribute("aria-label", "Delete this sample");
  wrap.append(canvas, remove);
  return wrap;
}

// the worker's log and history keys -> the element's `history` keys (camelCase, like nnpy's JS API)
const FROM_WORKER = { loss: "loss", accuracy: "accuracy", val_loss: "valLoss", val_accuracy: "valAccuracy" };
export const HISTORY_KEYS = Object.values(FROM_WORKER);

/** A history (or one epoch's logs) from the worker with the element's keys. */
export function historyFromWorker(history) {
  const out = {};
  for (const [key, value] of Object.entries(history || {})) if (key in FROM_WORKER) out[FROM_WORKER[key]] = value;
  return out;
}

/** What the last training run came to, in a sentence. */
export function trainingSummary(history, run) {
  const accuracy = history.valAccuracy || [];
  run = run || {};
  let text = `Trained: ${(history.loss || []).length} epochs in all, validation accuracy ${percent(accuracy[accuracy.length - 1] ?? 0)}.`;
  if (run.stopped_epoch !== null && run.stopped_epoch !== undefined) {
    text += ` Stopped early at epoch ${run.stopped_epoch + 1} (the validation loss had stopped improving); kept the weights of epoch ${run.best_epoch + 1}.`;
  }
  return text;
}

/** The loss and accuracy curves (training solid, validation dashed) of `history`. */
export function drawTrainingCurves(lossCanvas, accuracyCanvas, h) {
  drawCurves(lossCanvas, [
    { values: h.loss || [], colour: COLOURS.train },
    { values: h.valLoss || [], colour: COLOURS.validation, dashed: true },
  ], { min: 0, format: (v) => v.toFixed(2), unit: "epoch" });
  drawCurves(accuracyCanvas, [
    { values: h.accuracy || [], colour: COLOURS.train },
    { values: h.valAccuracy || [], colour: COLOURS.validation, dashed: true },
  ], { min: 0, max: 1, format: (v) => percent(v), unit: "epoch" });
}

/** The validation confusion matrix as a table: rows are true classes, columns what the network
 *  said; right answers green, confusions red, stronger for a larger share of the row. */
export function fillConfusion(table, matrix, names) {
  if (!matrix) {
    table.innerHTML = html`<tbody><tr><td class="empty">Train to see which classes get confused.</td></tr></tbody>`;
    return;
  }
  table.closest("figure")?.classList.toggle("wide", names.length > 4); // a row of its own
  const head = document.createElement("tr");
  head.append(document.createElement("th"));
  for (const name of names) head.append(Object.assign(document.createElement("th"), { textContent: name, scope: "col" }));
  head.append(Object.assign(document.createElement("th"), { textContent: "correct", scope: "col" }));
  const rows = matrix.map((row, i) => {
    const tr = document.createElement("tr");
    tr.append(Object.assign(document.createElement("th"), { textContent: names[i], scope: "row" }));
    const total = row.reduce((a, b) => a + b, 0) || 1;
    row.forEach((count, j) => {
      const td = Object.assign(document.createElement("td"), { textContent: count });
      const share = count / total;
      td.style.background = i === j ? `rgba(43, 138, 62, ${0.12 + 0.6 * share})` : count ? `rgba(201, 42, 42, ${0.15 + 0.6 * share})` : "";
      tr.append(td);
    });
    tr.append(Object.assign(document.createElement("td"), { textContent: percent(row[i] / total), className: "correct" }));
    return tr;
  });
  const thead = document.createElement("thead");
  thead.append(head);
  const tbody = document.createElement("tbody");
  tbody.append(...rows);
  table.replaceChildren(thead, tbody);
}
