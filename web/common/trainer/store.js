// store.js — where a trainer element keeps its project in this browser (the autosave): IndexedDB,
// as the bytes of the project's .safetensors file, in a database of the element's own (`place`,
// {database, store}) so projects never mix with models.

import nnpy from "../library.js";

/** {bytes: ArrayBuffer, savedAt: ms since 1970} saved under `name`, or undefined. */
export function loadSavedProject(place, name) {
  return nnpy.withStore("readonly", (store) => store.get(name), place);
}

/** Keep `bytes` (a project file) under `name`, saved at `savedAt` (ms since 1970); the previous
 *  copy stays if this fails. */
export function saveProject(place, name, bytes, savedAt = Date.now()) {
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return nnpy.withStore("readwrite", (store) => store.put({ bytes: copy, savedAt }, name), place);
}
