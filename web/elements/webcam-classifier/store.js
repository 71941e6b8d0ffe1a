// webcam-store.js — where webcam projects are kept: IndexedDB in this browser (the autosave) and
// .safetensors files the user downloads. A project is stored as the bytes of its file.

// nnpy.js's IndexedDB helper, in a database of our own so projects never mix with models
const PLACE = { database: "nnpy-webcam", store: "projects" };
const withStore = (mode, action) => globalThis.nnpy.withStore(mode, action, PLACE);

/** {bytes: ArrayBuffer, savedAt: ms since 1970} saved under `name`, or undefined. */
export function loadSavedProject(name) {
  return withStore("readonly", (store) => store.get(name));
}

/** Keep `bytes` (a project file) under `name`; the previous copy stays if this fails. */
export function saveProject(name, bytes) {
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return withStore("readwrite", (store) => store.put({ bytes: copy, savedAt: Date.now() }, name));
}

/** Offer `bytes` to the user as a file download. */
export function downloadBytes(bytes, filename) {
  globalThis.nnpy.downloadBytes(bytes, filename);
}
