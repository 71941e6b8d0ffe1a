// status.js — the demo page's header: the loading progress of the page's one nnpy worker, then
// the versions it runs. Imported first, so it hears the worker's first progress event.

import nnpy from "../common/library.js";

const $ = (id) => document.getElementById(id);

const downloads = new Map(); // file -> {loaded, total}
function showProgress(p) {
  if (p.stage === "download") {
    downloads.set(p.file, { loaded: p.loaded, total: p.total || p.loaded });
    let loaded = 0, total = 0;
    for (const d of downloads.values()) { loaded += d.loaded; total += d.total; }
    $("status-bytes").textContent = `${(loaded / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`;
    $("status-progress").value = total ? loaded / total : 0;
  } else {
    $("status-text").textContent = p.message || p.stage;
  }
}

nnpy.shared({ onProgress: showProgress }).then((nn) => {
  const seconds = (performance.now() / 1000).toFixed(1);
  $("status").classList.add("ready");
  $("status-text").textContent = `Ready in ${seconds} s — Python ${nn.info.python}, NumPy ${nn.info.numpy}, running on this device`;
  $("versions").textContent = `nnpy ${nn.info.nnpy} · Pyodide ${nn.info.pyodide} · Python ${nn.info.python} · NumPy ${nn.info.numpy}`;
  $("embed-snippet").textContent = $("embed-snippet").textContent.replace("…/web/nnpy.js", nnpy.scriptURL);
}, (error) => {
  $("status").classList.add("failed");
  $("status-text").textContent = `Could not start Python: ${error.name}: ${error.message}`;
});
