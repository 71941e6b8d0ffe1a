// status.js — the demo page's header: the loading progress of the page's one nnpy worker, then
// the versions it runs. Imported first, so it hears the worker's first progress event.

import nnpy from "../common/library.js";
import { loadingProgress } from "../common/loading.js";

const $ = (id) => document.getElementById(id);

// The bar follows the downloads, then turns indeterminate while Python starts (nothing measures
// that), with the stage and its seconds so far.
function showProgress({ text, seconds, fraction, loaded, total, ready }) {
  if (ready) return;
  $("status-text").textContent = `${text} · ${seconds.toFixed(1)} s`;
  // the files' own sizes: what arrives over the network is smaller (brotli or gzip), so say so
  $("status-bytes").textContent = total ? `${(loaded / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB unpacked` : "";
  if (fraction === null) $("status-progress").removeAttribute("value");
  else $("status-progress").value = fraction;
}

const progress = loadingProgress(showProgress);
nnpy.shared({ onProgress: progress }).finally(progress.stop).then((nn) => {
  const seconds = (performance.now() / 1000).toFixed(1);
  $("status").classList.add("ready");
  $("status-text").textContent = `Ready in ${seconds} s — Python ${nn.info.python}, NumPy ${nn.info.numpy}, running on this device`;
  $("versions").textContent = `nnpy ${nn.info.nnpy} · Pyodide ${nn.info.pyodide} · Python ${nn.info.python} · NumPy ${nn.info.numpy}`;
  $("embed-snippet").textContent = $("embed-snippet").textContent.replace("…/web/nnpy.js", nnpy.scriptURL);
}, (error) => {
  $("status").classList.add("failed");
  $("status-text").textContent = `Could not start Python: ${error.name}: ${error.message}`;
});
