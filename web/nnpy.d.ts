// nnpy.d.ts — TypeScript declarations for nnpy's page API: what web/nnpy.js puts on `window.nnpy`
// and the custom elements it brings. The npm package names this file as its "types":
//
//   /// <reference types="nnpy" />          (or list "nnpy" in tsconfig's compilerOptions.types)
//   const nn = await nnpy.load({ onProgress: (p) => console.log(p.stage) });
//
// Every call returns a promise that Python in a Web Worker answers. A Python exception rejects
// with an `NnpyError` whose `name` is the Python type. Checked against an example that uses every
// call (tests/web/typescript/) by `tsc --noEmit --strict`.

// ---- values -------------------------------------------------------------------------------------

/** A NumPy array as it arrives from Python: a typed array with the array's `shape`. */
export type NDArray<T extends TypedArray = Float32Array> = T & { shape: number[] };

export type TypedArray = Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray
  | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array;

/** Numbers for a model: a typed array (its `shape` property, if set, gives its shape) or nested
 *  arrays of numbers (float32). */
export type NumericInput = TypedArray | number[] | number[][] | number[][][] | number[][][][];

/** What an image model reads: resized and centre-cropped to the model's input (`Model.input`). */
export type ImageSource = HTMLCanvasElement | OffscreenCanvas | HTMLImageElement | HTMLVideoElement
  | ImageBitmap | ImageData | SVGImageElement | VideoFrame;

/** How an image becomes a model's input (the model file's `nnpy.input`); `predict` and `fit`
 *  accept the same keys as per-call overrides, e.g. `{invert: true}`. */
export interface InputSpec {
  height?: number;
  width?: number;
  channels?: number;
  /** What pixel values 0 and 255 become ([low, high]), or a named scale. */
  scale?: [number, number] | string;
  /** Light ink on dark (true), dark on light (false), or found from the background ("auto"). */
  invert?: boolean | "auto";
  /** "mnist-digit": crop to the ink and centre it as MNIST's digits were. */
  preprocess?: "mnist-digit" | string;
  mean?: number[];
  std?: number[];
}

/** One input's answer. */
export interface Prediction {
  probabilities: NDArray<Float32Array>;
  index: number;
  /** The model's label for `index`, or the index itself when the model has no labels. */
  label: string | number;
}

/** A batch's answers (a list of images, or numbers with a batch dimension). */
export interface BatchPrediction {
  probabilities: NDArray<Float32Array>;
  index: NDArray<Int32Array>;
  label: Array<string | number>;
}

// ---- errors -------------------------------------------------------------------------------------

/** The names an nnpy error has: the Python type of an exception raised in the worker, or one of
 *  the page's own (AbortError: a cancelled fit; FatalError: Python crashed or the worker died;
 *  NetworkError: a download failed; NotFoundError: no such saved model; SecurityError: the page's
 *  Content-Security-Policy forbids WebAssembly). */
export type NnpyErrorName = "ModelFormatError" | "ShapeError" | "TrainingDivergedError" | "NnpyError"
  | "ValueError" | "TypeError" | "KeyError" | "IndexError" | "ZeroDivisionError" | "RuntimeError"
  | "SyntaxError" | "NameError" | "ModuleNotFoundError" | "OSError" | "AbortError" | "FatalError"
  | "NetworkError" | "NotFoundError" | "SecurityError" | "Error" | (string & {});

/** How every nnpy promise rejects: a JS Error whose `name` says what went wrong. */
export interface NnpyError extends Error {
  name: NnpyErrorName;
  /** Python's traceback, for an exception raised in Python. */
  pythonTraceback?: string;
}

// ---- loading ------------------------------------------------------------------------------------

export type LoadStage = "manifest" | "runtime" | "numpy" | "nnpy" | "ready";

/** A stage of starting nnpy begins. */
export interface StageProgress {
  stage: LoadStage;
  message: string;
}

/** Bytes of a file arrived (`total` is 0 when the server compresses the file). */
export interface DownloadProgress {
  stage: "download";
  file: string;
  loaded: number;
  total: number;
}

export type LoadProgress = StageProgress | DownloadProgress;

export interface LoadOptions {
  /** Where nnpy's files are (the folder holding web/ and wheels/); default: beside nnpy.js. */
  baseURL?: string | URL;
  /** Where Pyodide is; default: the copy beside nnpy (pyodide/), else the official CDN for the
   *  pinned version (https://cdn.jsdelivr.net/pyodide/vVERSION/full/). */
  pyodideURL?: string | URL;
  /** The WebAssembly GEMM kernel's folder; false keeps every matrix product in NumPy. */
  kernelsURL?: string | URL | false;
  onProgress?: (progress: LoadProgress) => void;
  /** Restore Python from a snapshot a previous visit stored (default true). */
  snapshot?: boolean;
  /** "trimmed" (default): the NumPy nnpy needs; "full": all of Pyodide's NumPy. */
  numpy?: "trimmed" | "full";
  /** Model files to download while Python starts; loadModel(url) then takes them. */
  preload?: Array<string | URL>;
}

/** Options for `nnpy.shared()`: the first call's start the page's worker. */
export type SharedOptions = LoadOptions;

/** What the worker started (`nn.info`). */
export interface ClientInfo {
  pyodide: string;
  python: string;
  numpy: string;
  nnpy: string | null;
  /** The matrix-product engine. */
  gemm: "wasm-simd-relaxed" | "wasm-simd" | "numpy";
  /** How Python started: from scratch, or from a stored snapshot. */
  boot: "cold" | "snapshot";
  /** After a restore: the modules the snapshot held imported ("numpy", "nnpy.web"); else null. */
  snapshotHolds: string[] | null;
  numpyWheel: "trimmed" | "full";
  cacheStorage: boolean;
  /** Milestones of the start (wall-clock ms). */
  timings: Record<string, number>;
  pyodideURL: string;
}

/** The "crash" event of a Client: Python itself crashed or the worker died. */
export interface CrashEvent extends Event {
  readonly error: NnpyError;
}

export interface RequestOptions {
  onEvent?: (event: string, data: unknown) => void;
  signal?: AbortSignal;
}

/** A started nnpy: a worker running Python. Fires "crash" (once) when Python crashed; every
 *  pending and later call then rejects with a FatalError. */
export interface Client extends EventTarget {
  readonly info: ClientInfo;
  readonly baseURL: string;
  /** The error Python crashed with, or null. */
  readonly crashed: NnpyError | null;
  /** Run Python (nnpy and numpy imported as `nnpy`, `np`); resolves with the last expression's
   *  value: numbers, strings, lists, dicts, NumPy arrays (as NDArray) and models (as Model). */
  exec<T = unknown>(source: string): Promise<T>;
  /** A model from a URL (.safetensors, or a TF.js model.json), a File/Blob, bytes, or
   *  "indexeddb://NAME" (saved in this browser). */
  loadModel(source: string | URL | Blob | ArrayBuffer | ArrayBufferView): Promise<Model>;
  /** Names of the models saved in this browser (without "indexeddb://"). */
  savedModels(): Promise<string[]>;
  deleteModel(url: `indexeddb://${string}`): Promise<void>;
  /** An operation of nnpy.web.Session by name (what the elements use). */
  request<T = unknown>(op: string, args?: Record<string, unknown>, options?: RequestOptions): Promise<T>;
  terminate(): void;
  addEventListener(type: "crash", listener: (event: CrashEvent) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener(type: "crash", listener: (event: CrashEvent) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

// ---- models -------------------------------------------------------------------------------------

/** A training batch's log (at most about 30 a second reach `onBatch`). */
export interface BatchLogs {
  kind: "batch";
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  size: number;
  step: number;
  loss: number;
  accuracy?: number;
  [metric: string]: number | string | undefined;
}

/** An epoch's log (every one reaches `onEpoch`). */
export interface EpochLogs {
  kind: "epoch";
  epoch: number;
  epochs: number;
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  [metric: string]: number | string | undefined;
}

/** Per-epoch values, what `fit` resolves with. */
export interface History {
  loss: number[];
  accuracy?: number[];
  valLoss?: number[];
  valAccuracy?: number[];
  [metric: string]: number[] | undefined;
}

export interface FitOptions extends InputSpec {
  epochs?: number;
  batchSize?: number;
  validationSplit?: number;
  shuffle?: boolean;
  seed?: number;
  onBatch?: (logs: BatchLogs) => void;
  onEpoch?: (logs: EpochLogs) => void;
  /** Aborting cancels: fit rejects with an AbortError, the weights keep what they learnt. */
  signal?: AbortSignal;
}

export declare class Model {
  private constructor();
  readonly client: Client;
  readonly handle: number;
  /** Class names, or null. */
  readonly labels: string[] | null;
  /** How an image becomes the input, or null for a model of plain vectors. */
  readonly input: InputSpec | null;
  readonly inputShape: number[] | null;
  /** The model file's card: facts for people, e.g. {accuracy: "99.0% on ..."}. */
  readonly card: Record<string, string> | null;
  predict(images: readonly ImageSource[], options?: InputSpec): Promise<BatchPrediction>;
  predict(image: ImageSource, options?: InputSpec): Promise<Prediction>;
  predict(input: NumericInput, options?: InputSpec): Promise<Prediction | BatchPrediction>;
  /** Train in the worker; labels are class names (the model's labels), class numbers or targets. */
  fit(inputs: ImageSource | readonly ImageSource[] | NumericInput, labels: readonly string[] | NumericInput,
    options?: FitOptions): Promise<History>;
  /** The model as .safetensors bytes. */
  toBytes(): Promise<Uint8Array<ArrayBuffer>>;
  /** Save in this browser; a failed save keeps the previous one. */
  save(url: `indexeddb://${string}`): Promise<{ url: string; bytes: number }>;
  /** Offer the model as a download: a .safetensors file, or "tfjs" (model.json + weights.bin). */
  download(filename?: string): Promise<void>;
  /** The layer table, as text. */
  summary(): Promise<string>;
  /** Free the model in the worker. */
  dispose(): Promise<void>;
}

// ---- window.nnpy --------------------------------------------------------------------------------

export interface StorePlace {
  database?: string;
  store?: string;
}

export interface Nnpy {
  readonly version: string;
  readonly pyodideVersion: string;
  /** The URL nnpy.js was loaded from: every default URL is relative to it. */
  readonly scriptURL: string;
  /** Start a worker of its own and load Pyodide, NumPy and nnpy. */
  load(options?: LoadOptions): Promise<Client>;
  /** The page's one worker (started by the first call), which every element uses. */
  shared(options?: SharedOptions): Promise<Client>;
  readonly Model: typeof Model;
  /** A canvas (an OffscreenCanvas where there is one). */
  newCanvas(width: number, height: number): OffscreenCanvas | HTMLCanvasElement;
  /** `source` drawn at width x height (centre-cropped to that aspect ratio), read back as RGBA. */
  readImage(source: ImageSource, width: number, height: number, canvas?: OffscreenCanvas | HTMLCanvasElement): ImageData;
  /** One IndexedDB transaction on nnpy's store (or `place`). */
  withStore<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest<T>, place?: StorePlace): Promise<T>;
  /** Offer `bytes` as a file download. */
  downloadBytes(bytes: BlobPart, filename: string): void;
}

// ---- the custom elements ------------------------------------------------------------------------

/** A reading of <nnpy-sketchpad>: a Prediction plus the image the network got (28x28 for the
 *  digit model) and, with `wantsActivity`, each visible layer's output. */
export interface PadReading extends Prediction {
  input: NDArray<Uint8Array>;
  activity: Array<{ layer: number; values?: NDArray; peak?: number; logits?: NDArray; [key: string]: unknown }>;
}

/** The "prediction" event's detail: the reading (empty for an empty pad) and the drawing's version. */
export type PadPredictionDetail = Partial<PadReading> & { version: number };

export interface SketchpadEventMap extends HTMLElementEventMap {
  ready: CustomEvent<{ model: Model }>;
  prediction: CustomEvent<PadPredictionDetail>;
}

/** <nnpy-sketchpad model="URL" ink="colour" paper="colour">: a drawing pad a model reads live.
 *  Without `model`, the digit model that comes with nnpy. */
export interface NnpySketchpadElement extends HTMLElement {
  /** A client of its own (or a promise of one); default: nnpy.shared(). */
  client?: Client | Promise<Client>;
  /** Ask for each layer's activity with every reading (<nnpy-network for> sets it). */
  wantsActivity?: boolean;
  readonly modelURL: string;
  readonly model?: Model;
  readonly nn?: Client;
  readonly result?: PadReading | null;
  /** The current reading, after the newest stroke has been read. */
  reading(): Promise<PadReading | null>;
  addEventListener<K extends keyof SketchpadEventMap>(type: K, listener: (this: NnpySketchpadElement, event: SketchpadEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
}

/** The structure <nnpy-network> draws (the worker's "network_outline"). */
export interface NetworkOutline {
  columns: unknown[];
  labels: string[];
  [key: string]: unknown;
}

/** <nnpy-network for="ID of an nnpy-sketchpad">: the live network picture; without `for`, fed by
 *  setNetwork() and update(). */
export interface NnpyNetworkElement extends HTMLElement {
  setNetwork(network: NetworkOutline): void;
  update(prediction: PadPredictionDetail): void;
  readonly canvas: HTMLCanvasElement;
}

/** {median, p90} in ms over `count` measurements (NaN when there are none). */
export interface Spread {
  median: number;
  p90: number;
  count: number;
}

export interface TrainerStats {
  roundTripMs: Spread;
  pythonMs: Spread;
  classifiedPerSecond: number;
  displayFps: number;
}

/** The "prediction" event's detail: every live answer of a trainer element. */
export interface TrainerPredictionDetail {
  label: string;
  index: number;
  /** One per class. */
  probabilities: number[];
  /** <nnpy-sound-classifier> only: whether the answer reached the threshold the user set. */
  sure?: boolean;
}

/** The "trained" event's detail: a training run ended (finished or cancelled) with a network. */
export interface TrainerTrainedDetail {
  history: Partial<History>;
  /** Validation samples: rows are the true classes, columns what the network said. */
  confusion: number[][] | null;
  classNames: string[];
  /** Whether it was cancelled (it keeps its best weights so far). */
  stopped: boolean;
}

/** The "saved" event's detail: the project was saved in this browser. */
export interface TrainerSavedDetail {
  /** The project file's size. */
  bytes: number;
  /** When, in ms since 1970. */
  savedAt: number;
}

export interface TrainerEventMap extends HTMLElementEventMap {
  prediction: CustomEvent<TrainerPredictionDetail>;
  trained: CustomEvent<TrainerTrainedDetail>;
  saved: CustomEvent<TrainerSavedDetail>;
}

/** What the two trainer elements share. Attributes: project-name (the IndexedDB key the project
 *  autosaves under), permission-timeout (seconds to wait for the device prompt, default 10).
 *  Events: "prediction", "trained", "saved". */
export interface NnpyTrainerElement extends HTMLElement {
  /** A client (or a promise of one) to use instead of nnpy.shared(); reads back the one in use. */
  get nn(): Client | Promise<Client> | null;
  set nn(client: Client | Promise<Client> | null);
  /** Resolves once Python is started and the project restored (or started). */
  readonly ready: Promise<void>;
  /** Per-epoch training curves. */
  readonly history: Partial<History>;
  readonly projectName: string;
  stats(): TrainerStats;
  resetStats(): void;
  addEventListener<K extends keyof TrainerEventMap>(type: K, listener: (this: NnpyTrainerElement, event: TrainerEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof TrainerEventMap>(type: K, listener: (this: NnpyTrainerElement, event: TrainerEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

/** <nnpy-webcam-classifier project-name="webcam" permission-timeout="10" mode="pretrained"
 *  backbone="URL">: mode is how a new project learns ("pretrained", the default, on
 *  EfficientNet-Lite0's features, or "scratch"); backbone the URL of that network's file. */
export interface NnpyWebcamClassifierElement extends NnpyTrainerElement {
  /** How the current project learns. */
  readonly mode: "pretrained" | "scratch" | null;
}

/** A live answer of <nnpy-sound-classifier>. */
export interface SoundDecision {
  label: string;
  index: number;
  p: number;
  /** Whether p reached the threshold the user set. */
  sure: boolean;
  /** performance.now() of the answer and of its request. */
  at: number;
  sent: number;
  /** Samples heard by then. */
  heard: number;
}

/** <nnpy-sound-classifier project-name="sound" permission-timeout="10">. */
export interface NnpySoundClassifierElement extends NnpyTrainerElement {
  /** The latest live answers, oldest first. */
  readonly decisions: SoundDecision[];
  stats(): TrainerStats & { latencyMs: Spread };
}

declare global {
  // eslint-disable-next-line no-var
  var nnpy: Nnpy;
  interface HTMLElementTagNameMap {
    "nnpy-sketchpad": NnpySketchpadElement;
    "nnpy-network": NnpyNetworkElement;
    "nnpy-webcam-classifier": NnpyWebcamClassifierElement;
    "nnpy-sound-classifier": NnpySoundClassifierElement;
  }
}
