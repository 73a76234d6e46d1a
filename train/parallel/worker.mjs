// A worker of the training thread pool (pool.ts). Training is TypeScript run through tsx, and a
// worker thread does not inherit the parent's loader hooks, so it registers tsx itself before
// importing the task table.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runTask } = await import('./tasks.ts');

parentPort.on('message', ({ id, task, args }) => {
  try {
    parentPort.postMessage({ id, result: runTask(task, args) });
  } catch (error) {
    parentPort.postMessage({
      id,
      error: error instanceof Error ? `${task}: ${error.message}` : String(error),
    });
  }
});
