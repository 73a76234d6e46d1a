/**
 * The learned ranking stage (train/models/ranker.ts) beside the rest of training: with more than
 * one training thread, `startLearnedRanking` fits it in a worker thread while the main thread goes
 * on with the evaluation, the production fits and the report, and `reelrank train` awaits it only
 * when it writes the version. Same inputs, same seed, same result as fitting it in-process (the
 * carve's implicit ALS is exact on any thread count); `--threads 1` fits it in-process, in order.
 */
import { Worker } from 'node:worker_threads';
import type { io } from '@tensorflow/tfjs-core';
import { ReelrankError } from '../../shared/errors.ts';
import type { DenseLayer } from '../../shared/serving/ranker.ts';
import type { SavableModel } from '../artifacts/writer.ts';
import type { Dataset } from '../data/dataset.ts';
import { Ials } from '../models/ials.ts';
import type { ItemItemOptions, LearnedRankingResult } from '../models/ranker.ts';
import type { Recommender } from '../models/types.ts';
import { configureThreads, trainingPool } from '../parallel/pool.ts';

export interface LearnedStageInput {
  dataset: Dataset;
  /** Rows the stage may learn from (never the evaluation holdout). */
  rows: Uint32Array;
  content: { data: Float32Array; dim: number } | null;
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
interface LearnedJob extends Omit<LearnedStageInput, 'warmFrom'> {
  warm: { userFactors: Float32Array; itemFactors: Float32Array } | null;
  threads: number;
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

async function fitHere(input: LearnedStageInput, log: (line: string) => void): Promise<LearnedStage> {
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
  });
  return { ...learned, backend: `tfjs-${selection.name}` };
}

/** The worker's side: fit, then hand back the layers, the scores and the model's artifacts. */
export async function runLearnedJob(
  job: LearnedJob,
  log: (line: string) => void,
): Promise<{ result: LearnedReply; transfer: ArrayBuffer[] }> {
  configureThreads(job.threads);
  let warmFrom: Recommender | null = null;
  if (job.warm) {
    const ials = new Ials();
    ials.userFactors = job.warm.userFactors;
    ials.itemFactors = job.warm.itemFactors;
    warmFrom = ials;
  }
  const { warm: _warm, threads: _threads, ...input } = job;
  const fitted = await fitHere({ ...input, warmFrom }, log);
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

/** A learned stage being fitted: `result` resolves once, `cancel` stops a worker still running. */
export interface PendingLearnedStage {
  result: Promise<LearnedStage>;
  cancel(): Promise<void>;
}

/**
 * Starts the learned stage: in a worker thread when the training pool has more than one thread,
 * else in-process (the returned promise then settles before the caller goes on). Log lines of
 * the worker reach `log` as they come.
 */
export function startLearnedRanking(
  input: LearnedStageInput,
  log: (line: string) => void,
): PendingLearnedStage {
  const threads = trainingPool().threads;
  const warm = input.warmFrom;
  const warmFactors =
    warm instanceof Ials ? { userFactors: warm.userFactors, itemFactors: warm.itemFactors } : null;
  if (threads === 1 || (warm && !warmFactors)) {
    const result = fitHere(input, log);
    result.catch(() => {});
    return { result, cancel: async () => {} };
  }
  const worker = new Worker(new URL('./learned-worker.mjs', import.meta.url));
  let settled = false;
  const result = new Promise<LearnedStage>((resolve, reject) => {
    worker.on('message', (message: { log?: string; result?: LearnedReply; error?: string; code?: string }) => {
      if (message.log !== undefined) {
        log(message.log);
        return;
      }
      settled = true;
      void worker.terminate();
      if (message.result) {
        const { artifacts, ...rest } = message.result;
        resolve({ ...rest, model: savedModel(artifacts) });
      } else {
        reject(new ReelrankError(message.code ?? 'numerical', `learned ranking stage: ${message.error}`));
      }
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new ReelrankError('numerical', `learned ranking stage: its worker exited (${code})`));
    });
  });
  result.catch(() => {});
  const { warmFrom: _warmFrom, ...rest } = input;
  const job: LearnedJob = { ...rest, warm: warmFactors, threads };
  worker.postMessage(job);
  return {
    result,
    cancel: async () => {
      if (!settled) {
        settled = true;
        await worker.terminate();
      }
    },
  };
}
