// <nnpy-network for="ID of an nnpy-sketchpad">: the live network picture (view.js) of a sketchpad's
// model, redrawn on every reading; or, without `for`, fed by the page: setNetwork(), update().
//
//   <script src="…/web/nnpy.js"></script>
//   <nnpy-sketchpad id="pad"></nnpy-sketchpad> <nnpy-network for="pad"></nnpy-network>

import { NetworkView } from "./view.js";

const ELEMENT_STYLE = `
  :host { display: block; position: relative; font: 12px/1.4 system-ui, sans-serif; }
  canvas { display: block; width: 100%; height: var(--nnpy-network-height, 320px);
    background: #f8f9fc; border-radius: 10px; touch-action: pan-y; }
  .tooltip { position: absolute; max-width: 220px; padding: 4px 8px; border-radius: 6px;
    background: #1d2230; color: #fff; pointer-events: none; font-size: 12px; }`;

class NetworkElement extends HTMLElement {
  connectedCallback() {
    if (this.view) return;
    const shadow = this.attachShadow({ mode: "open" });
    shadow.innerHTML = `<style>${ELEMENT_STYLE}</style>`;
    this.view = new NetworkView(shadow);
    this.view.canvas.setAttribute("part", "canvas");
    if (this.getAttribute("for")) this._follow(document.getElementById(this.getAttribute("for")));
  }

  setNetwork(network) { this.view.setNetwork(network); }
  update(prediction) { this.view.update(prediction); }
  get canvas() { return this.view.canvas; }

  // follow an <nnpy-sketchpad>: its model's structure, then every prediction it makes
  _follow(pad) {
    if (!pad) return;
    pad.wantsActivity = true;
    const structure = () => pad.nn.request("network_outline", { model: pad.model.handle })
      .then((network) => this.setNetwork(network), (error) => console.error(error));
    pad.addEventListener("ready", structure);
    pad.addEventListener("prediction", (event) => this.update(event.detail));
    if (pad.model) structure();
  }
}

if (!customElements.get("nnpy-network")) customElements.define("nnpy-network", NetworkElement);
