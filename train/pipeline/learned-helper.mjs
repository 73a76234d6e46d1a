// The learned stage's second thread (learned-stage.ts `runHelperJob`): it fits part of the
// carve's channels and makes their lists and validation scores. tsx is registered first, as in
// every training worker.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runHelperJob } = await import('./learned-stage.ts');
await runHelperJob(parentPort, workerData);
