// view.js — what <nnpy-sound-classifier> looks like: its markup, a clip's thumbnail (its waveform;
// a click plays it) and the scrolling spectrogram picture. No state: the element's methods decide
// what is shown when.

import { classCard, thumbnailOf, trainerTemplate } from "../../common/trainer/view.js";

const html = String.raw;
export const TEMPLATE = trainerTemplate({
  deviceClass: "microphone",
  deviceLabel: "Microphone",
  device: html`
      <div class="scope">
        <canvas class="spectrogram" role="img" aria-label="What the microphone hears: time runs left to right, pitch bottom to top"></canvas>
        <p class="placeholder">Microphone off</p>
        <p class="recording-badge" hidden>● Recording</p>
      </div>
      <div class="level" aria-label="Sound level"><span class="level-fill"></span><span class="level-text">–</span></div>
      <div class="toolbar">
        <button type="button" class="start-microphone">Start microphone</button>
        <button type="button" class="stop-microphone secondary" disabled>Stop microphone</button>
      </div>`,
  live: html`
        <label class="threshold-setting">Answer when at least
          <input type="range" class="threshold" min="0.4" max="0.99" step="0.01" value="0.7">
          <output class="threshold-value">70%</output> sure</label>`,
  classesHint: "hold a button while you make the sound, or record several clips at once",
  classesExtra: html`
      <label class="clip-setting">Clips per recording
        <input type="number" class="clip-count" min="1" max="30" step="1" value="8"></label>`,
});

export const CLASS_CARD = classCard(html`
    <button type="button" class="record">Hold to record</button>
    <button type="button" class="record-clips secondary">Record clips</button>
    <label class="button secondary upload">Upload sounds<input type="file" accept="audio/*,.wav" multiple></label>`, "Clips");

/** A clip's thumbnail: its waveform (a click plays it) and a delete button. `clip` is a view of
 *  int16 samples at `rate`. */
export function clipThumbnail(clip, rate) {
  const canvas = document.createElement("canvas");
  canvas.width = 44;
  canvas.height = 44;
  canvas.title = "Play this clip";
  const context = canvas.getContext("2d");
  context.fillStyle = "#1d2230";
  context.fillRect(0, 0, 44, 44);
  context.fillStyle = "#8ce99a";
  const per = Math.ceil(clip.length / 44);
  for (let x = 0; x < 44; x++) { // the loudest sample of each column, as a bar around the middle
    let peak = 0;
    for (let i = x * per; i < Math.min(clip.length, (x + 1) * per); i++) peak = Math.max(peak, Math.abs(clip[i]));
    const height = Math.max(1, (peak / 32768) * 42);
    context.fillRect(x, 22 - height / 2, 1, height);
  }
  canvas.onclick = () => playClip(clip, rate);
  return thumbnailOf(canvas, "clip");
}

function playClip(clip, rate) {
  const context = new AudioContext();
  const buffer = context.createBuffer(1, clip.length, rate);
  const channel = buffer.getChannelData(0);
  for (let i = 0; i < clip.length; i++) channel[i] = clip[i] / 32768;
  const source = Object.assign(context.createBufferSource(), { buffer });
  source.connect(context.destination);
  source.onended = () => context.close();
  source.start();
}

const FLOOR_DB = -100, CEILING_DB = -20; // the analyser's decibels mapped from dark to bright

/** Move the spectrogram picture one column left and draw the newest column from `decibels` (an
 *  AnalyserNode's frequency data, low pitch first), quiet dark blue to loud yellow. */
export function scrollSpectrogram(canvas, decibels) {
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  context.drawImage(canvas, -1, 0);
  const column = context.createImageData(1, height);
  const shown = Math.floor(decibels.length * 0.95); // up to ~7.6 kHz of the 8 kHz
  for (let y = 0; y < height; y++) {
    const bin = Math.floor(((height - 1 - y) / height) * shown);
    const t = Math.min(1, Math.max(0, (decibels[bin] - FLOOR_DB) / (CEILING_DB - FLOOR_DB)));
    column.data.set([20 + 235 * t ** 1.5, 24 + 200 * t, 60 + 80 * (1 - t) * t * 4 - 40 * t, 255], 4 * y);
  }
  context.putImageData(column, width - 1, 0);
}
