import { type FactorRankingJob, factorRankingKernel } from '../eval/factor-ranking.ts';
import { fitLsa } from '../content/lsa.ts';
import { cgHalfStep, exactHalfStep } from '../models/ials.ts';
import {
  type SvdppBlockJob,
  type SvdppImplicitJob,
  svdppBlock,
  svdppImplicit,
} from '../models/svdpp-kernels.ts';
import { type NeighborRowsJob, neighborRows } from '../similar/neighbors.ts';

/**
 * Every kernel the training thread pool runs, by name. Jobs carry SharedArrayBuffer-backed typed
 * arrays (shared, not copied) and plain numbers; each writes only the rows its arguments name.
 */
export interface IalsHalfJob {
  offsets: Uint32Array;
  index: Uint32Array;
  confidence: Float32Array;
  regularization: Float64Array;
  fixed: Float32Array;
  solved: Float32Array;
  gram: Float64Array;
  k: number;
  steps: number;
  /** Exact Cholesky solves (the edge's fold-in kernel) instead of warm-started CG. */
  exact: boolean;
  from: number;
  to: number;
}

function ialsHalf(job: IalsHalfJob): number {
  const csr = { offsets: job.offsets, index: job.index, value: job.confidence, row: job.offsets };
  if (job.exact) {
    exactHalfStep(
      csr,
      job.confidence,
      job.regularization,
      job.fixed,
      job.solved,
      job.gram,
      job.k,
      job.from,
      job.to,
    );
  } else {
    const k = job.k;
    const scratch = {
      residual: new Float64Array(k),
      direction: new Float64Array(k),
      product: new Float64Array(k),
    };
    cgHalfStep(
      csr,
      job.confidence,
      job.regularization,
      job.fixed,
      job.solved,
      job.gram,
      k,
      job.steps,
      scratch,
      job.from,
      job.to,
    );
  }
  return 0;
}

const TASKS = {
  'ials.half': ialsHalf,
  'svdpp.block': (job: SvdppBlockJob) => svdppBlock(job),
  'svdpp.implicit': (job: SvdppImplicitJob) => svdppImplicit(job),
  'neighbors.rows': (job: NeighborRowsJob) => neighborRows(job),
  'rank.factors': (job: FactorRankingJob) => factorRankingKernel(job),
  /** LSA text embeddings of tokenised documents (train/content/lsa.ts). */
  'text.lsa': (job: { docs: string[][] }) => fitLsa(job.docs),
} as const;

export type TaskName = keyof typeof TASKS;
export type TaskArgs<N extends TaskName> = Parameters<(typeof TASKS)[N]>[0];
export type TaskResult<N extends TaskName> = ReturnType<(typeof TASKS)[N]>;

/** Run one job in this thread. */
export function runTask<N extends TaskName>(task: N, args: TaskArgs<N>): TaskResult<N> {
  const fn = TASKS[task] as (a: TaskArgs<N>) => TaskResult<N>;
  return fn(args);
}
