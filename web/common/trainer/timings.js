// timings.js — how fast a trainer element classifies live, kept so a person (and a test) can see
// that the page stays smooth: round trip to Python and time in Python (the latest few hundred),
// answers in the last second, display frames in the last second.

const TIMINGS_KEPT = 300; // the latest this many timings of each kind
const PERF_REFRESH_MS = 250; // the readout changes at most 4 times a second, so it can be read

/** {median, p90, count} of a list of numbers. */
export function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : NaN);
  return { median: at(0.5), p90: at(0.9), count: sorted.length };
}

/** A median in milliseconds for the readout, or null when there is none yet (no answer timed
 *  since the timings were reset, or all of them came during training, when none are kept). */
export function medianMs({ median }, digits = 1) {
  return Number.isFinite(median) ? `${median.toFixed(digits)} ms` : null;
}

export const timingMethods = {
  remember(kind, value) {
    const list = this.timings[kind];
    list.push(value);
    if (list.length > TIMINGS_KEPT) list.shift();
  },

  // Display frames per second, counted all along: the measure that the page stays smooth.
  countDisplayFrames() {
    const tick = (now) => {
      this.timings.frames.push(now);
      while (this.timings.frames.length && now - this.timings.frames[0] > 1000) this.timings.frames.shift();
      this.displayLoop = requestAnimationFrame(tick);
    };
    this.displayLoop = requestAnimationFrame(tick);
  },

  // The .perf readout: `describe(stats)` a while after an answer (answers come faster than a
  // person reads).
  showPerf(describe) {
    if (this.perfPending) return;
    this.perfPending = true;
    setTimeout(() => {
      this.perfPending = false;
      this.$(".perf").textContent = describe(this.stats());
    }, PERF_REFRESH_MS);
  },

  /** Forget the timings so far (e.g. to measure from now on). */
  resetStats() {
    this.timings.roundTrip = [];
    this.timings.python = [];
  },

  /** Live-classification timings: round trip and Python time (median, p90, in ms), answers in
   *  the last second, display frames in the last second. */
  stats() {
    const now = performance.now();
    return {
      roundTripMs: spread(this.timings.roundTrip),
      pythonMs: spread(this.timings.python),
      classifiedPerSecond: this.timings.classified.filter((t) => now - t <= 1000).length,
      displayFps: this.timings.frames.filter((t) => now - t <= 1000).length,
    };
  },
};
