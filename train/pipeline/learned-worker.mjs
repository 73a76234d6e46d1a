// The learned ranking stage in a worker thread (learned-stage.ts): training is TypeScript run
// through tsx, and a worker does not inherit the parent's loader hooks, so it registers tsx first.
// It loads the TF.js backend and the ranker as soon as it starts, then waits for its one job.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { prepareLearnedJob, runLearnedJob } = await import('./learned-stage.ts');
const ready = prepareLearnedJob(workerData);
ready.catch(() => {});

parentPort.once('message', async (job) => {
  try {
    await ready;
    const { result, transfer } = await runLearnedJob(job, (line) => parentPort.postMessage({ log: line }));
    parentPort.postMessage({ result }, transfer);
  } catch (error) {
    parentPort.postMessage({
      error: error instanceof Error ? error.message : String(error),
      code: error && typeof error === 'object' && 'code' in error ? error.code : undefined,
    });
  }
});
