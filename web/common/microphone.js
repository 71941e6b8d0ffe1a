// microphone.js — the microphone for nnpy's pages: start it with every failure explained, hear it
// as 16 kHz samples captured off the main thread (an AudioWorklet; a ScriptProcessorNode where
// there is none), and stop it for sure.
//
//   const mic = await startMicrophone({ onSamples: (block) => ..., timeoutMs: 10000 }); // throws a MediaError
//   mic.analyser   // an AnalyserNode: the level meter and the spectrogram picture read it
//   mic.rate       // samples a second (16000 where the browser resamples, as Chromium does)
//   mic.stop();

import { MICROPHONE, askForDevice, explainMediaError } from "./media-errors.js";

export const SAMPLE_RATE = 16000; // what nnpy's sound models hear
const FALLBACK_BLOCK = 2048; // samples per ScriptProcessorNode callback

/** Ask for the microphone and call `onSamples(Float32Array)` with every block it records. */
export async function startMicrophone({ onSamples, timeoutMs = 10000, onWaiting = () => {} } = {}) {
  // the raw sound: echo cancelling, noise suppression and gain control would change the classes
  const raw = { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 };
  const stream = await askForDevice(MICROPHONE, { audio: raw, video: false }, { audio: true, video: false },
    { timeoutMs, onWaiting });
  let context;
  try {
    context = createContext();
    await context.resume(); // a context made before any click may start "suspended"
    const source = context.createMediaStreamSource(stream);
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    analyser.smoothingTimeConstant = 0;
    source.connect(analyser);
    const capture = await captureNode(context, onSamples);
    source.connect(capture.node);
    const stop = () => {
      for (const track of stream.getTracks()) track.stop();
      source.disconnect();
      capture.node.disconnect();
      context.close().catch(() => {});
    };
    return { stream, context, analyser, rate: context.sampleRate, offMainThread: capture.offMainThread, stop };
  } catch (error) {
    for (const track of stream.getTracks()) track.stop();
    if (context) context.close().catch(() => {});
    throw explainMediaError(error, MICROPHONE);
  }
}

// An AudioContext at 16 kHz (the browser resamples the microphone), or at the device's own rate
// where a browser refuses to (then the samples are resampled in Python).
function createContext() {
  try {
    return new AudioContext({ sampleRate: SAMPLE_RATE });
  } catch {
    return new AudioContext();
  }
}

async function captureNode(context, onSamples) {
  if (context.audioWorklet && typeof AudioWorkletNode === "function") {
    await context.audioWorklet.addModule(new URL("./microphone-worklet.js", import.meta.url));
    const node = new AudioWorkletNode(context, "nnpy-capture", { numberOfOutputs: 0 });
    node.port.onmessage = (event) => onSamples(event.data);
    return { node, offMainThread: true };
  }
  const node = context.createScriptProcessor(FALLBACK_BLOCK, 1, 1); // deprecated, but everywhere
  node.onaudioprocess = (event) => onSamples(event.inputBuffer.getChannelData(0).slice());
  const silent = context.createGain();
  silent.gain.value = 0; // a ScriptProcessorNode only runs when connected to the output
  node.connect(silent).connect(context.destination);
  return { node, offMainThread: false };
}

/** The samples of an audio file (wav, mp3, ogg, ... whatever the browser decodes) as one channel
 *  at `rate`: {samples: Float32Array, rate, seconds}. Rejects when the file is not audio. */
export async function decodeAudioFile(file, rate = SAMPLE_RATE) {
  const decoder = new OfflineAudioContext(1, 1, rate);
  const audio = await decoder.decodeAudioData(await file.arrayBuffer()); // resampled to `rate`
  const samples = new Float32Array(audio.length);
  for (let c = 0; c < audio.numberOfChannels; c++) {
    const channel = audio.getChannelData(c);
    for (let i = 0; i < samples.length; i++) samples[i] += channel[i] / audio.numberOfChannels;
  }
  return { samples, rate: audio.sampleRate, seconds: audio.duration };
}

/** A ring of the latest `seconds` of samples: `push(block)` as they come, `last(n)` the newest n
 *  (fewer at the start), `since(total)` everything recorded after the sample count `total`. */
export class SoundRing {
  constructor(seconds, rate) {
    this.buffer = new Float32Array(Math.round(seconds * rate));
    this.total = 0; // samples pushed since the start
  }

  push(block) {
    const size = this.buffer.length;
    let start = this.total % size;
    let rest = block;
    while (rest.length) {
      const count = Math.min(rest.length, size - start);
      this.buffer.set(rest.subarray(0, count), start);
      rest = rest.subarray(count);
      start = 0;
    }
    this.total += block.length;
  }

  last(count) {
    const size = this.buffer.length;
    count = Math.min(count, this.total, size);
    const out = new Float32Array(count);
    const start = (this.total - count) % size;
    const first = Math.min(count, size - start);
    out.set(this.buffer.subarray(start, start + first));
    out.set(this.buffer.subarray(0, count - first), first);
    return out;
  }

  since(total) {
    return this.last(this.total - total);
  }
}
