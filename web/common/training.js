// training.js — a training job in the worker driven step by step from the page, cancelled with an
// AbortSignal like `model.fit` (one cancellation scheme for every training loop).
//
//   const done = await runSteps({ step: () => nn.request("fit_step", { job }),
//                                 isDone: (logs) => logs.kind === "done",
//                                 stop: () => nn.request("fit_stop", { job }), signal, onStep });

/** Call `step()` until `isDone(result)`; `onStep(result)` sees every result. Between steps an
 *  aborted `signal` stops the job (`stop()`) and rejects with an AbortError whose `stopped` is what
 *  `stop()` returned; a failed step stops the job too. Resolves with the last step's result. */
export async function runSteps({ step, isDone, stop, signal, onStep = () => {} }) {
  let open = true;
  try {
    for (;;) {
      if (signal && signal.aborted) {
        open = false;
        const stopped = await stop();
        throw Object.assign(new Error("training was cancelled"), { name: "AbortError", stopped });
      }
      const result = await step();
      onStep(result);
      if (isDone(result)) {
        open = false;
        return result;
      }
    }
  } finally {
    if (open) await stop().catch(() => {});
  }
}
