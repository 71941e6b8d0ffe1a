// webcam-store.js — where webcam projects are kept: IndexedDB in this browser (the autosave) and
// .safetensors files the user downloads. A project is stored as the bytes of its file.

const DB_NAME = "nnpy-webcam";
const STORE = "projects";

function openDB() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

// One transaction: it commits completely or the previous value stays.
async function withStore(mode, action) {
  const db = await openDB();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = action(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = transaction.onabort = () =>
        reject(transaction.error || new Error("the IndexedDB transaction was aborted"));
    });
  } finally {
    db.close();
  }
}

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
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
