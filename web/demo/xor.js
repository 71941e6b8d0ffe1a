// xor.js — the "Train XOR" card of the demo page (#xor): a network with one hidden layer learns
// XOR in the worker, the loss drawn as it falls; the model saved, restored, downloaded, uploaded.
// State is in `window.xorDemo` (for the curious, and the tests).

import nnpy from "../common/library.js";
import { COLOURS, drawCurvesSoon } from "../common/chart.js";
import { takeFiles } from "../common/files.js";
import { appendToHistory } from "../common/history.js";
import { percent } from "../common/format.js";
import { showMessage } from "../common/message.js";

const $ = (id) => document.getElementById(id);
const XOR_INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1]];
const XOR_TARGETS = [[0], [1], [1], [0]];
const XOR_MODEL = `
from nnpy import layers, optimizers
model = nnpy.Sequential([
    layers.Input((2,)),
    layers.Dense(8, activation="tanh"),    # the hidden layer: 8 neurons
    layers.Dense(1),                       # one output: the logit of "XOR is 1"
], seed=0)
model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
model`;
const SAVED_URL = "indexeddb://xor";

const xor = { model: null, controller: null, history: {}, settings: { epochs: 300 } };
window.xorDemo = xor;

function drawLoss() {
  drawCurvesSoon($("xor-chart"), [{ values: xor.history.loss || [], colour: COLOURS.train }],
    { min: 0, unit: "epoch" });
}

// The truth table with the network's answer for each row: a bar and the probability of "1",
// asked of the network as it is now (all four rows in one request).
async function showAnswers() {
  const model = xor.model;
  let probabilities = null;
  if (model) {
    try {
      probabilities = (await model.predict(XOR_INPUTS)).probabilities;
    } catch (error) {
      if (model === xor.model) throw error;
      return; // the model was replaced (and disposed) while it answered: the new one shows
    }
    if (model !== xor.model) return;
  }
  const rows = [];
  for (let i = 0; i < XOR_INPUTS.length; i++) {
    const [a, b] = XOR_INPUTS[i];
    const p = probabilities ? probabilities[i] : null;
    const row = document.createElement("tr");
    for (const value of [a, b, XOR_TARGETS[i][0]]) row.append(Object.assign(document.createElement("td"), { textContent: value }));
    const answer = Object.assign(document.createElement("td"), { className: "p", textContent: "–" });
    if (p !== null) {
      const bar = Object.assign(document.createElement("div"), { className: "bar" });
      bar.style.width = percent(p); // set through the style object, which a strict CSP allows
      answer.replaceChildren(bar, p.toFixed(3));
    }
    row.append(answer);
    rows.push(row);
  }
  $("xor-table").replaceChildren(...rows);
}

// While training, the table follows the weights: after each epoch it is asked again, with at most
// one request in flight (epochs come faster than answers; the newest weights answer next).
// Resolves when the table shows the network as it was at the last call.
let answering = null;
let answerAgain = false;
function showAnswersSoon() {
  if (answering) {
    answerAgain = true;
    return answering;
  }
  answering = (async () => {
    try {
      do {
        answerAgain = false;
        await showAnswers();
      } while (answerAgain);
    } finally {
      answering = null;
    }
  })();
  return answering;
}

function setMessage(text, kind = "") {
  showMessage($("xor-message"), text, kind);
}

function setBusy(busy) {
  $("xor-train").disabled = busy;
  $("xor-cancel").disabled = !busy;
  for (const id of ["xor-save", "xor-download"]) $(id).disabled = busy || !xor.model;
  for (const id of ["xor-restore", "xor-upload"]) $(id).disabled = busy;
}

async function useModel(model) {
  if (xor.model) await xor.model.dispose();
  xor.model = model;
  await showAnswersSoon();
}

$("xor-train").onclick = async () => {
  const nn = await nnpy.shared();
  await useModel(await nn.exec(XOR_MODEL));
  xor.history = {};
  xor.controller = new AbortController();
  setBusy(true);
  setMessage("Training…");
  let outcome;
  try {
    await xor.model.fit(XOR_INPUTS, XOR_TARGETS, {
      epochs: xor.settings.epochs, batchSize: XOR_INPUTS.length, signal: xor.controller.signal,
      onEpoch: (logs) => {
        $("xor-epoch").textContent = `${logs.epoch + 1} / ${logs.epochs}`;
        $("xor-loss").textContent = logs.loss.toFixed(4);
        $("xor-accuracy").textContent = percent(logs.accuracy);
        appendToHistory(xor.history, logs);
        drawLoss();
        showAnswersSoon().catch(() => {}); // a failure shows in the answer asked for at the end
      },
    });
    outcome = ["Trained. The network now answers XOR.", "ok"];
  } catch (error) {
    outcome = error.name === "AbortError"
      ? ["Cancelled — the weights keep what they learnt so far.", ""]
      : [`${error.name}: ${error.message}`, "error"];
  }
  setBusy(false);
  await showAnswersSoon();
  setMessage(...outcome);
};
$("xor-cancel").onclick = () => xor.controller && xor.controller.abort();

$("xor-save").onclick = async () => {
  try {
    const saved = await xor.model.save(SAVED_URL);
    setMessage(`Saved in this browser (${saved.bytes} bytes). It survives a reload.`, "ok");
  } catch (error) { setMessage(`Not saved: ${error.message}`, "error"); }
};
$("xor-restore").onclick = async () => {
  setMessage("Loading…");
  try {
    await useModel(await (await nnpy.shared()).loadModel(SAVED_URL));
    setBusy(false);
    setMessage("Loaded the model saved in this browser.", "ok");
  } catch (error) { setMessage(`${error.name}: ${error.message}`, "error"); }
};
$("xor-download").onclick = () => xor.model.download("xor.safetensors");
$("xor-upload").onchange = async (event) => {
  const [file] = takeFiles(event.target);
  if (!file) return;
  setMessage(`Reading ${file.name}…`);
  try {
    await useModel(await (await nnpy.shared()).loadModel(file));
    setBusy(false);
    setMessage(`Loaded ${file.name}.`, "ok");
  } catch (error) {
    setMessage(`${file.name} was refused: ${error.message}`, "error");
  }
};

showAnswersSoon();
nnpy.shared().then(() => setBusy(false), () => {});
