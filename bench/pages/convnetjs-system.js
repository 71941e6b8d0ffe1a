// ConvNetJS 0.3.0 as its MNIST demo uses it: Net.makeLayers, a Trainer (batch 20), one Vol per
// example. It has no matrix-product API (no sgemm rows), no BatchNormalization and no global
// average pooling.
"use strict";

// Layer definitions for Net.makeLayers from nnpy layer configs. BatchNormalization is left out
// (returned in `omitted`): at inference it is a per-channel scale and shift that folds into the
// convolution before it.
function convnetjsLayers(architecture) {
  const [height, width, channels] = architecture.input_shape.length === 3
    ? architecture.input_shape : [1, 1, architecture.input_shape[0]];
  const defs = [{ type: "input", out_sx: width, out_sy: height, out_depth: channels }];
  const omitted = [];
  const activation = (name) => (name ? { activation: name } : {});
  architecture.layers.forEach((layer, index) => {
    const c = layer.config;
    const last = index === architecture.layers.length - 1;
    switch (layer.class_name) {
      case "Conv2D":
        if (c.kernel_size[0] !== c.kernel_size[1] || c.strides[0] !== c.strides[1]) throw new Error("ConvNetJS has square windows only");
        defs.push({ type: "conv", sx: c.kernel_size[0], filters: c.filters, stride: c.strides[0],
          pad: c.padding === "same" ? (c.kernel_size[0] - 1) / 2 : 0, ...activation(c.activation) });
        break;
      case "MaxPool2D":
        defs.push({ type: "pool", sx: c.pool_size[0], stride: c.strides[0] });
        break;
      case "Dense":
        defs.push(last ? { type: "softmax", num_classes: c.units }
          : { type: "fc", num_neurons: c.units, ...activation(c.activation) });
        break;
      case "Dropout":
        defs.push({ type: "dropout", drop_prob: c.rate });
        break;
      case "Flatten":
        break; // fully connected layers take any shape
      case "BatchNormalization":
        omitted.push("BatchNormalization");
        break;
      default:
        throw new Error(`ConvNetJS has no ${layer.class_name} layer`);
    }
  });
  return { defs, omitted };
}

window.system = {
  async init() {
    return { convnetjs: "0.3.0" };
  },

  async setup(name) {
    const w = await bench.workload(name);
    this.state = {};
    if (w.kind === "sgemm") throw new Error("ConvNetJS has no matrix-product API");
    const { defs, omitted } = convnetjsLayers(w.architecture);
    this.net = new convnetjs.Net();
    this.net.makeLayers(defs);
    const [first] = defs;
    const newVol = () => new convnetjs.Vol(first.out_sx, first.out_sy, first.out_depth, 0.0);
    if (w.kind === "train") {
      const s = w.settings;
      const trainer = new convnetjs.Trainer(this.net, { method: "sgd", learning_rate: s.learning_rate,
        momentum: s.momentum, batch_size: s.convnetjs_batch, l2_decay: 0 });
      const data = await bench.loadMnist();
      const size = data.x.length / data.count;
      const examples = Array.from({ length: data.count }, (_, i) => {
        const vol = newVol();
        vol.w.set(data.x.subarray(i * size, (i + 1) * size));
        return vol;
      });
      let next = 0;
      this.state.maxK = data.count / s.batch;
      const step = (k) => { // k of nnpy's batches, example by example (the Trainer batches by 20)
        for (let i = 0; i < k * s.batch; i++) {
          trainer.train(examples[next], data.y[next]);
          next = (next + 1) % data.count;
        }
        return k * s.batch;
      };
      this.round = async (seconds) => ({ value: await bench.rate(seconds, step, this.state) });
    } else {
      const [height, width, channels] = w.architecture.input_shape;
      const source = w.model === "digits" ? bench.digitCanvas() : bench.frameCanvas(width);
      const small = Object.assign(document.createElement("canvas"), { width, height });
      const context = small.getContext("2d", { willReadFrequently: true });
      this.predictOnce = () => {
        context.drawImage(source, 0, 0, width, height);
        const pixels = context.getImageData(0, 0, width, height).data;
        const vol = newVol();
        for (let p = 0; p < width * height; p++) {
          for (let d = 0; d < channels; d++) vol.w[p * channels + d] = pixels[p * 4 + d] / 255;
        }
        return this.net.forward(vol, false).w;
      };
      this.round = async () => ({ samples: await bench.latencies(async () => this.predictOnce()) });
    }
    return omitted.length ? { note: `without ${[...new Set(omitted)].join(", ")} (ConvNetJS has none; at inference it folds into the convolution)` } : {};
  },
};

bench.start();
