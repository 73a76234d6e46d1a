/**
 * The learned ranking stage (train/models/ranker.ts) beside the rest of training: with more than
 * one training thread, `LearnedStageRunner` fits it in a worker thread while the main thread goes
 * on with the evaluation, the production fits and the report, and `reelrank train` awaits it only
 * when it writes the version. Same inputs, same seed, same result as fitting it in-process (the
 * carve's implicit ALS is exact on any thread count); `--threads 1` fits it in-process, in order.
 */
import { type MessagePort, Worker } from 'node:worker_threads';
import type { io } from '@tensorflow/tfjs-core';
import { ReelrankError } from '../../shared/errors.ts';
import type { DenseLayer } from '../../shared/serving/ranker.ts';
import type { SavableModel } from '../artifacts/writer.ts';
import type { Dataset } from '../data/dataset.ts';
import { Ials } from '../models/ials.ts';
import { createModel } from '../models/registry.ts';
import type {
  ContentEmbeddings,
  HelperLists,
  HelperScores,
  ItemItemOptions,
  LearnedHelper,
  LearnedRankingResult,
} from '../models/ranker.ts';
import type { Recommender } from '../models/types.ts';
import { configureThreads, trainingPool } from '../parallel/pool.ts';

export interface LearnedStageInput {
  dataset: Dataset;
  /** Rows the stage may learn from (never the evaluation holdout). */
  rows: Uint32Array;
  /** Content embeddings, or their promise (the channels' fits start without them). */
  content: ContentEmbeddings | null | Promise<ContentEmbeddings | null>;
  rankModel: string;
  seed: number;
  backend?: string;
  itemItem?: ItemItemOptions;
  /** The evaluation split's fitted rank model: the carve's fit continues from it. */
  warmFrom?: Recommender | null;
}

/** The fitted stage: the ranker's layers and scores, and its TF.js model as something to save. */
export type LearnedStage = Omit<LearnedRankingResult, 'model'> & {
  model: SavableModel;
  /** The TF.js backend it was fitted on (tfjs-wasm, ...). */
  backend: string;
};

/** What crosses to the worker: the inputs, with a warm-start model reduced to its factors. */
interface LearnedJob extends Omit<LearnedStageInput, 'warmFrom' | 'content'> {
  warm: { userFactors: Float32Array; itemFactors: Float32Array } | null;
  /** The content embeddings follow in a message of their own ({ content }). */
  content: null;
}

interface LearnedReply extends Omit<LearnedRankingResult, 'model'> {
  artifacts: io.ModelArtifacts;
  backend: string;
}

/** A model that saves the artifacts another thread captured. */
function savedModel(artifacts: io.ModelArtifacts): SavableModel {
  return {
    save: async (handler) => {
      if (!handler.save) throw new ReelrankError('bad_input', 'the IO handler has no save()');
      return handler.save(artifacts);
    },
  };
}

async function fitHere(
  input: LearnedStageInput,
  log: (line: string) => void,
  helper?: LearnedHelper,
): Promise<LearnedStage> {
  const { parseBackendChoice, selectBackend } = await import('../backend.ts');
  const selection = await selectBackend({ backend: parseBackendChoice(input.backend ?? 'auto') });
  const { fitLearnedRanking } = await import('../models/ranker.ts');
  const learned = await fitLearnedRanking({
    dataset: input.dataset,
    rows: input.rows,
    content: input.content,
    seed: input.seed,
    log,
    rankModel: input.rankModel,
    warmFrom: input.warmFrom ?? null,
    ...(input.itemItem ? { itemItem: input.itemItem } : {}),
    ...(helper ? { helper } : {}),
  });
  return { ...learned, backend: `tfjs-${selection.name}` };
}

/** What a worker is started with: it loads its backend and modules before the job arrives. */
interface WorkerSetup {
  backend: string | undefined;
  threads: number;
}

/** The second thread of the stage, started with the worker (it loads its modules meanwhile). */
let helperWorker: Worker | null = null;

/** The worker's side, at start: thread count, TF.js backend, the ranker's modules, the helper. */
export async function prepareLearnedJob(setup: WorkerSetup): Promise<void> {
  // Its two threads are the stage's share of the cores: the carve's fits run in them, one each.
  configureThreads(1);
  if (setup.threads > 1) {
    helperWorker = new Worker(new URL('./learned-helper.mjs', import.meta.url), {
      workerData: { threads: setup.threads },
    });
    helperWorker.unref();
  }
  const { parseBackendChoice, selectBackend } = await import('../backend.ts');
  await selectBackend({ backend: parseBackendChoice(setup.backend ?? 'auto') });
  await import('../models/ranker.ts');
}

type HelperMessage =
  | { kind: 'lists'; lists: HelperLists }
  | { kind: 'scores'; scores: HelperScores }
  | { kind: 'error'; error: string };

/** The learned stage's helper as `fitLearnedRanking` drives it: messages to and from its thread. */
function workerHelper(
  worker: Worker,
  job: LearnedJob,
  content: Promise<ContentEmbeddings | null>,
): LearnedHelper {
  const waiting = new Map<string, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  const arrived = new Map<string, unknown>();
  let failure: Error | null = null;
  const fail = (error: Error) => {
    failure = error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  worker.on('message', (message: HelperMessage) => {
    if (message.kind === 'error')
      return fail(new ReelrankError('numerical', `learned stage helper: ${message.error}`));
    const value = message.kind === 'lists' ? message.lists : message.scores;
    const w = waiting.get(message.kind);
    if (w) {
      waiting.delete(message.kind);
      w.resolve(value as never);
    } else arrived.set(message.kind, value);
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new ReelrankError('numerical', `learned stage helper exited (${code})`)));
  const next = <T>(kind: 'lists' | 'scores'): Promise<T> => {
    if (arrived.has(kind)) {
      const value = arrived.get(kind) as T;
      arrived.delete(kind);
      return Promise.resolve(value);
    }
    if (failure) return Promise.reject(failure);
    return new Promise<T>((resolve, reject) =>
      waiting.set(kind, { resolve: resolve as (v: never) => void, reject }),
    );
  };
  return {
    start: () => {
      worker.ref();
      worker.postMessage({ kind: 'job', job });
      void content.then((embeddings) => worker.postMessage({ kind: 'content', content: embeddings }));
    },
    lists: () => next<HelperLists>('lists'),
    scores: (layers: DenseLayer[]) => {
      worker.postMessage({ kind: 'layers', layers });
      return next<HelperScores>('scores');
    },
  };
}

/** The helper thread's side: one job, its lists, then its scores once the layers arrive. */
export async function runHelperJob(port: MessagePort, _setup: { threads: number }): Promise<void> {
  configureThreads(1);
  const { learnedHelperPart } = await import('../models/ranker.ts');
  let gotLayers: (layers: DenseLayer[]) => void = () => {};
  const layers = new Promise<DenseLayer[]>((resolve) => {
    gotLayers = resolve;
  });
  let gotContent: (content: ContentEmbeddings | null) => void = () => {};
  const content = new Promise<ContentEmbeddings | null>((resolve) => {
    gotContent = resolve;
  });
  port.on(
    'message',
    async (
      message:
        | { kind: 'job'; job: LearnedJob }
        | { kind: 'layers'; layers: DenseLayer[] }
        | { kind: 'content'; content: ContentEmbeddings | null },
    ) => {
      if (message.kind === 'layers') {
        gotLayers(message.layers);
        return;
      }
      if (message.kind === 'content') {
        gotContent(message.content);
        return;
      }
      try {
        const { warm, ...input } = message.job;
        await learnedHelperPart(
          { ...input, content, warmFrom: warmModel(warm, input.rankModel) },
          {
            sendLists: (lists) => port.postMessage({ kind: 'lists', lists }),
            layers,
            sendScores: (scores) => port.postMessage({ kind: 'scores', scores }),
          },
        );
      } catch (error) {
        port.postMessage({ kind: 'error', error: error instanceof Error ? error.message : String(error) });
      }
    },
  );
}

/** An implicit ALS holding `warm`'s factors, for the carve's fit to continue from. */
export function warmModel(warm: LearnedJob['warm'], rankModel: string): Recommender | null {
  if (!warm) return null;
  // The registry's model, so its settings (factors) are those of the fit it stands for.
  const ials = createModel(rankModel);
  if (!(ials instanceof Ials))
    throw new ReelrankError(
      'bad_option',
      `a warm start needs an implicit ALS rank model, got '${rankModel}'`,
    );
  ials.userFactors = warm.userFactors;
  ials.itemFactors = warm.itemFactors;
  return ials;
}

/** The worker's side: fit, then hand back the layers, the scores and the model's artifacts. */
export async function runLearnedJob(
  job: LearnedJob,
  content: Promise<ContentEmbeddings | null>,
  log: (line: string) => void,
): Promise<{ result: LearnedReply; transfer: ArrayBuffer[] }> {
  const { warm, ...input } = job;
  const helper = helperWorker ? workerHelper(helperWorker, job, content) : undefined;
  let fitted: LearnedStage;
  try {
    fitted = await fitHere({ ...input, content, warmFrom: warmModel(warm, input.rankModel) }, log, helper);
  } finally {
    await helperWorker?.terminate();
    helperWorker = null;
  }
  let artifacts: io.ModelArtifacts | null = null;
  await fitted.model.save({
    save: async (captured) => {
      artifacts = captured;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  if (artifacts === null) throw new ReelrankError('numerical', 'the ranker did not save its artifacts');
  const { model: _model, ...rest } = fitted;
  const weights = (artifacts as io.ModelArtifacts).weightData;
  return {
    result: { ...rest, artifacts },
    transfer: weights instanceof ArrayBuffer ? [weights] : [],
  };
}

/** A learned stage being fitted: `result` settles once, `cancel` stops a worker still running. */
export interface PendingLearnedStage {
  result: Promise<LearnedStage>;
  /** Fitted in worker threads beside the caller's work (else in-process). */
  inWorker: boolean;
  cancel(): Promise<void>;
}

/**
 * Where the learned stage runs: a worker thread when the training pool has more than one thread
 * (started at once, so it loads TF.js while training begins), else in-process, in order.
 */
export class LearnedStageRunner {
  private worker: Worker | null = null;
  private pending: PendingLearnedStage | null = null;
  private readonly backend: string | undefined;

  constructor(backend?: string) {
    this.backend = backend;
    const threads = trainingPool().threads;
    if (threads > 1) {
      const setup: WorkerSetup = { backend, threads };
      this.worker = new Worker(new URL('./learned-worker.mjs', import.meta.url), { workerData: setup });
      // Until it has a job, the worker does not keep the process alive.
      this.worker.unref();
    }
  }

  /** Fits the stage on `input` (its `backend` is the runner's); log lines reach `log` as they come. */
  start(input: Omit<LearnedStageInput, 'backend'>, log: (line: string) => void): PendingLearnedStage {
    if (this.pending) throw new ReelrankError('bad_option', 'the learned stage was started already');
    const full: LearnedStageInput = {
      ...input,
      ...(this.backend === undefined ? {} : { backend: this.backend }),
    };
    const warm = input.warmFrom;
    const warmFactors =
      warm instanceof Ials ? { userFactors: warm.userFactors, itemFactors: warm.itemFactors } : null;
    const worker = this.worker;
    if (worker === null || (warm && !warmFactors)) {
      void this.close();
      const result = fitHere(full, log);
      result.catch(() => {});
      this.pending = { result, inWorker: false, cancel: async () => {} };
      return this.pending;
    }
    worker.ref();
    let settled = false;
    const result = new Promise<LearnedStage>((resolve, reject) => {
      worker.on(
        'message',
        (message: { log?: string; result?: LearnedReply; error?: string; code?: string }) => {
          if (message.log !== undefined) {
            log(message.log);
            return;
          }
          settled = true;
          void this.close();
          if (message.result) {
            const { artifacts, ...rest } = message.result;
            resolve({ ...rest, model: savedModel(artifacts) });
          } else {
            reject(new ReelrankError(message.code ?? 'numerical', `learned ranking stage: ${message.error}`));
          }
        },
      );
      worker.on('error', (error) => {
        settled = true;
        reject(error);
      });
      worker.on('exit', (code) => {
        if (!settled)
          reject(new ReelrankError('numerical', `learned ranking stage: its worker exited (${code})`));
      });
    });
    result.catch(() => {});
    const { warmFrom: _warmFrom, content, ...rest } = full;
    const job: LearnedJob = { ...rest, content: null, warm: warmFactors };
    worker.postMessage({ job });
    void Promise.resolve(content).then(
      (embeddings) => worker.postMessage({ content: embeddings }),
      () => {},
    );
    this.pending = {
      result,
      inWorker: true,
      cancel: async () => {
        settled = true;
        await this.close();
      },
    };
    return this.pending;
  }

  /** True when the stage runs in its worker threads (more than one training thread). */
  get inWorker(): boolean {
    return this.worker !== null;
  }

  /** Stops the worker (unused, finished or abandoned). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }
}
