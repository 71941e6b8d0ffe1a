// microphone-worklet.js — runs in the browser's audio thread (an AudioWorkletProcessor): collects
// the microphone's first channel in blocks of CHUNK samples and posts each block to the page, so
// the page's main thread gets ~16 messages a second instead of one every 128 samples, and a busy
// main thread never makes the audio drop out.

const CHUNK = 1024; // 64 ms at 16 kHz

class NnpyCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(CHUNK);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true; // no input connected yet
    let offset = 0;
    while (offset < channel.length) {
      const count = Math.min(channel.length - offset, CHUNK - this.filled);
      this.block.set(channel.subarray(offset, offset + count), this.filled);
      this.filled += count;
      offset += count;
      if (this.filled === CHUNK) {
        this.port.postMessage(this.block, [this.block.buffer]); // handed over, not copied
        this.block = new Float32Array(CHUNK);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("nnpy-capture", NnpyCapture);
