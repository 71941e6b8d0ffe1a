// live-predictor.js — a model reading something that changes (a drawing) as it changes, without
// ever queueing up behind the pen.
//
//   const predictor = new LivePredictor(() => model.predict(canvas), { onResult: show });
//   pad.onChange = () => predictor.request();

/** Runs `predict()` whenever `request()` is called, but never two at once: a request made while
 *  one runs only marks the drawing as changed, and when it finishes the newest drawing is read
 *  (the ones in between are skipped). So drawing never waits for the network.
 *  stats.predictMs: each prediction's round trip; stats.updateMs: from a change of the drawing
 *  to the answer that covers it being shown. */
export class LivePredictor {
  constructor(predict, { onResult, onError } = {}) {
    this.predict = predict;
    this.onResult = onResult || (() => {});
    this.onError = onError || ((error) => console.error(error));
    this.pending = false;
    this.changedAt = null; // when the oldest change not yet being read happened
    this.running = null;
    this.stats = { predictMs: [], updateMs: [] };
  }

  request() {
    this.pending = true;
    if (this.changedAt === null) this.changedAt = performance.now();
    if (!this.running) this.running = this._run();
    return this.running;
  }

  /** Resolves when the newest drawing has been read and shown. */
  settled() {
    return this.running || Promise.resolve();
  }

  async _run() {
    while (this.pending) {
      this.pending = false;
      const changedAt = this.changedAt;
      this.changedAt = null;
      const started = performance.now();
      try {
        const result = await this.predict();
        this.onResult(result);
        const now = performance.now();
        this.stats.predictMs.push(now - started);
        this.stats.updateMs.push(now - changedAt);
      } catch (error) {
        this.onError(error);
      }
    }
    this.running = null;
  }
}
