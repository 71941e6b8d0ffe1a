// digits.js — the "Draw a digit" demo of index.html (#digits-app): a sketch pad read live by the
// shipped digit CNN, the network drawn as it works, and fine-tuning on the user's own drawings.
//
// Python side: nnpy/browser_digits.py (digits_predict, digits_network, digits_add_class,
// digits_finetune_start), plus the Session's fit_step / fit_stop to drive training batch by batch.
// The page's one nnpy worker is `window.nnReady` (index.html). State is in `window.digitsApp`.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const SHIPPED_URL = "web/models/digits.safetensors";
  const REPLAY_URL = "web/models/digits-replay.safetensors";
  const SAVED_NAME = "digits-finetuned";
  const SAVED_URL = `indexeddb://${SAVED_NAME}`;
  const SHIPPED_ACCURACY = "99.0% on 1,500 held-out MNIST digits"; // docs/model-card-digits.md

  const app = {
    nn: null,
    model: null, // nnpy.Model being used
    origin: "shipped", // "shipped" | "fine-tuned" | "uploaded"
    network: null, // digits_network of the model
    last: null, // newest {result, version} shown
    examples: [], // [{label, image: Uint8Array(784)}]
    training: null, // {job, cancelled} while training
    losses: [],
    replay: null, // ArrayBuffer of digits-replay.safetensors
    settings: { epochs: 3, learningRate: 5e-4 }, // of fine-tuning
  };
  window.digitsApp = app;

  // ---- the pad and the live reading ------------------------------------------------------------

  app.pad = new nnpy.SketchPad($("digits-pad"), {
    onChange: () => {
      $("digits-hint").hidden = !app.pad.isEmpty;
      if (app.model) app.predictor.request();
    },
  });
  app.predictor = new nnpy.LivePredictor(predict, { onResult: show, onError: predictionFailed });
  app.view = $("digits-network");
  $("digits-undo").onclick = () => app.pad.undo();
  $("digits-clear").onclick = () => app.pad.clear();

  async function predict() {
    const version = app.pad.version;
    if (app.pad.isEmpty) return { result: null, version };
    const inputs = nnpy.padInputs(app.pad, app.model);
    return { result: await app.nn.request("digits_predict", { model: app.model.handle, inputs }), version };
  }

  function show(reading) {
    app.last = reading;
    const { result, version } = reading;
    const answer = $("digits-answer");
    answer.dataset.version = version;
    const probabilities = result ? result.probabilities : null;
    answer.textContent = result ? String(result.label) : "?";
    answer.classList.toggle("unsure", Boolean(result) && probabilities[result.index] < 0.6);
    $("digits-confidence").textContent = result
      ? `${Math.round(probabilities[result.index] * 100)}% sure` : "draw to see";
    const bars = $("digits-bars").children;
    for (let i = 0; i < bars.length; i++) {
      const p = probabilities ? probabilities[i] || 0 : 0;
      bars[i].classList.toggle("top", Boolean(result) && i === result.index);
      bars[i].querySelector("i").style.width = `${(p * 100).toFixed(1)}%`;
      bars[i].querySelector("b").textContent = probabilities ? `${Math.round(p * 100)}%` : "";
    }
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

  // the 28x28 image the network was given, drawn like the pad: dark ink on white
  function drawSeen(image) {
    const canvas = $("digits-seen");
    if (image) return nnpy.drawImage(canvas, image);
    const context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
  }

  function buildBars(labels) {
    const longest = Math.max(1, ...labels.map((label) => String(label).length));
    $("digits-bars").style.setProperty("--label-width", `${Math.min(longest, 8) + 0.6}ch`);
    $("digits-bars").innerHTML = labels.map((label) =>
      `<li><span>${escapeHTML(label)}</span><div><i></i></div><b></b></li>`).join("");
  }

  // ---- the model in use ------------------------------------------------------------------------

  async function useModel(model, origin, { dispose = true } = {}) {
    const before = app.model;
    app.model = model;
    app.origin = origin;
    if (dispose && before && before.handle !== model.handle) before.dispose().catch(() => {});
    const labels = model.labels || [];
    buildBars(labels);
    renderClasses();
    renderExamples();
    describeModel();
    app.network = await app.nn.request("digits_network", { model: model.handle });
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
    $("digits-model-text").textContent = app.origin === "shipped"
      ? `${SHIPPED_ACCURACY}; ${classes}.`
      : `saved in this browser; it comes back when you reload. ${classes[0].toUpperCase() + classes.slice(1)}.`;
  }

  function message(text, kind = "") {
    $("digits-message").textContent = text;
    $("digits-message").className = `message ${kind}`;
  }

  function usable(model) {
    const shape = model.inputShape || [];
    return shape.length === 3 && shape[2] === 1 && model.labels && model.labels.length >= 2;
  }

  async function start() {
    try {
      app.nn = await window.nnReady;
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
    // the example is the 28x28 image the network sees, so the newest drawing must be read first
    for (let attempt = 0; attempt < 3 && (!app.last || app.last.version !== app.pad.version); attempt++) {
      app.predictor.request();
      await app.predictor.settled();
    }
    if (!app.last || !app.last.result || app.last.version !== app.pad.version) return;
    const image = app.last.result.input.slice();
    image.shape = app.last.result.input.shape; // (28, 28, 1)
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
        nnpy.drawImage(thumb, example.image);
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
      const grown = await app.nn.request("digits_add_class", { model: app.model.handle, name });
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
    const images = new Uint8Array(examples.length * 784);
    examples.forEach((e, i) => images.set(e.image, i * 784));
    const run = { cancelled: false, job: null };
    app.training = run;
    setTraining(true);
    app.losses = [];
    drawLoss();
    const started = performance.now();
    $("digits-train-status").textContent = "Preparing…";
    try {
      if (!app.replay) {
        const response = await fetch(REPLAY_URL);
        if (!response.ok) throw new Error(`${REPLAY_URL}: HTTP ${response.status}`);
        app.replay = await response.arrayBuffer();
      }
      const begun = await app.nn.request("digits_finetune_start", {
        model: app.model.handle, images: { data: images, dtype: "uint8", shape: [examples.length, 28, 28] },
        labels: examples.map((e) => labels.indexOf(e.label)), replay: new Uint8Array(app.replay.slice(0)),
        epochs: app.settings.epochs, learning_rate: app.settings.learningRate,
      });
      run.job = begun.job;
      let step = 0;
      for (;;) {
        if (run.cancelled) throw Object.assign(new Error("cancelled"), { name: "AbortError" });
        const logs = await app.nn.request("fit_step", { job: run.job });
        if (logs.kind === "done") break;
        if (logs.kind !== "batch") continue;
        step += 1;
        app.losses.push(logs.loss);
        drawLoss();
        $("digits-progress").value = step / begun.batches;
        $("digits-train-status").textContent =
          `Epoch ${logs.epoch + 1} of ${logs.epochs} · batch ${logs.batch + 1} of ${logs.batches} · loss ${logs.loss.toFixed(3)}`;
      }
      run.job = null;
      await app.model.save(SAVED_URL);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      await useModel(app.model, "fine-tuned", { dispose: false });
      $("digits-train-status").textContent = `Done in ${seconds} s.`;
      message(`Trained on your ${examples.length} drawings (with ${labels.length} classes) and saved in this browser.`, "ok");
    } catch (error) {
      if (run.job) await app.nn.request("fit_stop", { job: run.job }).catch(() => {});
      if (error.name === "AbortError") {
        $("digits-train-status").textContent = "Cancelled.";
        message("Cancelled. The network keeps what it learnt so far, but it is not saved.");
      } else {
        $("digits-train-status").textContent = "";
        message(`Training failed: ${error.name}: ${error.message}`, "error");
      }
      app.network = await app.nn.request("digits_network", { model: app.model.handle }).catch(() => app.network);
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
    $("digits-loss").hidden = !busy && !app.losses.length;
    if (busy) $("digits-progress").value = 0;
    for (const id of ["digits-reset", "digits-upload", "digits-download"]) $(id).disabled = busy;
    $("digits-new-class").querySelector("button").disabled = busy;
    $("digits-train").disabled = busy || !app.examples.length;
  }

  $("digits-train").onclick = () => train();
  $("digits-cancel").onclick = () => { if (app.training) app.training.cancelled = true; };

  let lossFrame = 0;
  function drawLoss() {
    if (lossFrame) return;
    lossFrame = requestAnimationFrame(() => {
      lossFrame = 0;
      const canvas = $("digits-loss");
      const ratio = Math.min(window.devicePixelRatio || 1, 2);
      const width = canvas.clientWidth || 600, height = canvas.clientHeight || 90;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      const context = canvas.getContext("2d");
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.clearRect(0, 0, width, height);
      context.fillStyle = "#5b6477";
      context.font = "11px system-ui, sans-serif";
      context.fillText("loss per batch", 8, 14);
      const losses = app.losses;
      if (losses.length < 2) return;
      const top = Math.max(...losses);
      context.strokeStyle = "#3b5bdb";
      context.lineWidth = 2;
      context.beginPath();
      losses.forEach((loss, i) => {
        const x = 6 + (i / (losses.length - 1)) * (width - 12);
        const y = height - 6 - (loss / top) * (height - 26);
        if (i) context.lineTo(x, y); else context.moveTo(x, y);
      });
      context.stroke();
    });
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
    const file = event.target.files[0];
    event.target.value = "";
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

  function escapeHTML(text) {
    return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  drawSeen(null);
  start();
})();
