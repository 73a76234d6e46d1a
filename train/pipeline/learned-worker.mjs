// The learned ranking stage in a worker thread (learned-stage.ts): training is TypeScript run
// through tsx, and a worker does not inherit the parent's loader hooks, so it registers tsx first.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runLearnedJob } = await import('./learned-stage.ts');

parentPort.once('message', async (job) => {
  try {
    const { result, transfer } = await runLearnedJob(job, (line) => parentPort.postMessage({ log: line }));
    parentPort.postMessage({ result }, transfer);
  } catch (error) {
    parentPort.postMessage({
      error: error instanceof Error ? error.message : String(error),
      code: error && typeof error === 'object' && 'code' in error ? error.code : undefined,
    });
  }
});
