// TF.js (Node, cpu backend) as the oracle of the TF.js import and export tests.
//
//   node tfjs_oracle.cjs make OUT_DIR              fixture models, each OUT_DIR/NAME/model.json + weights.bin
//   node tfjs_oracle.cjs nsfwjs OUT_DIR            nsfwjs's bundled MobileNetV2 as model.json + shard
//   node tfjs_oracle.cjs predict MODEL_DIR IN OUT  IN: {"shape": [...]} + ".bin" float32 input;
//                                                  OUT: float32 outputs, OUT.json their shape
//
// Run with NODE_PATH pointing at a node_modules that holds @tensorflow/tfjs@4.22.0 (and nsfwjs@4.4.0).
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs");

function writeArtifacts(dir, artifacts, extra = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const modelJson = {
    format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
  };
  fs.writeFileSync(path.join(dir, "model.json"), JSON.stringify(modelJson));
  fs.writeFileSync(path.join(dir, "weights.bin"), Buffer.from(artifacts.weightData));
  for (const [name, value] of Object.entries(extra)) {
    fs.writeFileSync(path.join(dir, name), JSON.stringify(value));
  }
}

async function save(model, dir, extra) {
  let captured;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    captured = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  writeArtifacts(dir, captured, extra);
}

/** Weights that are not the initial ones: random, with positive variances. */
function randomise(model, seed) {
  model.setWeights(model.weights.map((weight, index) => {
    const shape = weight.shape;
    if (weight.name.includes("moving_variance")) return tf.randomUniform(shape, 0.5, 1.5, "float32", seed + index);
    if (weight.name.includes("gamma")) return tf.randomUniform(shape, 0.6, 1.4, "float32", seed + index);
    const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 10;
    return tf.randomNormal(shape, 0, 1.2 / Math.sqrt(fanIn), "float32", seed + index);
  }));
}

function sequentialFixture() {
  return tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 3, padding: "same", activation: "relu" }),
    tf.layers.batchNormalization({ epsilon: 0.001 }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.separableConv2d({ filters: 6, kernelSize: 3, padding: "same", activation: "relu" }),  // TF.js does not save depthMultiplier here
    tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2, padding: "valid" }),
    tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]] }),
    tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: "same" }),
    tf.layers.activation({ activation: "tanh" }),
    tf.layers.reLU({ maxValue: 0.5 }),
    tf.layers.flatten(),
    tf.layers.dropout({ rate: 0.3 }),
    tf.layers.dense({ units: 8, activation: "sigmoid" }),
    tf.layers.reshape({ targetShape: [2, 4] }),
    tf.layers.flatten(),
    tf.layers.leakyReLU({ alpha: 0.2 }),
    tf.layers.dense({ units: 3 }),
    tf.layers.softmax(),
  ] });
}

function nestedFixture() {
  const features = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [10, 10, 2], filters: 5, kernelSize: 3, strides: 2, activation: "relu6" }),
    tf.layers.batchNormalization({ center: false }),
  ] });
  const head = tf.sequential({ layers: [
    tf.layers.globalAveragePooling2d({ inputShape: [4, 4, 5] }),
    tf.layers.dense({ units: 4, activation: "softmax", useBias: false }),
  ] });
  return tf.sequential({ layers: [features, head] });
}

function functionalFixture() {
  const input = tf.input({ shape: [9, 9, 3] });
  const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu" }).apply(input);
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input);
  const sum = tf.layers.add().apply([a, b]);
  const side = tf.sequential({ layers: [
    tf.layers.depthwiseConv2d({ inputShape: [9, 9, 4], kernelSize: 3, padding: "same" }),
    tf.layers.batchNormalization(),
  ] }).apply(sum);
  const joined = tf.layers.concatenate().apply([sum, side, input]);
  const pooled = tf.layers.globalAveragePooling2d({}).apply(joined);
  const output = tf.layers.dense({ units: 2, activation: "sigmoid" }).apply(pooled);
  return tf.model({ inputs: input, outputs: output });
}

// --- Teachable Machine's image model: MobileNetV2 (alpha 0.35) cut at out_relu, then a head ---

function makeDivisible(value, divisor = 8) {
  let rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

function invertedResidual(x, expansion, stride, alpha, filters, blockId) {
  const inChannels = x.shape[x.shape.length - 1];
  const pointwise = makeDivisible(Math.floor(filters * alpha), 8);
  let prefix = `block_${blockId}_`;
  let y = x;
  if (blockId) {
    y = tf.layers.conv2d({ filters: expansion * inChannels, kernelSize: 1, padding: "same", useBias: false, name: prefix + "expand" }).apply(y);
    y = tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: prefix + "expand_BN" }).apply(y);
    y = tf.layers.reLU({ maxValue: 6, name: prefix + "expand_relu" }).apply(y);
  } else {
    prefix = "expanded_conv_";
  }
  if (stride === 2) y = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: prefix + "pad" }).apply(y);
  y = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, useBias: false, padding: stride === 1 ? "same" : "valid", name: prefix + "depthwise" }).apply(y);
  y = tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: prefix + "depthwise_BN" }).apply(y);
  y = tf.layers.reLU({ maxValue: 6, name: prefix + "depthwise_relu" }).apply(y);
  y = tf.layers.conv2d({ filters: pointwise, kernelSize: 1, padding: "same", useBias: false, name: prefix + "project" }).apply(y);
  y = tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: prefix + "project_BN" }).apply(y);
  if (inChannels === pointwise && stride === 1) return tf.layers.add({ name: prefix + "add" }).apply([x, y]);
  return y;
}

function mobilenetV2(alpha, size) {
  const input = tf.input({ shape: [size, size, 3], name: "input_1" });
  let x = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: "Conv1_pad" }).apply(input);
  x = tf.layers.conv2d({ filters: makeDivisible(32 * alpha, 8), kernelSize: 3, strides: 2, padding: "valid", useBias: false, name: "Conv1" }).apply(x);
  x = tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: "bn_Conv1" }).apply(x);
  x = tf.layers.reLU({ maxValue: 6, name: "Conv1_relu" }).apply(x);
  const blocks = [[16, 1, 1, 0], [24, 2, 6, 1], [24, 1, 6, 2], [32, 2, 6, 3], [32, 1, 6, 4], [32, 1, 6, 5],
    [64, 2, 6, 6], [64, 1, 6, 7], [64, 1, 6, 8], [64, 1, 6, 9], [96, 1, 6, 10], [96, 1, 6, 11],
    [96, 1, 6, 12], [160, 2, 6, 13], [160, 1, 6, 14], [160, 1, 6, 15], [320, 1, 6, 16]];
  for (const [filters, stride, expansion, id] of blocks) x = invertedResidual(x, expansion, stride, alpha, filters, id);
  x = tf.layers.conv2d({ filters: 1280, kernelSize: 1, useBias: false, name: "Conv_1" }).apply(x);
  x = tf.layers.batchNormalization({ epsilon: 1e-3, momentum: 0.999, name: "Conv_1_bn" }).apply(x);
  x = tf.layers.reLU({ maxValue: 6, name: "out_relu" }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: "mobilenetv2_0.35_224" });
}

/** The shape of a Teachable Machine image export: [[truncated MobileNetV2, GAP], [Dense, Dense]]. */
function teachableFixture(labels) {
  const truncated = tf.sequential({ layers: [mobilenetV2(0.35, 224), tf.layers.globalAveragePooling2d({})] });
  const head = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [1280], units: 100, activation: "relu", kernelInitializer: "varianceScaling", useBias: true }),
    tf.layers.dense({ units: labels.length, activation: "softmax", kernelInitializer: "varianceScaling", useBias: false }),
  ] });
  const model = tf.sequential();
  model.add(truncated);
  model.add(head);
  return model;
}

async function make(outDir) {
  const fixtures = { sequential: sequentialFixture(), nested: nestedFixture(), functional: functionalFixture() };
  let seed = 1;
  for (const [name, model] of Object.entries(fixtures)) {
    randomise(model, 100 * seed++);
    await save(model, path.join(outDir, name));
  }
  const labels = ["Class 1", "Class 2", "Background"];
  const teachable = teachableFixture(labels);
  randomise(teachable, 7000);
  await save(teachable, path.join(outDir, "teachable"), { "metadata.json": {
    tfjsVersion: tf.version.tfjs, tmVersion: "2.4.10", packageVersion: "0.8.5",
    packageName: "@teachablemachine/image", timeStamp: "2026-01-01T00:00:00.000Z",
    userMetadata: {}, modelName: "tm-my-image-model", labels, imageSize: 224,
  } });
}

function nsfwjs(outDir) {
  const base = path.resolve(path.dirname(require.resolve("nsfwjs")), "../..");  // from dist/cjs/
  const model = require(path.join(base, "dist/models/mobilenet_v2/model.min.js"));
  const shard = require(path.join(base, "dist/models/mobilenet_v2/group1-shard1of1.min.js"));
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "model.json"), JSON.stringify(model));
  const [group] = model.weightsManifest;
  if (group.paths.length !== 1) throw new Error("expected one shard");
  fs.writeFileSync(path.join(outDir, group.paths[0]), Buffer.from(shard, "base64"));
}

async function predict(modelDir, inputPath, outputPath) {
  const modelJson = JSON.parse(fs.readFileSync(path.join(modelDir, "model.json"), "utf8"));
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const file of group.paths) buffers.push(fs.readFileSync(path.join(modelDir, file)));
  }
  const data = Buffer.concat(buffers);
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: modelJson.modelTopology, weightSpecs,
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
  }));
  const { shape } = JSON.parse(fs.readFileSync(inputPath + ".json", "utf8"));
  const raw = fs.readFileSync(inputPath);
  const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const output = model.predict(tf.tensor(values, shape));
  fs.writeFileSync(outputPath, Buffer.from((await output.data()).buffer));
  fs.writeFileSync(outputPath + ".json", JSON.stringify({ shape: output.shape }));
}

const [command, ...args] = process.argv.slice(2);
const commands = { make, nsfwjs, predict };
if (!commands[command]) {
  console.error("usage: node tfjs_oracle.cjs make|nsfwjs|predict ...");
  process.exit(2);
}
Promise.resolve(commands[command](...args)).catch((error) => {
  console.error(error);
  process.exit(1);
});
