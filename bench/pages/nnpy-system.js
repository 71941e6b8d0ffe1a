// nnpy in Pyodide, through the page API a site uses (nnpy.load, loadModel, predict, fit).
"use strict";

const SGEMM = `
import time
import numpy as np
from nnpy import backend

rng = np.random.default_rng(0)
bench_a, bench_b = (rng.standard_normal((N, N), dtype=np.float32) for _ in range(2))

def bench_sgemm(seconds):
    start, calls = time.perf_counter(), 0
    while True:
        backend.matmul(bench_a, bench_b)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * 2 * N ** 3 / elapsed / 1e9
`;

const TRAINABLE = `
import json
model = nnpy.Sequential.from_config(json.loads(ARCHITECTURE))
model.compile(optimizer=nnpy.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
              loss="sparse_categorical_crossentropy")
model
`;

window.system = {
  async init() {
    const kernels = bench.params.get("kernels") !== "0";
    // the loading stages as milestones of a cold start (the first time each is reported)
    const onProgress = (p) => p.stage !== "download" && bench.mark(p.stage);
    this.nn = await nnpy.load(kernels ? { onProgress } : { kernelsURL: false, onProgress });
    // finer milestones the worker timed itself (wall-clock ms, so both clocks agree)
    for (const [name, ms] of Object.entries(this.nn.info.timings || {})) {
      bench.mark(name, (ms - performance.timeOrigin) / 1000);
    }
    return this.nn.info;
  },

  // The worker's own fetches (Pyodide, NumPy, the wheel): the page's timeline does not list them.
  async workerResources() {
    return this.nn.exec(`import js
[{"name": e.name, "transfer": e.transferSize, "encoded": e.encodedBodySize,
  "decoded": e.decodedBodySize} for e in js.performance.getEntriesByType("resource")]`);
  },

  async setup(name) {
    const w = await bench.workload(name);
    this.kind = w.kind;
    this.state = {};
    if (this.model) await this.model.dispose();
    this.model = null;
    if (w.kind === "sgemm") {
      await this.nn.exec(`N = ${w.n}\n${SGEMM}`);
      this.round = (seconds) => this.nn.exec(`bench_sgemm(${seconds})`).then((value) => ({ value }));
    } else if (w.kind === "train") {
      const s = w.settings;
      this.model = await this.nn.exec(`ARCHITECTURE = ${JSON.stringify(JSON.stringify(w.architecture))}\n` +
        `LEARNING_RATE = ${s.learning_rate}\nMOMENTUM = ${s.momentum}\n${TRAINABLE}`);
      const data = await bench.loadMnist();
      const perExample = data.x.length / data.count;
      const batches = data.count / s.batch;
      this.state.maxK = batches;
      let next = 0; // the next batch of the pool, cycling
      const step = async (k) => {
        const first = next % batches;
        const count = Math.min(k, batches - first);
        const rows = [first * s.batch, (first + count) * s.batch];
        await this.model.fit(data.x.subarray(rows[0] * perExample, rows[1] * perExample),
          Int32Array.from(data.y.subarray(...rows)), { epochs: 1, batchSize: s.batch });
        next = first + count;
        return count * s.batch;
      };
      this.round = async (seconds) => ({ value: await bench.rate(seconds, step, this.state) });
    } else {
      if (w.model === "digits") {
        this.model = await this.nn.loadModel("/web/models/digits.safetensors");
        this.input = bench.digitCanvas();
      } else if (w.model === "backbone") { // the site's file, cut at its embedding
        const full = await this.nn.loadModel("/web/models/efficientnet-lite0.safetensors");
        this.model = await this.nn.exec(`from nnpy.applications import embedding_model\n` +
          `embedding_model(models[${full.handle}], ${w.architecture.input_shape[0]})`);
        this.input = bench.frameCanvas(w.architecture.input_shape[0]);
      } else {
        // the webcam trainer's network, with the weights TF.js gets too (bench/workloads.py)
        this.model = await this.nn.loadModel("/bench-data/webcam.safetensors");
        this.input = bench.frameCanvas(w.architecture.input_shape[0]);
      }
      this.round = async () => ({ samples: await bench.latencies(() => this.predictOnce()) });
    }
    return {};
  },

  // The first prediction's numbers, to check the systems compute the same thing.
  async outputs() {
    return Array.from((await this.predictOnce()).probabilities);
  },

  predictOnce() {
    return this.model.predict(this.input);
  },
};

bench.start();
