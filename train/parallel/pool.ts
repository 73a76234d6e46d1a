import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ReelrankError } from '../../shared/errors.ts';
import type { TaskArgs, TaskName, TaskResult } from './tasks.ts';

/**
 * The one thread pool of training: `worker_threads` running the kernels of ./tasks.ts over
 * SharedArrayBuffer typed arrays (factors, CSR rows), so no job copies model state. Every model
 * that parallelises (iALS, SVD++, neighbour lists, evaluation) splits its work into jobs whose
 * writes never overlap and calls `pool.map`; results come back in job order, so a run is
 * reproducible for a given seed and thread count. With one thread the same task functions run
 * in-process (no worker is started).
 */
export class ThreadPool {
  readonly threads: number;
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private queue: (() => void)[] = [];
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(threads: number) {
    if (!Number.isInteger(threads) || threads < 1)
      throw new ReelrankError('bad_option', `threads must be an integer >= 1, got ${threads}`);
    this.threads = threads;
  }

  private start(): void {
    if (this.workers.length > 0 || this.threads === 1) return;
    const url = new URL('./worker.mjs', import.meta.url);
    for (let t = 0; t < this.threads; t++) {
      const worker = new Worker(url, { workerData: { nice: poolNice } });
      worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
        const job = this.pending.get(message.id);
        if (!job) return;
        this.pending.delete(message.id);
        this.release(worker);
        if (message.error !== undefined) job.reject(new ReelrankError('numerical', message.error));
        else job.resolve(message.result);
      });
      worker.on('error', (error) => {
        for (const job of this.pending.values()) job.reject(error);
        this.pending.clear();
      });
      // Idle workers do not keep the process alive; busy ones are ref'd while they work.
      worker.unref();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  private release(worker: Worker): void {
    worker.unref();
    this.idle.push(worker);
    this.queue.shift()?.();
  }

  private runOnWorker<N extends TaskName>(task: N, args: TaskArgs<N>): Promise<TaskResult<N>> {
    return new Promise((resolve, reject) => {
      const go = () => {
        const worker = this.idle.pop()!;
        const id = this.nextId++;
        this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.ref();
        worker.postMessage({ id, task, args });
      };
      if (this.idle.length > 0) go();
      else this.queue.push(go);
    });
  }

  /** Run `task` once per argument object; results in the order of `jobs`. */
  async map<N extends TaskName>(task: N, jobs: readonly TaskArgs<N>[]): Promise<TaskResult<N>[]> {
    if (this.threads === 1 || jobs.length === 1) {
      const { runTask } = await import('./tasks.ts');
      return jobs.map((args) => runTask(task, args));
    }
    this.start();
    return Promise.all(jobs.map((args) => this.runOnWorker(task, args)));
  }

  /**
   * Run one job on a worker (in-process with one thread): the calling thread stays free, and the
   * job runs at the pool's priority (`configurePoolPriority`).
   */
  async run<N extends TaskName>(task: N, args: TaskArgs<N>): Promise<TaskResult<N>> {
    if (this.threads === 1) {
      const { runTask } = await import('./tasks.ts');
      return runTask(task, args);
    }
    this.start();
    return this.runOnWorker(task, args);
  }

  /** Stop the workers (a later `map` starts them again). */
  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    this.idle = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

let configured: number | null = null;
/** Niceness the pool's threads take when they start (Linux: per thread; 0 = unchanged). */
let poolNice = 0;

/**
 * Lower the priority of the pool's threads started from now on (`nice`, 0-19; Linux only, where
 * a thread's nice value is its own): while the learned ranking stage runs in its own threads on
 * its critical path, the pool's work beside it yields the cores to it. The pool closes with the
 * command, so no other work keeps the lower priority.
 */
export function configurePoolPriority(nice: number): void {
  poolNice = nice;
}
let pool: ThreadPool | null = null;

/** Threads used when none is configured: every core the process may use. */
export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

/** Set the thread count of the training pool (`--threads N`); null = every core. */
export function configureThreads(threads: number | null): void {
  if (threads !== null && !(Number.isInteger(threads) && threads >= 1))
    throw new ReelrankError('bad_option', `--threads must be an integer >= 1, got ${threads}`);
  if ((threads ?? defaultThreads()) !== pool?.threads) {
    void pool?.close();
    pool = null;
  }
  configured = threads;
}

/** The training pool (created on first use with the configured thread count). */
export function trainingPool(): ThreadPool {
  pool ??= new ThreadPool(configured ?? defaultThreads());
  return pool;
}

/** Close the training pool's workers (the CLI calls this when a command ends). */
export async function closeTrainingPool(): Promise<void> {
  const p = pool;
  pool = null;
  await p?.close();
}

/** A typed array over shared memory with the contents of `source` (or zeros of `length`). */
export function sharedFloat32(source: ArrayLike<number> | number): Float32Array {
  const n = typeof source === 'number' ? source : source.length;
  const out = new Float32Array(new SharedArrayBuffer(n * 4));
  if (typeof source !== 'number') out.set(source);
  return out;
}

export function sharedFloat64(source: ArrayLike<number> | number): Float64Array {
  const n = typeof source === 'number' ? source : source.length;
  const out = new Float64Array(new SharedArrayBuffer(n * 8));
  if (typeof source !== 'number') out.set(source);
  return out;
}

export function sharedUint32(source: ArrayLike<number> | number): Uint32Array {
  const n = typeof source === 'number' ? source : source.length;
  const out = new Uint32Array(new SharedArrayBuffer(n * 4));
  if (typeof source !== 'number') out.set(source);
  return out;
}

/**
 * Split rows 0..offsets.length-1 into `parts` contiguous ranges of about equal cost, where a
 * row costs `rowCost` plus its entries (offsets[r+1] - offsets[r]).
 */
export function balancedRanges(offsets: Uint32Array, parts: number, rowCost = 1): [number, number][] {
  const rows = offsets.length - 1;
  const total = offsets[rows]! + rows * rowCost;
  const ranges: [number, number][] = [];
  let start = 0;
  for (let p = 1; p <= parts; p++) {
    const target = (total * p) / parts;
    let end = start;
    if (p === parts) end = rows;
    else while (end < rows && offsets[end + 1]! + (end + 1) * rowCost <= target) end++;
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}
