// digits.js — the "Draw a digit" demo of index.html (#digits-app): a sketch pad read live by the
// shipped digit CNN, the network drawn as it works, and fine-tuning on the user's own drawings.
//
// Python side: nnpy/web/operations.py (predict_activity, network_outline, add_class,
// finetune_start), plus the Session's job_step / job_stop to drive training batch by batch.
// The page's one nnpy worker is `nnpy.shared()`. State is in `window.digitsApp`.

import nnpy from "../common/library.js";
import { buildBars, showBars } from "../common/bars.js";
import { COLOURS, drawCurvesSoon } from "../common/chart.js";
import { escapeHTML } from "../common/escape-html.js";
import { takeFiles } from "../common/files.js";
import { percent } from "../common/format.js";
import { appendToHistory } from "../common/history.js";
import { drawImage } from "../common/image.js";
import { showMessage } from "../common/message.js";
import { runJob } from "../common/training.js";
import { LivePredictor } from "../elements/sketchpad/live-predictor.js";
import { SketchPad, padInputs } from "../elements/sketchpad/pad.js";
import "../elements/network/index.js"; // <nnpy-network id="digits-network">, fed by this demo
const $ = (id) => document.getElementById(id);
const SHIPPED_URL = "web/models/digits.safetensors";
const REPLAY_URL = "web/models/digits-replay.safetensors";
const SAVED_NAME = "digits-finetuned";
const SAVED_URL = `indexeddb://${SAVED_NAME}`;
const UNSURE_BELOW = 0.6; // a top probability under this shows the answer as unsure (greyed)

const app = {
  nn: null,
  model: null, // nnpy.Model being used
  origin: "shipped", // "shipped" | "fine-tuned" | "uploaded"
  network: null, // network_outline of the model
  last: null, // newest {result, version} shown
  examples: [], // [{label, image: Uint8Array of the model's input, with its shape}]
  training: null, // an AbortController while training
  history: {}, // {loss: [...]} per batch of the latest fine-tuning
  replay: null, // ArrayBuffer of digits-replay.safetensors
  settings: { epochs: 3, learningRate: 5e-4 }, // of fine-tuning
};
window.digitsApp = app;

// ---- the pad and the live reading ------------------------------------------------------------

app.pad = new SketchPad($("digits-pad"), {
  onChange: () => {
    $("digits-hint").hidden = !app.pad.isEmpty;
    if (app.model) app.predictor.request();
  },
});
app.predictor = new LivePredictor(predict, { onResult: show, onError: predictionFailed });
app.view = $("digits-network");
$("digits-undo").onclick = () => app.pad.undo();
$("digits-clear").onclick = () => app.pad.clear();

async function predict() {
  const version = app.pad.version;
  if (app.pad.isEmpty) return { result: null, version };
  const inputs = padInputs(app.pad, app.model);
  return { result: await app.nn.request("predict_activity", { model: app.model.handle, inputs }), version };
}

function show(reading) {
  app.last = reading;
  const { result, version } = reading;
  const answer = $("digits-answer");
  answer.dataset.version = version;
  const top = result ? result.probabilities[result.index] : 0;
  answer.textContent = result ? String(result.label) : "?";
  answer.classList.toggle("unsure", Boolean(result) && top < UNSURE_BELOW);
  $("digits-confidence").textContent = result ? `${percent(top)} sure` : "draw to see";
  showBars($("digits-bars"), result);
  drawSeen(result && result.input);
  app.view.update(result || {});
  const { predictMs } = app.predictor.stats;
  if (result) {
    const recent = predictMs.slice(-50).sort((a, b) => a - b);
    $("digits-timing").textContent = `Read in ${Math.round(predictMs[predictMs.length - 1] || 0)} ms ` +
      `(median ${Math.round(recent[recent.length >> 1] || 0)} ms over the last ${recent.length} readings), on this device.`;
  }
}

function predictionFailed(error) {
  if (/disposed/.test(error.message)) return; // the model was swapped mid-reading; it is asked again
  $("digits-timing").textContent = `Could not read the drawing: ${error.name}: ${error.message}`;
}

// the image the network was given (28x28 for MNIST), drawn like the pad: dark ink on white
function drawSeen(image) {
  const canvas = $("digits-seen");
  if (image) return drawImage(canvas, image);
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
}

// ---- the model in use ------------------------------------------------------------------------

async function useModel(model, origin, { dispose = true } = {}) {
  const before = app.model;
  app.model = model;
  app.origin = origin;
  if (dispose && before && before.handle !== model.handle) before.dispose().catch(() => {});
  const labels = model.labels || [];
  buildBars($("digits-bars"), labels);
  renderClasses();
  renderExamples();
  describeModel();
  app.network = await app.nn.request("network_outline", { model: model.handle });
  app.view.setNetwork(app.network);
  for (const id of ["digits-reset", "digits-download", "digits-upload"]) $(id).disabled = Boolean(app.training);
  if (!app.pad.isEmpty) app.predictor.request();
  else show({ result: null, version: app.pad.version });
}

function describeModel() {
  const badge = $("digits-model-badge");
  const labels = app.model.labels || [];
  const extra = labels.filter((label) => !/^[0-9]$/.test(label));
  const classes = `classes 0–9${extra.length ? " + " + extra.join(", ") : ""}`;
  badge.textContent = { shipped: "shipped model", "fine-tuned": "your fine-tuned model", uploaded: "uploaded model" }[app.origin];
  badge.className = `badge ${app.origin}`;
  const accuracy = app.model.card && app.model.card.accuracy; // from the model file's card
  $("digits-model-text").textContent = app.origin === "shipped"
    ? `${accuracy ? accuracy + "; " : ""}${classes}.`
    : `saved in this browser; it comes back when you reload. ${classes[0].toUpperCase() + classes.slice(1)}.`;
}

function message(text, kind = "") {
  showMessage($("digits-message"), text, kind);
}

function usable(model) {
  const shape = model.inputShape || [];
  return shape.length === 3 && shape[2] === 1 && model.labels && model.labels.length >= 2;
}

async function start() {
  try {
    app.nn = await nnpy.shared();
  } catch {
    $("digits-model-text").textContent = "Python could not start, so the network cannot read drawings.";
    return;
  }
  let model = null;
  let origin = "shipped";
  const saved = await app.nn.savedModels().catch(() => []);
  if (saved.includes(SAVED_NAME)) {
    try {
      model = await app.nn.loadModel(SAVED_URL);
      origin = "fine-tuned";
    } catch (error) {
      message(`Your saved model could not be read (${error.message}); using the shipped one.`, "error");
    }
  }
  try {
    model = model || await app.nn.loadModel(SHIPPED_URL);
    await useModel(model, origin);
  } catch (error) {
    $("digits-model-text").textContent = `Could not load the digit model: ${error.name}: ${error.message}`;
  }
}

// ---- examples and classes --------------------------------------------------------------------

function renderClasses() {
  const counts = countByLabel();
  $("digits-classes").innerHTML = (app.model.labels || []).map((label) =>
    `<button type="button" class="chip" data-label="${escapeHTML(label)}" title="Keep this drawing as a “${escapeHTML(label)}”">` +
    `${escapeHTML(label)}<small>${counts.get(label) || ""}</small></button>`).join("");
  for (const chip of $("digits-classes").children) chip.onclick = () => addExample(chip.dataset.label);
}

function countByLabel() {
  const counts = new Map();
  for (const { label } of app.examples) counts.set(label, (counts.get(label) || 0) + 1);
  return counts;
}

async function addExample(label) {
  if (app.pad.isEmpty) {
    message(`Draw a “${label}” first, then press ${label}.`);
    return;
  }
  // the example is the image the network sees, so the newest drawing must be read first
  for (let attempt = 0; attempt < 3 && (!app.last || app.last.version !== app.pad.version); attempt++) {
    app.predictor.request();
    await app.predictor.settled();
  }
  if (!app.last || !app.last.result || app.last.version !== app.pad.version) return;
  const image = app.last.result.input.slice();
  image.shape = app.last.result.input.shape; // the model's input, e.g. (28, 28, 1)
  app.examples.push({ label, image });
  app.pad.clear();
  renderClasses();
  renderExamples();
  const count = countByLabel().get(label);
  message(`Kept as a “${label}” (${count} so far). ${count < 3 ? "A few more help." : ""}`, "ok");
}

function renderExamples() {
  const box = $("digits-examples");
  box.textContent = "";
  const groups = new Map();
  app.examples.forEach((example, index) => {
    if (!groups.has(example.label)) groups.set(example.label, []);
    groups.get(example.label).push([example, index]);
  });
  for (const [label, items] of groups) {
    const group = document.createElement("div");
    group.className = "example-group";
    group.innerHTML = `<span class="example-label">${escapeHTML(label)} <small>×${items.length}</small></span>`;
    for (const [example, index] of items) {
      const thumb = document.createElement("canvas");
      thumb.title = "Remove this example";
      drawImage(thumb, example.image);
      thumb.onclick = () => {
        app.examples.splice(index, 1);
        renderClasses();
        renderExamples();
      };
      group.append(thumb);
    }
    box.append(group);
  }
  box.hidden = !app.examples.length;
  $("digits-train").disabled = !app.examples.length || Boolean(app.training) || !app.model;
}

$("digits-new-class").onsubmit = async (event) => {
  event.preventDefault();
  const name = $("digits-new-name").value.trim();
  if (!name || !app.model) return;
  if ((app.model.labels || []).includes(name)) {
    message(`There is already a class “${name}”.`, "error");
    return;
  }
  try {
    const grown = await app.nn.request("add_class", { model: app.model.handle, name });
    await useModel(grown, app.origin, { dispose: false }); // same model in Python, one more output unit
    $("digits-new-name").value = "";
    message(`Added “${name}”: the output layer has a new unit. Draw a few and press “${name}” for each, then train.`, "ok");
  } catch (error) {
    message(`${error.name}: ${error.message}`, "error");
  }
};

// ---- training --------------------------------------------------------------------------------

async function train() {
  const labels = app.model.labels || [];
  const examples = app.examples.filter((e) => labels.includes(e.label));
  if (!examples.length) return;
  const [height, width] = examples[0].image.shape; // every example is the model's input image
  const images = new Uint8Array(examples.length * height * width);
  examples.forEach((e, i) => images.set(e.image, i * height * width));
  const controller = new AbortController();
  app.training = controller;
  setTraining(true);
  app.history = {};
  drawLoss();
  const started = performance.now();
  $("digits-train-status").textContent = "Preparing…";
  try {
    if (!app.replay) {
      const response = await fetch(REPLAY_URL);
      if (!response.ok) throw new Error(`${REPLAY_URL}: HTTP ${response.status}`);
      app.replay = await response.arrayBuffer();
    }
    const begun = await app.nn.request("finetune_start", {
      model: app.model.handle, images: { data: images, dtype: "uint8", shape: [examples.length, height, width] },
      labels: examples.map((e) => labels.indexOf(e.label)), replay: new Uint8Array(app.replay.slice(0)),
      augment: "digits", epochs: app.settings.epochs, learning_rate: app.settings.learningRate,
    });
    let step = 0;
    await runJob(app.nn, begun.job, {
      signal: controller.signal,
      onStep: ({ batch: logs }) => { // one batch a step
        if (!logs) return;
        step += 1;
        appendToHistory(app.history, logs);
        drawLoss();
        $("digits-progress").value = step / begun.batches;
        $("digits-train-status").textContent =
          `Epoch ${logs.epoch + 1} of ${logs.epochs} · batch ${logs.batch + 1} of ${logs.batches} · loss ${logs.loss.toFixed(3)}`;
      },
    });
    await app.model.save(SAVED_URL);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    await useModel(app.model, "fine-tuned", { dispose: false });
    $("digits-train-status").textContent = `Done in ${seconds} s.`;
    message(`Trained on your ${examples.length} drawings (with ${labels.length} classes) and saved in this browser.`, "ok");
  } catch (error) {
    if (error.name === "AbortError") {
      $("digits-train-status").textContent = "Cancelled.";
      message("Cancelled. The network keeps what it learnt so far, but it is not saved.");
    } else {
      $("digits-train-status").textContent = "";
      message(`Training failed: ${error.name}: ${error.message}`, "error");
    }
    app.network = await app.nn.request("network_outline", { model: app.model.handle }).catch(() => app.network);
    app.view.setNetwork(app.network);
  } finally {
    app.training = null;
    setTraining(false);
    if (!app.pad.isEmpty) app.predictor.request();
  }
}

function setTraining(busy) {
  $("digits-cancel").disabled = !busy;
  $("digits-progress").hidden = !busy;
  $("digits-loss").hidden = !busy && !(app.history.loss || []).length;
  if (busy) $("digits-progress").value = 0;
  for (const id of ["digits-reset", "digits-upload", "digits-download"]) $(id).disabled = busy;
  $("digits-new-class").querySelector("button").disabled = busy;
  $("digits-train").disabled = busy || !app.examples.length;
}

$("digits-train").onclick = () => train();
$("digits-cancel").onclick = () => { if (app.training) app.training.abort(); };

function drawLoss() {
  drawCurvesSoon($("digits-loss"), [{ values: app.history.loss || [], colour: COLOURS.train }],
    { min: 0, unit: "batch" });
}

// ---- keep, reset, download, upload -----------------------------------------------------------

$("digits-reset").onclick = async () => {
  try {
    const hadSaved = (await app.nn.savedModels().catch(() => [])).includes(SAVED_NAME);
    await app.nn.deleteModel(`indexeddb://${SAVED_NAME}`);
    await useModel(await app.nn.loadModel(SHIPPED_URL), "shipped");
    const kept = app.examples.length;
    app.examples = app.examples.filter((e) => app.model.labels.includes(e.label));
    renderClasses();
    renderExamples();
    const dropped = kept - app.examples.length;
    const deleted = hadSaved ? "; the model you had saved in this browser was deleted" : "";
    const forgotten = dropped ? ` ${dropped} examples of classes it does not know were dropped.` : "";
    message(`Back to the shipped model${deleted}.${forgotten}`, "ok");
  } catch (error) {
    message(`Could not reset: ${error.name}: ${error.message}`, "error");
  }
};

$("digits-download").onclick = () =>
  app.model.download(app.origin === "shipped" ? "digits.safetensors" : "digits-finetuned.safetensors");

$("digits-upload").onchange = async (event) => {
  const [file] = takeFiles(event.target);
  if (!file) return;
  message(`Reading ${file.name}…`);
  let model;
  try {
    model = await app.nn.loadModel(file);
  } catch (error) {
    message(`${file.name} was refused: ${error.message}. The current model stays.`, "error");
    return;
  }
  if (!usable(model)) {
    const shape = (model.inputShape || []).join("×") || "unknown";
    model.dispose().catch(() => {});
    message(`${file.name} was refused: it takes inputs of shape ${shape}, not a one-channel image with class labels. The current model stays.`, "error");
    return;
  }
  try {
    await model.save(SAVED_URL);
    await useModel(model, "uploaded");
    message(`Loaded ${file.name} and saved it in this browser.`, "ok");
  } catch (error) {
    message(`${file.name}: ${error.name}: ${error.message}`, "error");
  }
};

drawSeen(null);
start();
