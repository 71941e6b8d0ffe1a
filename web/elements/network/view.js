// view.js — the network drawn live: a column per layer, data flowing left to right.
//
//   const view = new NetworkView(container);
//   view.setNetwork(await nn.request("network_outline", { model: model.handle }));   // once per model
//   view.update(await nn.request("predict_activity", { model: model.handle, inputs })); // each prediction
//
// or the element (index.js): <nnpy-network for="ID-of-an-nnpy-sketchpad"></nnpy-network>.
//
// What is drawn (see nnpy/web/operations.py for the data):
//  - the input: the exact image the network gets (after preprocessing);
//  - a Conv2D layer: its feature maps, each a small image, dark where the filter responds;
//  - a Dense layer: its units (neurons), circles shaded by their activation;
//  - the output layer: one unit per class, with its probability;
//  - weights: lines, blue for positive and orange for negative, thicker for larger weights (only
//    the strongest are drawn); a line glows when the unit it comes from is active, which is the
//    signal flowing forward. A line into a conv map or out of a flattened map stands for a whole
//    window of weights (their sum).
// Drawing happens in requestAnimationFrame: predictions that arrive faster than frames only
// replace the data of the next frame, so the page never falls behind.
const PAPER = [255, 255, 255];
const INK = [27, 36, 96];
const POSITIVE = "59, 91, 219";
const NEGATIVE = "232, 89, 12";
const MUTED = "#5b6477";
const HEADER = 40; // px for a column's two title lines

function shade(t) { // 0..1 -> paper..ink
  t = Math.max(0, Math.min(1, t));
  return PAPER.map((p, i) => Math.round(p + (INK[i] - p) * t));
}

// the grid of `count` cells that makes cells largest inside a box
function bestGrid(count, width, height) {
  let best = { columns: 1, rows: count, size: 0 };
  for (let columns = 1; columns <= count; columns++) {
    const rows = Math.ceil(count / columns);
    const size = Math.min(width / columns, height / rows);
    if (size > best.size) best = { columns, rows, size };
  }
  return best;
}

export class NetworkView {
  constructor(container) {
    this.container = container;
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", "the network: layers as columns, units and feature maps shaded by activation, weights as lines");
    this.tooltip = document.createElement("div");
    this.tooltip.className = "tooltip";
    this.tooltip.hidden = true;
    container.append(this.canvas, this.tooltip);
    this.network = null;
    this.prediction = null;
    this.layout = null;
    this.frame = 0;
    this.frames = 0; // frames drawn (tests and the curious can compare it with predictions)
    this.thumbs = new Map(); // "column/index" -> small canvas holding that map's pixels
    const point = (event) => this._hover(event);
    this.canvas.addEventListener("pointermove", point);
    this.canvas.addEventListener("pointerdown", point);
    this.canvas.addEventListener("pointerleave", () => { this.tooltip.hidden = true; });
    if (typeof ResizeObserver === "function") new ResizeObserver(() => this._relayout()).observe(this.canvas);
  }

  /** The model's layers and strongest weights (`network_outline`), once per model. */
  setNetwork(network) {
    this.network = network;
    this.prediction = null;
    this._relayout();
  }

  /** One prediction with its activity (`predict_activity`); drawn at the next animation frame. */
  update(prediction) {
    this.prediction = prediction;
    this._schedule();
  }

  _schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this._draw();
    });
  }

  _relayout() {
    const ratio = Math.min(globalThis.devicePixelRatio || 1, 3);
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (!width || !height) return;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
    }
    this.ratio = ratio;
    this.layout = this.network ? this._layout(width, height) : null;
    this._schedule();
  }

  // Where every node goes: {columns: [{x, width, nodes: [{x, y, size, shape}]}]}
  _layout(width, height) {
    const columns = this.network.columns;
    const narrow = width < 520;
    const weights = columns.map((c) => (c.kind === "output" ? 1.5 : c.kind === "input" ? 0.9 : 1.1));
    const total = weights.reduce((a, b) => a + b, 0);
    const top = HEADER + 6, bottom = height - 8;
    let x = 6;
    return columns.map((column, c) => {
      const slot = ((width - 12) * weights[c]) / total;
      const boxWidth = slot * (column.kind === "output" ? 0.8 : narrow ? 0.62 : 0.5);
      const left = x + (column.kind === "output" ? slot * 0.1 : (slot - boxWidth) / 2);
      x += slot;
      const count = this._count(column);
      const nodes = [];
      if (column.kind === "input") {
        const size = Math.min(boxWidth, bottom - top, 112);
        nodes.push({ x: left + boxWidth / 2, y: (top + bottom) / 2, size, shape: "image" });
      } else if (column.kind === "output") {
        const rowHeight = Math.min((bottom - top) / count, 30);
        const radius = Math.max(3, Math.min(rowHeight * 0.36, 10));
        const start = (top + bottom) / 2 - (rowHeight * count) / 2;
        for (let i = 0; i < count; i++) {
          nodes.push({ x: left + radius + 1, y: start + rowHeight * (i + 0.5), size: radius * 2, shape: "circle" });
        }
      } else {
        const grid = bestGrid(count, boxWidth, bottom - top);
        const cell = Math.min(grid.size, column.kind === "conv" ? 58 : 24);
        const gridLeft = left + (boxWidth - cell * grid.columns) / 2;
        const gridTop = (top + bottom) / 2 - (cell * grid.rows) / 2;
        for (let i = 0; i < count; i++) {
          const col = i % grid.columns, row = Math.floor(i / grid.columns);
          nodes.push({
            x: gridLeft + cell * (col + 0.5), y: gridTop + cell * (row + 0.5),
            size: cell * (column.kind === "conv" ? 0.86 : 0.72), shape: column.kind === "conv" ? "map" : "circle",
          });
        }
      }
      return { x: left, width: boxWidth, centre: left + boxWidth / 2, nodes, column };
    });
  }

  _count(column) {
    if (column.kind === "input") return 1;
    if (column.kind === "conv") return Math.min(column.shape[column.shape.length - 1], 32);
    return column.shape[column.shape.length - 1];
  }

  // activity of each node of each column, 0..1 (for shading and for lighting the lines)
  _levels() {
    const p = this.prediction;
    const byLayer = new Map(((p && p.activity) || []).map((a) => [a.layer, a]));
    return this.layout.map(({ column, nodes }) => {
      if (column.kind === "input") return [p ? 1 : 0];
      const a = byLayer.get(column.layer);
      if (!a) return nodes.map(() => 0);
      if (a.maps) {
        const [count, h, w] = a.maps.shape;
        const levels = [];
        for (let m = 0; m < count; m++) {
          let sum = 0;
          for (let k = m * h * w; k < (m + 1) * h * w; k++) sum += a.maps[k];
          levels.push(Math.min(1, (sum / (h * w) / 255) * 4));
        }
        return levels;
      }
      const peak = Math.max(1e-6, ...Array.from(a.values, Math.abs));
      return Array.from(a.values, (v) => Math.max(0, v) / (column.kind === "output" ? 1 : peak));
    });
  }

  _draw() {
    const context = this.canvas.getContext("2d");
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.layout) return;
    context.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    this.frames += 1;
    const levels = this._levels();
    this._drawEdges(context, levels);
    this.layout.forEach((placed, c) => this._drawColumn(context, placed, c, levels[c]));
  }

  _drawEdges(context, levels) {
    this.layout.forEach(({ column, nodes }, c) => {
      const edges = column.edges;
      if (!edges || c === 0) return;
      const from = this.layout[c - 1];
      let strongest = 1e-9;
      for (const w of edges.weight) strongest = Math.max(strongest, Math.abs(w));
      for (let e = 0; e < edges.weight.length; e++) {
        const source = from.nodes[Math.min(edges.source[e], from.nodes.length - 1)];
        const target = nodes[edges.target[e]];
        if (!source || !target) continue;
        const w = edges.weight[e] / strongest;
        const flowing = levels[c - 1][Math.min(edges.source[e], levels[c - 1].length - 1)] || 0;
        const alpha = this.prediction ? 0.05 + 0.55 * flowing * Math.abs(w) : 0.08 + 0.25 * Math.abs(w);
        context.strokeStyle = `rgba(${w > 0 ? POSITIVE : NEGATIVE}, ${alpha.toFixed(3)})`;
        context.lineWidth = 0.4 + 2.2 * Math.abs(w);
        context.beginPath();
        context.moveTo(source.x + source.size / 2, source.y);
        context.lineTo(target.x - target.size / 2, target.y);
        context.stroke();
      }
    });
  }

  _drawColumn(context, { column, nodes, centre }, c, levels) {
    const [name, detail] = this._titles(column, c);
    context.textAlign = "center";
    context.fillStyle = "#1d2230";
    context.font = "600 12px system-ui, sans-serif";
    context.fillText(name, centre, 16);
    context.fillStyle = MUTED;
    context.font = "11px system-ui, sans-serif";
    context.fillText(detail, centre, 31);
    const p = this.prediction;
    const activity = p && (p.activity || []).find((a) => a.layer === column.layer);
    nodes.forEach((node, i) => {
      if (node.shape === "image" || node.shape === "map") {
        const half = node.size / 2;
        const image = node.shape === "image" ? this._thumb(`in`, p && p.input, 0) : this._thumb(`${c}`, activity && activity.maps, i);
        context.fillStyle = "#fff";
        context.fillRect(node.x - half, node.y - half, node.size, node.size);
        if (image) {
          context.imageSmoothingEnabled = false;
          context.drawImage(image, node.x - half, node.y - half, node.size, node.size);
        }
        context.strokeStyle = "#c9cfdd";
        context.lineWidth = 1;
        context.strokeRect(node.x - half + 0.5, node.y - half + 0.5, node.size - 1, node.size - 1);
        return;
      }
      const level = levels[i] || 0;
      const top = column.kind === "output" && p && i === p.index;
      context.beginPath();
      context.arc(node.x, node.y, node.size / 2, 0, 2 * Math.PI);
      context.fillStyle = `rgb(${shade(level).join(",")})`;
      context.fill();
      context.lineWidth = top ? 2.5 : 1;
      context.strokeStyle = top ? "#2b8a3e" : "#9aa3b5";
      context.stroke();
      if (column.kind === "output") {
        const labels = (this.network && this.network.labels) || [];
        context.textAlign = "left";
        context.font = `${top ? "700" : "400"} 12px system-ui, sans-serif`;
        context.fillStyle = top ? "#2b8a3e" : "#1d2230";
        const label = String(labels[i] !== undefined ? labels[i] : i);
        context.fillText(label.length > 8 ? label.slice(0, 7) + "…" : label, node.x + node.size / 2 + 6, node.y + 4);
        if (p) { // percentages in one right-aligned column just after the longest label
          context.fillStyle = top ? "#2b8a3e" : MUTED;
          context.font = "11px system-ui, sans-serif";
          context.textAlign = "right";
          const right = Math.min(this.canvas.width / this.ratio - 4, node.x + node.size / 2 + 6 + this._labelWidth(context) + 40);
          context.fillText(`${Math.round(level * 100)}%`, right, node.y + 4);
        }
      }
    });
  }

  _labelWidth(context) {
    const labels = ((this.network && this.network.labels) || []).map((l) => String(l).slice(0, 8));
    context.save();
    context.font = "700 12px system-ui, sans-serif";
    const widest = Math.max(0, ...labels.map((label) => context.measureText(label).width));
    context.restore();
    return widest;
  }

  _titles(column, c) {
    const shape = column.shape || [];
    const units = shape[shape.length - 1];
    if (column.kind === "input") return ["Input", shape.slice(0, 2).join("×")];
    if (column.kind === "conv") {
      const conv = this.network.columns.slice(0, c + 1).filter((k) => k.kind === "conv").length;
      return [`Conv ${conv}`, `${units} maps`];
    }
    if (column.kind === "output") return ["Output", `${units} classes`];
    return ["Dense", `${units} units`];
  }

  // a map (or the input) as a small canvas of its own pixels, reused between frames
  _thumb(key, array, index) {
    if (!array) return null;
    let h, w, channels, offset;
    if (key === "in") { [h, w, channels] = array.shape; offset = 0; }
    else { [, h, w] = array.shape; channels = 1; offset = index * h * w; if (index >= array.shape[0]) return null; }
    const id = `${key}/${index}`;
    let thumb = this.thumbs.get(id);
    if (!thumb || thumb.width !== w || thumb.height !== h) {
      thumb = Object.assign(document.createElement("canvas"), { width: w, height: h });
      this.thumbs.set(id, thumb);
    }
    const context = thumb.getContext("2d");
    const image = context.createImageData(w, h);
    for (let k = 0; k < h * w; k++) {
      const [r, g, b] = channels === 3
        ? [array[k * 3], array[k * 3 + 1], array[k * 3 + 2]]
        : shade(Math.sqrt(array[offset + k * channels] / 255)); // sqrt: weak responses stay visible
      image.data.set([r, g, b, 255], k * 4);
    }
    context.putImageData(image, 0, 0);
    return thumb;
  }

  _hover(event) {
    if (!this.layout) return;
    const box = this.canvas.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    for (const [c, { column, nodes }] of this.layout.entries()) {
      for (const [i, node] of nodes.entries()) {
        const half = Math.max(node.size / 2, 5);
        if (Math.abs(x - node.x) <= half && Math.abs(y - node.y) <= half) {
          this._showTip(this._describe(column, c, i), x, y);
          return;
        }
      }
    }
    this.tooltip.hidden = true;
  }

  _describe(column, c, i) {
    const p = this.prediction;
    const [name] = this._titles(column, c);
    if (column.kind === "input") return `Input: the ${column.shape.slice(0, 2).join("×")} image the network sees`;
    const activity = p && (p.activity || []).find((a) => a.layer === column.layer);
    if (column.kind === "conv") {
      if (!activity) return `${name}, map ${i + 1}: draw something to see it respond`;
      const [, h, w] = activity.maps.shape;
      let most = 0;
      for (let k = i * h * w; k < (i + 1) * h * w; k++) most = Math.max(most, activity.maps[k]);
      return `${name}, feature map ${i + 1}: strongest response ${((most / 255) * activity.peak).toFixed(2)}`;
    }
    if (column.kind === "output") {
      const label = (this.network.labels || [])[i] ?? i;
      if (!activity) return `Output unit for "${label}"`;
      const logit = activity.logits ? `, logit ${activity.logits[i].toFixed(2)}` : "";
      return `Output "${label}": probability ${(activity.values[i] * 100).toFixed(1)}%${logit}`;
    }
    if (!activity) return `${name}, unit ${i + 1}`;
    return `${name}, unit ${i + 1}: activation ${activity.values[i].toFixed(3)}`;
  }

  _showTip(text, x, y) {
    this.tooltip.textContent = text;
    this.tooltip.hidden = false;
    const width = this.canvas.clientWidth;
    this.tooltip.style.left = `${Math.min(x + 12, width - 220)}px`;
    this.tooltip.style.top = `${y + 14}px`;
  }
}
