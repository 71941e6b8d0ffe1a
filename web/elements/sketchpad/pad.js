// pad.js — a drawing pad: draw with a mouse, a finger or a pen on a <canvas>.
//
//   const pad = new SketchPad(canvas, { onChange: () => predictor.request() });
//   pad.undo(); pad.clear(); pad.toPixels(side); // RGBA of the drawing, alpha = ink
//   model.predict / "predict_activity" inputs: padInputs(pad, model)
//
// By default the pad is transparent and the ink is its alpha, which `nnpy.data.prepare_digit`
// reads as ink whatever the colour. Given a `paper` colour the pad is opaque, as most drawing
// pages are, and the worker gets the colours: Python finds the ink from the background, dark ink
// on light paper or light on dark alike. Strokes are kept (in pad units, 0..1) so undo and
// resizing redraw them exactly.

import nnpy from "../../common/library.js";

// The drawing is drawn afresh at this size for the worker: five times MNIST's 28 px grid, enough
// for Python to crop to the ink and centre it without losing thin strokes (nnpy.js shrinks other
// images to at most 280 px a side for the same job).
export const PAD_READ_SIDE = 140;
const MNIST_STROKE = 0.1; // MNIST strokes are about a tenth of the digit's box
export const DEFAULT_INK = "#1b1f3b";
// A pen's pressure (0..1; a mouse reports 0.5 while pressed) thickens the ink a little: the width
// factor runs from PEN_THINNEST at no pressure to PEN_THINNEST + PEN_RANGE at full pressure.
const PEN_THINNEST = 0.6;
const PEN_RANGE = 0.8;
const DEFAULT_PRESSURE = 0.5;

export class SketchPad {
  /** `lineWidth` is a fraction of the pad's side (MNIST strokes are about a tenth of it);
   *  `color` is the ink, `paper` the background (null: transparent). */
  constructor(canvas, { lineWidth = MNIST_STROKE, color = DEFAULT_INK, paper = null, onChange = null } = {}) {
    this.canvas = canvas;
    this.lineWidth = lineWidth;
    this.color = color;
    this.paper = paper;
    this.onChange = onChange;
    this.strokes = []; // [{points: [[x, y, width factor], ...]}], x and y in 0..1
    this.version = 0; // +1 on every change, so a reader knows which drawing it answered
    this.pointerId = null;
    canvas.style.touchAction = "none"; // the page must not scroll or zoom while drawing
    canvas.addEventListener("pointerdown", (event) => this._down(event));
    canvas.addEventListener("pointermove", (event) => this._move(event));
    canvas.addEventListener("pointerup", (event) => this._up(event));
    canvas.addEventListener("pointercancel", (event) => this._up(event));
    canvas.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "z") { event.preventDefault(); this.undo(); }
    });
    if (typeof ResizeObserver === "function") new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  get isEmpty() {
    return this.strokes.length === 0;
  }

  /** Match the canvas's pixels to its size on screen (sharp on high-DPI screens) and redraw. */
  resize() {
    const ratio = Math.min(globalThis.devicePixelRatio || 1, 3);
    const side = Math.round((this.canvas.clientWidth || this.canvas.width) * ratio);
    if (side > 0 && (this.canvas.width !== side || this.canvas.height !== side)) {
      this.canvas.width = this.canvas.height = side;
    }
    this.redraw();
  }

  undo() {
    if (!this.strokes.length) return;
    this.strokes.pop();
    this._changed("undo");
  }

  clear() {
    if (!this.strokes.length) return;
    this.strokes = [];
    this._changed("clear");
  }

  redraw() {
    this._paint(this.canvas.getContext("2d"), this.canvas.width, this.color);
  }

  /** The drawing as RGBA bytes at `side` x `side` pixels (drawn afresh at that size, so it does
   *  not depend on the screen's pixel ratio): {pixels, width, height}. On transparent paper the
   *  ink is black, so only its alpha tells; on paper, the colours are the page's own. */
  toPixels(side = PAD_READ_SIDE) {
    const context = nnpy.newCanvas(side, side).getContext("2d", { willReadFrequently: true });
    this._paint(context, side, this.paper ? this.color : "#000");
    return { pixels: new Uint8Array(context.getImageData(0, 0, side, side).data.buffer), width: side, height: side };
  }

  _paint(context, side, ink) {
    context.clearRect(0, 0, side, side);
    if (this.paper) {
      context.fillStyle = this.paper;
      context.fillRect(0, 0, side, side);
    }
    for (const stroke of this.strokes) drawStroke(context, stroke.points, side, this.lineWidth, ink);
  }

  _point(event) {
    const box = this.canvas.getBoundingClientRect();
    // a pen's pressure thickens the ink a little; a mouse reports 0.5 while pressed
    const width = event.pointerType === "pen" ? 0.6 + 0.8 * (event.pressure || 0.5) : 1;
    return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height, width];
  }

  _down(event) {
    if (this.pointerId !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.canvas.focus({ preventScroll: true });
    this.pointerId = event.pointerId;
    this.canvas.setPointerCapture(event.pointerId);
    this.strokes.push({ points: [this._point(event)] });
    this._drawTail();
    this._changed("draw");
  }

  _move(event) {
    if (event.pointerId !== this.pointerId) return;
    const points = this.strokes[this.strokes.length - 1].points;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const each of events.length ? events : [event]) {
      points.push(this._point(each));
      this._drawTail();
    }
    this._changed("draw");
  }

  _up(event) {
    if (event.pointerId !== this.pointerId) return;
    this.pointerId = null;
    const points = this.strokes[this.strokes.length - 1].points;
    points.push(this._point(event));
    this.redraw(); // the final stroke ends on its last point exactly
    this._changed("end");
  }

  // While drawing, only the newest piece of the stroke is painted: the cost per pointer event
  // stays constant however long the drawing gets.
  _drawTail() {
    const points = this.strokes[this.strokes.length - 1].points;
    drawPiece(this.canvas.getContext("2d"), points, points.length - 1, this.canvas.width, this.lineWidth, this.color);
  }

  _changed(reason) {
    this.version += 1;
    if (this.onChange) this.onChange({ reason, version: this.version });
  }
}

// A stroke is smoothed by quadratic curves: each piece runs from the midpoint of two samples to
// the next midpoint, bending toward the sample between them. Pieces share their ends, and round
// caps hide the joins, so drawing it piece by piece and all at once look the same.
function drawPiece(context, points, i, side, lineWidth, color) {
  const at = (k) => points[Math.max(0, Math.min(points.length - 1, k))];
  const mid = (a, b) => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  const [x, y, width] = at(i);
  context.lineCap = "round";
  context.lineJoin = "round";
  context.strokeStyle = color;
  context.fillStyle = color;
  context.lineWidth = lineWidth * side * width;
  context.beginPath();
  if (i === 0) { // a dot: a touch that does not move still leaves ink
    context.arc(x * side, y * side, (lineWidth * side * width) / 2, 0, 2 * Math.PI);
    context.fill();
    return;
  }
  const start = i === 1 ? at(0) : mid(at(i - 2), at(i - 1));
  const end = mid(at(i - 1), at(i));
  context.moveTo(start[0] * side, start[1] * side);
  context.quadraticCurveTo(at(i - 1)[0] * side, at(i - 1)[1] * side, end[0] * side, end[1] * side);
  context.stroke();
}

function drawStroke(context, points, side, lineWidth, color) {
  for (let i = 0; i < points.length; i++) drawPiece(context, points, i, side, lineWidth, color);
  if (points.length > 1) { // the last half-piece, from the final midpoint to the final sample
    const a = points[points.length - 2], b = points[points.length - 1];
    context.beginPath();
    context.moveTo(((a[0] + b[0]) / 2) * side, ((a[1] + b[1]) / 2) * side);
    context.lineTo(b[0] * side, b[1] * side);
    context.stroke();
  }
}

/** The drawing as `inputs` for the model's `predict` / `predict_activity`: for a model with the
 *  "mnist-digit" preprocessing, PAD_READ_SIDE px a side (Python crops the ink and centres it in
 *  the model's input); for another image model, its own input size. */
export function padInputs(pad, model) {
  const spec = model.input || {};
  const side = spec.preprocess === "mnist-digit" ? PAD_READ_SIDE : spec.width || (model.inputShape || [])[1];
  if (!side) throw new TypeError("this model takes vectors, not images: a drawing cannot be its input");
  return { ...pad.toPixels(side), count: 1 };
}
