// loading.js — one honest reading of nnpy's start for any loading display. While files download
// it gives the fraction of their bytes (unpacked, of the sizes the manifest names); once they are
// in, Python is starting and nothing measures how far it has got, so the fraction is null (draw
// an indeterminate bar) and the stage and its seconds so far say what is happening.
//
//   const onProgress = loadingProgress(({ text, seconds, fraction }) => ...);
//   nnpy.shared({ onProgress });

const TICK_MS = 100; // how often the seconds move while a stage runs

/** An onProgress listener for nnpy.load / nnpy.shared that calls `show({text, seconds, fraction,
 *  loaded, total, ready})` on every event and every TICK_MS until the stage "ready" or its
 *  `stop()` (call it when the load settles: a failed one, or a worker that was already started,
 *  sends no "ready"). */
export function loadingProgress(show) {
  const downloads = new Map(); // file -> {loaded, total}
  let text = "Starting…";
  let since = performance.now();
  let ready = false;
  const render = () => {
    let loaded = 0, total = 0, unknown = false, downloading = false;
    for (const file of downloads.values()) {
      loaded += file.loaded;
      total += file.total;
      unknown ||= !file.total;
      downloading ||= !file.total || file.loaded < file.total;
    }
    const fraction = downloading && !unknown && total ? loaded / total : null;
    show({ text, seconds: (performance.now() - since) / 1000, fraction, loaded, total, ready });
  };
  const timer = setInterval(render, TICK_MS);
  const listener = (p) => {
    if (ready) return;
    if (p.stage === "download") {
      downloads.set(p.file, { loaded: p.loaded, total: p.total });
    } else {
      text = p.message || p.stage;
      since = performance.now();
      ready = p.stage === "ready";
      if (ready) clearInterval(timer);
    }
    render();
  };
  listener.stop = () => clearInterval(timer);
  return listener;
}
