// The learned ranking stage in a worker thread (learned-stage.ts): training is TypeScript run
// through tsx, and a worker does not inherit the parent's loader hooks, so it registers tsx first.
// It loads the TF.js backend and the ranker as soon as it starts, then waits for its one job
// ({ job }) and, in a message of its own, the content embeddings ({ content }).
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { prepareLearnedJob, runLearnedJob } = await import('./learned-stage.ts');
const ready = prepareLearnedJob(workerData);
ready.catch(() => {});

let gotContent = () => {};
const content = new Promise((resolve) => {
  gotContent = resolve;
});

parentPort.on('message', async (message) => {
  if ('content' in message) {
    gotContent(message.content);
    return;
  }
  try {
    await ready;
    const { result, transfer } = await runLearnedJob(message.job, content, (line) =>
      parentPort.postMessage({ log: line }),
    );
    parentPort.postMessage({ result }, transfer);
  } catch (error) {
    parentPort.postMessage({
      error: error instanceof Error ? error.message : String(error),
      code: error && typeof error === 'object' && 'code' in error ? error.code : undefined,
    });
  }
});
