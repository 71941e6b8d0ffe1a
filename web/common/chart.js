// chart.js — the one drawer of nnpy's training curves (loss, accuracy; per epoch or per batch) on
// a <canvas>: one line per series, the steps along x, counted at the bottom right in `unit`s.
// Sharp on any screen (the canvas is sized to its CSS box times devicePixelRatio).
//
//   drawCurves(canvas, [{ values: [0.9, 0.5, 0.3], colour: "#3b5bdb" },
//                       { values: [1.0, 0.7, 0.6], colour: "#e8590c", dashed: true }],
//              { min: 0, max: null /* from the data */, format: (v) => v.toFixed(2), unit: "epoch" });

export const COLOURS = { train: "#3b5bdb", validation: "#e8590c" };
const PLURALS = { batch: "batches" }; // the rest take an "s" (epochs, steps)

/** Draw `series` (each {values, colour, dashed}) on `canvas`, scaled to [min, max] (max from the
 *  data when null), with the top and bottom values written at the left edge. A series longer than
 *  the canvas is wide is drawn at one point per pixel. */
export function drawCurves(canvas, series, { min = 0, max = null, format = (v) => v.toFixed(2), unit = "epoch" } = {}) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  const w = width / ratio, h = height / ratio;
  context.clearRect(0, 0, w, h);
  const values = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (!values.length) {
    context.fillStyle = "#5b6477";
    context.font = "12px system-ui, sans-serif";
    context.textAlign = "center";
    context.fillText("no training yet", w / 2, h / 2 + 4);
    context.textAlign = "left";
    return;
  }
  const top = max ?? Math.max(min + 1e-6, ...values);
  const pad = { left: 34, right: 8, top: 8, bottom: 16 };
  const count = Math.max(0, ...series.map((s) => s.values.length));
  const steps = Math.max(2, count);
  const x = (i) => pad.left + (i / (steps - 1)) * (w - pad.left - pad.right);
  const y = (v) => h - pad.bottom - ((Math.min(v, top) - min) / (top - min)) * (h - pad.top - pad.bottom);

  // the frame: grid lines at min, middle and top, with their values; the count at the bottom right
  context.font = "10px system-ui, sans-serif";
  context.fillStyle = "#5b6477";
  context.strokeStyle = "#dfe3ec";
  context.lineWidth = 1;
  for (const v of [min, (min + top) / 2, top]) {
    context.beginPath();
    context.moveTo(pad.left, Math.round(y(v)) + 0.5);
    context.lineTo(w - pad.right, Math.round(y(v)) + 0.5);
    context.stroke();
    context.fillText(format(v), 2, y(v) + 3);
  }
  context.textAlign = "right";
  context.fillText(`${count} ${count === 1 ? unit : PLURALS[unit] || `${unit}s`}`, w - pad.right, h - 3);
  context.textAlign = "left";

  for (const { values: line, colour, dashed } of series) {
    context.strokeStyle = colour;
    context.fillStyle = colour;
    context.lineWidth = 2;
    context.setLineDash(dashed ? [5, 4] : []);
    const stride = Math.max(1, Math.floor(line.length / w));
    context.beginPath();
    let drawing = false; // a missing value (null) breaks the line
    for (let i = 0; i < line.length; i += stride) {
      if (!Number.isFinite(line[i])) drawing = false;
      else if (drawing) context.lineTo(x(i), y(line[i]));
      else { context.moveTo(x(i), y(line[i])); drawing = true; }
    }
    context.stroke();
    if (line.length === 1 && Number.isFinite(line[0])) context.fillRect(x(0) - 2, y(line[0]) - 2, 4, 4);
  }
  context.setLineDash([]);
}

const pending = new Map(); // canvas -> the newest [series, options] waiting for a frame

/** drawCurves at the next animation frame, however many calls come before it (training logs can
 *  arrive faster than the screen draws). */
export function drawCurvesSoon(canvas, series, options) {
  if (!pending.has(canvas)) {
    requestAnimationFrame(() => {
      const [latest, latestOptions] = pending.get(canvas);
      pending.delete(canvas);
      drawCurves(canvas, latest, latestOptions);
    });
  }
  pending.set(canvas, [series, options]);
}
