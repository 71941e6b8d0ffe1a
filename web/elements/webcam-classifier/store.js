// store.js — where the webcam element keeps its project in this browser (the autosave): IndexedDB,
// as the bytes of the project's .safetensors file.

import nnpy from "../../common/library.js";

// nnpy.js's IndexedDB helper, in a database of our own so projects never mix with models
const PLACE = { database: "nnpy-webcam", store: "projects" };
const withStore = (mode, action) => nnpy.withStore(mode, action, PLACE);

/** {bytes: ArrayBuffer, savedAt: ms since 1970} saved under `name`, or undefined. */
export function loadSavedProject(name) {
  return withStore("readonly", (store) => store.get(name));
}

/** Keep `bytes` (a project file) under `name`; the previous copy stays if this fails. */
export function saveProject(name, bytes) {
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return withStore("readwrite", (store) => store.put({ bytes: copy, savedAt: Date.now() }, name));
}
