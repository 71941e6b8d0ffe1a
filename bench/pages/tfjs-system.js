// TF.js 4.22 with the wasm backend (one thread, SIMD) or the cpu backend, the way a TF.js user
// writes it: tf.layers models, model.trainOnBatch, model.predict on tf.browser.fromPixels.
"use strict";

// A tf.Sequential from nnpy layer configs (bench/workloads.py). The output gets a softmax, as
// TF.js's sparseCategoricalCrossentropy expects probabilities (nnpy fuses it into the loss).
function tfjsModel(architecture) {
  const model = tf.sequential();
  const activation = (name) => name || "linear";
  architecture.layers.forEach((layer, index) => {
    const c = layer.config;
    const last = index === architecture.layers.length - 1;
    const make = {
      Conv2D: () => tf.layers.conv2d({ filters: c.filters, kernelSize: c.kernel_size, strides: c.strides,
        padding: c.padding, activation: activation(c.activation), useBias: c.use_bias }),
      Dense: () => tf.layers.dense({ units: c.units, useBias: c.use_bias,
        activation: last ? "softmax" : activation(c.activation) }),
      MaxPool2D: () => tf.layers.maxPooling2d({ poolSize: c.pool_size, strides: c.strides, padding: c.padding }),
      AvgPool2D: () => tf.layers.averagePooling2d({ poolSize: c.pool_size, strides: c.strides, padding: c.padding }),
      BatchNormalization: () => tf.layers.batchNormalization({ momentum: c.momentum, epsilon: c.epsilon }),
      GlobalAveragePooling2D: () => tf.layers.globalAveragePooling2d({}),
      Flatten: () => tf.layers.flatten(),
      Dropout: () => tf.layers.dropout({ rate: c.rate }),
    }[layer.class_name];
    if (!make) throw new Error(`no TF.js translation for ${layer.class_name}`);
    if (index === 0) model.add(tf.layers.inputLayer({ inputShape: architecture.input_shape }));
    model.add(make());
  });
  return model;
}

window.system = {
  async init() {
    const backend = bench.params.get("backend") || "wasm";
    if (backend === "wasm") {
      tf.wasm.setWasmPaths("/bench-node/@tensorflow/tfjs-backend-wasm/dist/");
      tf.wasm.setThreadsCount(1);
    }
    if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not start`);
    await tf.ready();
    const flags = backend === "wasm" ? {
      simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"),
      multithread: tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT"),
      threads: tf.wasm.getThreadsCount(),
    } : {};
    return { tfjs: tf.version.tfjs, backend: tf.getBackend(), ...flags, wasm: bench.wasmFiles() };
  },

  async setup(name) {
    const w = await bench.workload(name);
    this.state = {};
    tf.disposeVariables();
    if (this.keep) tf.dispose(this.keep);
    this.keep = [];
    if (w.kind === "sgemm") {
      const [a, b] = [tf.randomNormal([w.n, w.n]), tf.randomNormal([w.n, w.n])];
      this.keep.push(a, b);
      const step = (k) => {
        for (let i = 0; i < k; i++) {
          const c = tf.matMul(a, b);
          c.dataSync(); // nnpy's matmul also hands back its result
          c.dispose();
        }
        return k * 2 * w.n ** 3 / 1e9;
      };
      this.round = async (seconds) => ({ value: await bench.rate(seconds, step, this.state) });
    } else if (w.kind === "train") {
      const s = w.settings;
      this.model = tfjsModel(w.architecture);
      this.model.compile({ optimizer: tf.train.momentum(s.learning_rate, s.momentum),
        loss: "sparseCategoricalCrossentropy" });
      const data = await bench.loadMnist();
      const x = tf.tensor(data.x, [data.count, ...w.architecture.input_shape]);
      const y = tf.tensor(Float32Array.from(data.y), [data.count, 1]);
      // model.trainOnBatch, batch by batch: TF.js's fastest training API here (model.fit
      // measured 0.7x of it on the CNN with the cpu backend, the same on the MLP)
      const batches = [];
      for (let first = 0; first + s.batch <= data.count; first += s.batch) {
        batches.push([x.slice(first, s.batch), y.slice(first, s.batch)]);
      }
      this.keep.push(x, y, ...batches.flat());
      let next = 0;
      const step = async (k) => {
        for (let i = 0; i < k; i++) {
          await this.model.trainOnBatch(...batches[next]);
          next = (next + 1) % batches.length;
        }
        return k * s.batch;
      };
      this.round = async (seconds) => ({ value: await bench.rate(seconds, step, this.state) });
    } else {
      // what nnpy.export.tfjs wrote from the model nnpy runs (bench/workloads.py): the same
      // network and weights, opened the way a TF.js user opens a model
      this.model = await tf.loadLayersModel(`/bench-data/tfjs/${w.model}/model.json`);
      const [height, width, channels] = w.architecture.input_shape;
      this.input = w.model === "digits" ? bench.digitCanvas() : bench.frameCanvas(width);
      // the backbone's input: (pixel - 127) / 128, as its model file's nnpy.input says
      const [shift, scale] = w.model === "backbone" ? [127, 128] : [0, 255];
      this.toInput = () => tf.tidy(() => tf.browser.fromPixels(this.input, channels)
        .resizeBilinear([height, width]).toFloat().sub(shift).div(scale).expandDims(0));
      this.round = async () => ({ samples: await bench.latencies(() => this.predictOnce()) });
    }
    return {};
  },

  // The first prediction's numbers, to check the systems compute the same thing.
  async outputs() {
    return Array.from(await this.predictOnce());
  },

  async predictOnce() {
    const probabilities = tf.tidy(() => this.model.predict(this.toInput()));
    const values = await probabilities.data();
    probabilities.dispose();
    return values;
  },
};

bench.start();
