// training.js — a training job in the worker (nnpy.web's Job: fit, fine-tuning, a project's
// training) driven step by step from the page, cancelled with an AbortSignal like `model.fit`:
// one loop and one cancellation scheme for every training the page runs.
//
//   const done = await runJob(nn, job, { budgetMs: 50, signal, onStep });
//   // each step: {epochs: [epoch logs], batch: the last batch log, done, ...what the job gives}

/** Ask the worker for `job_step`s of `budgetMs` (0: one batch each) until the job is done;
 *  `onStep(step)` sees every step. Between steps an aborted `signal` stops the job (`job_stop`)
 *  and rejects with an AbortError whose `stopped` is what the job gave when stopped; a failed
 *  step stops the job too. Resolves with the last step, which holds what the job gives. */
export async function runJob(nn, job, { budgetMs = 0, signal, onStep = () => {} } = {}) {
  const stop = () => nn.request("job_stop", { job });
  let open = true;
  try {
    for (;;) {
      if (signal && signal.aborted) {
        open = false;
        const stopped = await stop();
        throw Object.assign(new Error("training was cancelled"), { name: "AbortError", stopped });
      }
      const step = await nn.request("job_step", { job, budget_ms: budgetMs });
      onStep(step);
      if (step.done) {
        open = false;
        return step;
      }
    }
  } finally {
    if (open) await stop().catch(() => {});
  }
}
