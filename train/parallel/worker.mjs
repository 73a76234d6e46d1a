// A worker of the training thread pool (pool.ts). Training is TypeScript run through tsx, and a
// worker thread does not inherit the parent's loader hooks, so it registers tsx itself before
// importing the task table.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

// A lower priority when asked (pool.ts configurePoolPriority): on Linux it is this thread's own.
if (workerData?.nice > 0 && process.platform === 'linux') {
  try {
    setPriority(0, workerData.nice);
  } catch {
    // Not allowed here: the pool runs at the normal priority.
  }
}

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
