// view.js — what every trainer element shows of training and of its project file: the markup of
// those two sections, the training curves, the confusion matrix, and the worker's history with
// the element's keys. No state: the element's methods decide what is shown when.

import { COLOURS, drawCurves } from "../chart.js";
import { percent } from "../format.js";

const html = String.raw;

/** A class card: its name, count and delete button, then `actions` (the element's record and
 *  upload buttons) and its samples' thumbnails. */
export function classCard(actions, samplesLabel = "Samples") {
  return html`
  <div class="class-head">
    <input class="class-name" maxlength="40" aria-label="Class name">
    <span class="count"></span>
    <button type="button" class="delete-class icon" title="Delete this class">×</button>
  </div>
  <div class="class-actions">${actions}</div>
  <div class="thumbs" aria-label="${samplesLabel}"></div>`;
}

/** A sample's thumbnail: `canvas` (what the sample looks like) and a delete button. */
export function thumbnailOf(canvas, what = "sample") {
  const wrap = document.createElement("div");
  wrap.className = "thumb";
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "delete-sample";
  remove.textContent = "×";
  remove.title = `Delete this ${what}`;
  remove.setAttribute("aria-label", `Delete this ${what}`);
  wrap.append(canvas, remove);
  return wrap;
}

// The box that names a device's failure and what to do (see showDeviceProblem).
const DEVICE_MESSAGE = html`
      <div class="device-message" role="alert" hidden>
        <strong class="device-error-name"></strong>
        <span class="device-error-text"></span>
        <span class="device-error-advice"></span>
      </div>`;

// The Training and Project sections, the same in every trainer element but for the element's
// `trainingNote` (how it learns), `trainControls` (its own settings, before Epochs) and
// `projectActions` (its own ways to open a project).
const trainingAndProject = (trainingNote, trainControls, projectActions) => html`
  <section class="training" aria-label="Training">
    <h3>Training</h3>${trainingNote}
    <div class="train-controls">${trainControls}
      <label>Epochs <input type="number" class="epochs" min="1" max="1000" step="1" placeholder="auto" title="empty: as many as suit the network (early stopping ends sooner)"></label>
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
        <input type="file" class="open-file" accept=".safetensors,application/octet-stream"></label>${projectActions}
      <button type="button" class="new-project secondary">New project</button>
    </div>
    <p class="project-message message"></p>
  </section>
`;

/** A trainer element's whole markup: its device (`device`: the markup of the picture and the
 *  start/stop buttons, in a section of class `deviceClass`), the box that names the device's
 *  failures, the live answer (with `live`: what the element shows beside the bars), the classes
 *  (`classesHint` in the heading, `classesExtra` above the cards), training (`trainingNote` and
 *  `trainControls`: the element's own) and the project (`projectActions`: the element's own). */
export function trainerTemplate({ deviceClass, deviceLabel, device, live, classesHint, classesExtra = "",
  trainingNote = "", trainControls = "", projectActions = "" }) {
  return html`
<div class="app">
  <p class="status" role="status" aria-live="polite">Starting Python…</p>
  <div class="layout">
    <section class="${deviceClass}" aria-label="${deviceLabel}">${device}${DEVICE_MESSAGE}
      <section class="live" aria-label="Live classification">
        <h3>Live <span class="verdict"></span></h3>${live}
        <ol class="bars"></ol>
        <p class="perf">–</p>
      </section>
    </section>
    <section class="classes" aria-label="Classes">
      <h3>Classes <small>${classesHint}</small></h3>${classesExtra}
      <ol class="class-list"></ol>
      <button type="button" class="add-class secondary">+ Add a class</button>
    </section>
  </div>${trainingAndProject(trainingNote, trainControls, projectActions)}
</div>`;
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
