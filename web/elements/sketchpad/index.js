// <nnpy-sketchpad model="URL">: a drawing pad whose drawing a model reads live, with the answer,
// a bar per class and the image the network sees.
//
//   <script src="…/web/nnpy.js"></script>
//   <nnpy-sketchpad model="…/web/models/digits.safetensors"></nnpy-sketchpad>
//
// Without `model`, the digit model that comes with nnpy. `ink` and `paper` colour the pad (e.g.
// ink="white" paper="black"; default: dark ink on a transparent pad): the reading is the same
// whichever way round they are. It uses the page's one worker
// (nnpy.shared()) unless its `client` property is set to a loaded nnpy client (or a promise of one).
// Events: "ready" {model} once a model is loaded, "prediction" {probabilities, label, index, input,
// version} for every reading. `wantsActivity = true` asks for each layer's activity too.

import nnpy from "../../common/library.js";
import { buildBars, showBars } from "../../common/bars.js";
import { escapeHTML } from "../../common/escape-html.js";
import { drawImage } from "../../common/image.js";
import { percent } from "../../common/format.js";
import { LivePredictor } from "./live-predictor.js";
import { loadingProgress } from "../../common/loading.js";
import { DEFAULT_INK, SketchPad, padInputs } from "./pad.js";

const ELEMENT_STYLE = `
  :host { display: block; max-width: 360px; font: 15px/1.4 system-ui, sans-serif; color: #1d2230; }
  .pad { position: relative; aspect-ratio: 1; border-radius: 12px; overflow: hidden;
    background: #fff; border: 1px solid #dfe3ec; box-shadow: inset 0 1px 3px rgba(0,0,0,.06); }
  canvas { display: block; width: 100%; height: 100%; cursor: crosshair; outline: none; }
  .hint { position: absolute; inset: 0; display: grid; place-items: center; margin: 0;
    color: #9aa3b5; pointer-events: none; }
  .hint[hidden] { display: none; }
  .row { display: flex; align-items: center; gap: 8px; margin-top: 8px; }
  button { font: inherit; border: 1px solid #3b5bdb; color: #3b5bdb; background: #fff;
    border-radius: 8px; padding: 4px 12px; min-height: 34px; cursor: pointer; }
  .answer { margin-left: auto; font-size: 1.6rem; font-weight: 700; }
  .answer small { font-size: .8rem; font-weight: 400; color: #5b6477; margin-left: 4px; }
  .bars { list-style: none; padding: 0; display: grid; gap: 3px; margin: 10px 0 0; }
  .bar { display: grid; grid-template-columns: var(--label-width, 1.6ch) 1fr 2.8em; align-items: center;
    gap: 8px; font-size: .8rem; font-variant-numeric: tabular-nums; color: #5b6477; }
  .bar .name { text-align: center; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .bar .track { height: 9px; border-radius: 5px; background: #f1f3f8; overflow: hidden; }
  .bar .fill { display: block; height: 100%; width: 0; border-radius: 5px; background: #b7c3ef; }
  .bar .value { font-weight: 400; text-align: right; }
  .bar.top { color: #1d2230; font-weight: 700; }
  .bar.top .fill { background: #3b5bdb; }
  .bar.top .value { font-weight: 700; }
  .seen { width: 42px; height: 42px; image-rendering: pixelated; border: 1px solid #dfe3ec;
    border-radius: 4px; }
  .seen[hidden] { display: none; }
  .status { font-size: .8rem; color: #5b6477; min-height: 1.2em; margin: 6px 0 0; }`;

class SketchpadElement extends HTMLElement {
  static get observedAttributes() { return ["model", "ink", "paper"]; }

  connectedCallback() {
    if (this.pad) return;
    const shadow = this.attachShadow({ mode: "open" });
    shadow.innerHTML = `<style>${ELEMENT_STYLE}</style>
      <div class="pad"><canvas part="canvas" tabindex="0" aria-label="drawing pad"></canvas>
        <p class="hint" part="hint">Draw here</p></div>
      <div class="row"><button class="undo">Undo</button><button class="clear">Clear</button>
        <span class="answer" part="answer" aria-live="polite"></span>
        <canvas class="seen" width="28" height="28" part="seen" title="what the network sees" hidden></canvas></div>
      <ol class="bars" part="bars"></ol>
      <p class="status" part="status">Loading…</p>`;
    const $ = (selector) => shadow.querySelector(selector);
    this.pad = new SketchPad($("canvas"), { onChange: () => this._changed() });
    this._colours();
    this.predictor = new LivePredictor(() => this._predict(), {
      onResult: ({ result, version }) => this._show(result, version),
      onError: (error) => this._status(`${error.name}: ${error.message}`),
    });
    $(".undo").onclick = () => this.pad.undo();
    $(".clear").onclick = () => this.pad.clear();
    this._load();
  }

  attributeChangedCallback(name, before, after) {
    if (!this.pad || before === after) return;
    if (name === "model") this._load();
    else this._colours();
  }

  // `ink` and `paper` colour the pad (default: dark ink on a transparent pad); the reading does
  // not depend on which way round they are.
  _colours() {
    this.pad.color = this.getAttribute("ink") || DEFAULT_INK;
    this.pad.paper = this.getAttribute("paper") || null;
    this.pad.redraw();
    this._changed();
  }

  /** The model URL: the `model` attribute, else the digit model that comes with nnpy. */
  get modelURL() {
    return this.getAttribute("model") || new URL("models/digits.safetensors", nnpy.scriptURL).href;
  }

  /** Resolves with the current reading, after the newest stroke has been read. */
  async reading() {
    await this.predictor.settled();
    return this.result || null;
  }

  // The model downloads while Python starts, and the pad takes drawings meanwhile: the first
  // reading comes the moment the model is in.
  async _load() {
    const token = (this._loading = {});
    this._status("Loading…");
    const url = this.modelURL;
    const early = new URL(url, document.baseURI).pathname.endsWith(".json") ? null // TF.js: loadModel fetches its parts
      : fetch(url).then((response) => (response.ok ? response.arrayBuffer() : null)).catch(() => null);
    const progress = loadingProgress(({ text, seconds, ready }) => {
      if (!ready && token === this._loading) this._status(`${text} · ${seconds.toFixed(1)} s — you can draw already`);
    });
    try {
      const nn = await Promise.resolve(this.client || nnpy.shared({ onProgress: progress })).finally(progress.stop);
      if (token === this._loading) this._status("Loading the model…");
      if (nn !== this.watched) { // if its Python crashes, load the model again in a new one
        nn.addEventListener("crash", () => this._load(), { once: true });
        this.watched = nn;
      }
      const model = await nn.loadModel((await early) || url); // else loadModel says what failed
      if (token !== this._loading) return model.dispose();
      if (this.model) this.model.dispose();
      this.nn = nn;
      this.model = model;
      this.shadowRoot.querySelector(".bars").textContent = ""; // rebuilt with this model's labels
      this._status("");
      this.dispatchEvent(new CustomEvent("ready", { detail: { model } }));
      this._changed();
    } catch (error) {
      this._status(`Could not load the model: ${error.name}: ${error.message}`);
    }
  }

  _changed() {
    this.shadowRoot.querySelector(".hint").hidden = !this.pad.isEmpty;
    if (this.model) this.predictor.request();
  }

  async _predict() {
    const version = this.pad.version;
    if (this.pad.isEmpty) return { result: null, version };
    const args = { model: this.model.handle, inputs: padInputs(this.pad, this.model),
      activity: Boolean(this.wantsActivity) };
    return { result: await this.nn.request("predict_activity", args), version };
  }

  _show(result, version) {
    const shadow = this.shadowRoot;
    this.result = result;
    const answer = shadow.querySelector(".answer");
    answer.dataset.version = version;
    const seen = shadow.querySelector(".seen");
    const bars = shadow.querySelector(".bars");
    seen.hidden = !result;
    if (!result) {
      answer.textContent = "";
      bars.textContent = "";
    } else {
      if (bars.children.length !== result.probabilities.length) {
        buildBars(bars, this.model.labels || [...result.probabilities.keys()]);
      }
      showBars(bars, result);
      answer.innerHTML = `${escapeHTML(result.label)}<small>${percent(result.probabilities[result.index])}</small>`;
      drawImage(seen, result.input);
    }
    this.dispatchEvent(new CustomEvent("prediction", { detail: { ...(result || {}), version } }));
  }

  _status(text) {
    this.shadowRoot.querySelector(".status").textContent = text;
  }
}

if (!customElements.get("nnpy-sketchpad")) customElements.define("nnpy-sketchpad", SketchpadElement);
