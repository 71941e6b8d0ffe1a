// history.js — a training run's history as Keras keeps it: {loss: [...], accuracy: [...], ...},
// one value per epoch (or per batch), appended as the logs arrive from the worker.

/** Append `logs[key]` for every key to `history[key]` (null where a log lacks it, so all the
 *  series stay aligned by epoch). Returns `history`. */
export function appendToHistory(history, logs, keys = ["loss"]) {
  for (const key of keys) (history[key] ??= []).push(logs[key] ?? null);
  return history;
}
