// Every call of nnpy's page API, as a TypeScript user writes it, checked by `tsc --noEmit
// --strict` against web/nnpy.d.ts (tests/web/test_typescript.py). Lines after
// `@ts-expect-error` are mistakes the declarations must refuse: if one is accepted, tsc fails
// with "Unused '@ts-expect-error' directive".
import type {
  BatchLogs, BatchPrediction, Client, EpochLogs, History, LoadProgress, Model, NnpyError,
  PadReading, Prediction, SoundDecision, TrainerStats,
} from "../../../web/nnpy.d.ts";

async function everyCall(): Promise<void> {
  const version: string = nnpy.version;
  const pyodideVersion: string = nnpy.pyodideVersion;
  const modelURL = new URL("models/digits.safetensors", nnpy.scriptURL);

  const stages: string[] = [];
  const nn: Client = await nnpy.load({
    baseURL: "https://cdn.example.org/npm/nnpy@0.2.0/",
    pyodideURL: new URL("https://cdn.example.org/pyodide/"),
    kernelsURL: false,
    snapshot: false,
    numpy: "full",
    preload: [modelURL],
    onProgress: (progress: LoadProgress) => {
      if (progress.stage === "download") stages.push(`${progress.file} ${progress.loaded}/${progress.total}`);
      else stages.push(`${progress.stage}: ${progress.message}`);
    },
  });
  const shared: Client = await nnpy.shared({ onProgress: (p) => console.log(p.stage) });
  const boot: "cold" | "snapshot" = nn.info.boot;
  console.log(version, pyodideVersion, boot, nn.info.gemm, nn.info.python, nn.info.timings, shared.baseURL);
  nn.addEventListener("crash", (event) => console.error(event.error.name, event.error.message));
  if (nn.crashed) console.error(nn.crashed.pythonTraceback);

  const answer = await nn.exec<number>("6 * 7");
  const doubled: number = answer * 2;
  const xor = await nn.exec<Model>(`
from nnpy import layers, optimizers
model = nnpy.Sequential([layers.Input((2,)), layers.Dense(8, activation="tanh"), layers.Dense(1)], seed=0)
model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
model`);
  const controller = new AbortController();
  const history: History = await xor.fit([[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]], {
    epochs: 300, batchSize: 4, validationSplit: 0, shuffle: true, seed: 1, signal: controller.signal,
    onBatch: (logs: BatchLogs) => console.log(logs.batch, logs.batches, logs.loss),
    onEpoch: (logs: EpochLogs) => console.log(logs.epoch, logs.loss, logs.valLoss ?? NaN, logs.accuracy),
  });
  const lastLoss: number = history.loss[history.loss.length - 1];
  const accuracy: number[] | undefined = history.valAccuracy;
  controller.abort();

  const one = await xor.predict(new Float32Array([1, 0]));
  const firstProbability: number = one.probabilities[0];
  const shape: number[] = one.probabilities.shape;

  const digits: Model = await nn.loadModel(modelURL);
  const canvas = document.createElement("canvas");
  const reading: Prediction = await digits.predict(canvas, { invert: true });
  const label: string | number = reading.label;
  const index: number = reading.index;
  const batch: BatchPrediction = await digits.predict([canvas, canvas]);
  const labels: Array<string | number> = batch.label;
  const indices: Int32Array = batch.index;
  await digits.fit([canvas, canvas], ["1", "7"], { epochs: 1, invert: "auto" });
  console.log(digits.labels, digits.input?.width, digits.inputShape, digits.card?.accuracy, digits.handle);

  await digits.save("indexeddb://digits");
  const again: Model = await nn.loadModel("indexeddb://digits");
  const bytes = await again.toBytes();
  const size: number = bytes.byteLength;
  await nn.loadModel(bytes);
  await nn.loadModel(new Blob([bytes]));
  await nn.loadModel("https://example.org/teachable/model.json");
  await again.download("digits.safetensors");
  await again.download("tfjs");
  const table: string = await again.summary();
  await again.dispose();
  const saved: string[] = await nn.savedModels();
  await nn.deleteModel("indexeddb://digits");
  const outline = await nn.request<{ columns: unknown[] }>("network_outline", { model: digits.handle });
  nn.terminate();

  try {
    await nn.exec("1 / 0");
  } catch (caught) {
    const error = caught as NnpyError;
    if (error.name === "ZeroDivisionError" || error.name === "FatalError") console.log(error.pythonTraceback);
  }

  const image: ImageData = nnpy.readImage(canvas, 28, 28);
  const scratch = nnpy.newCanvas(28, 28);
  nnpy.downloadBytes(bytes, "model.safetensors");
  const keys = await nnpy.withStore("readonly", (store) => store.getAllKeys());
  const model: Model | null = xor instanceof nnpy.Model ? xor : null;

  const pad = document.querySelector("nnpy-sketchpad");
  if (pad) {
    pad.client = nnpy.shared();
    pad.wantsActivity = true;
    pad.addEventListener("ready", (event) => console.log(event.detail.model.labels));
    pad.addEventListener("prediction", (event) => console.log(event.detail.label, event.detail.version));
    const drawn: PadReading | null = await pad.reading();
    console.log(drawn?.input.shape, pad.modelURL);
  }
  const network = document.querySelector("nnpy-network");
  network?.setNetwork({ columns: [], labels: [] });
  const webcam = document.querySelector("nnpy-webcam-classifier");
  if (webcam) {
    webcam.nn = nnpy.load();
    await webcam.ready;
    const stats: TrainerStats = webcam.stats();
    webcam.resetStats();
    console.log(stats.roundTripMs.median, webcam.history.loss, webcam.projectName, webcam.mode);
    webcam.addEventListener("prediction", (event) => {
      const sureOf: number = event.detail.probabilities[event.detail.index];
      console.log(event.detail.label, sureOf);
    });
    webcam.addEventListener("trained", (event) => {
      const rows: number[][] | null = event.detail.confusion;
      console.log(event.detail.classNames, event.detail.history.valAccuracy, event.detail.stopped, rows);
    });
    webcam.addEventListener("saved", (event) => console.log(event.detail.bytes, new Date(event.detail.savedAt)));
  }
  const sound = document.querySelector("nnpy-sound-classifier");
  if (sound) {
    const latest: SoundDecision | undefined = sound.decisions[sound.decisions.length - 1];
    console.log(latest?.label, sound.stats().latencyMs.p90);
    sound.addEventListener("prediction", (event) => console.log(event.detail.sure));
  }
  console.log(stages, doubled, lastLoss, accuracy, firstProbability, shape, label, index, labels,
    indices, table, saved, outline, image, scratch, keys, model, size);
}

async function mistakes(nn: Client, model: Model): Promise<void> {
  const trainer = document.querySelector("nnpy-webcam-classifier");
  // @ts-expect-error: a trainer's prediction has no such field
  trainer?.addEventListener("prediction", (event) => console.log(event.detail.confidence));
  // @ts-expect-error: there is no such option
  await nnpy.load({ pyodideUrl: "https://example.org/" });
  // @ts-expect-error: numpy is "trimmed" or "full"
  await nnpy.load({ numpy: "half" });
  // @ts-expect-error: exec takes Python source
  await nn.exec(42);
  // @ts-expect-error: models are saved as "indexeddb://NAME"
  await model.save("localStorage://xor");
  // @ts-expect-error: batchSize, not batch_size
  await model.fit([[0, 0]], [[0]], { batch_size: 4 });
  // @ts-expect-error: a prediction's probabilities are numbers
  const wrong: string = (await model.predict(new Float32Array([1, 0]))).probabilities[0];
  // @ts-expect-error: an epoch's log has no such metric type
  await model.fit([[0, 0]], [[0]], { onEpoch: (logs: { loss: string }) => logs });
  // @ts-expect-error: the sketchpad's "prediction" detail has no `probability`
  document.querySelector("nnpy-sketchpad")?.addEventListener("prediction", (event) => event.detail.probability);
  // @ts-expect-error: stats() is a method
  console.log(document.querySelector("nnpy-webcam-classifier")?.stats.displayFps, wrong);
}

console.log(everyCall, mistakes);
