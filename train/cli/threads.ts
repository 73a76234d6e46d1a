import { configureThreads, defaultThreads } from '../parallel/pool.ts';
import { CLIError } from './errors.ts';

/** The `--threads N` argument of the commands that train (train, start, evaluate, retrain). */
export const threadsArg = {
  type: 'string',
  description: `Worker threads for training and evaluation (default: every core, ${defaultThreads()} here). Results are reproducible for a given seed and thread count.`,
} as const;

/** Validate `--threads` and configure the training pool with it (undefined = every core). */
export function applyThreads(value: string | undefined): void {
  if (value === undefined) {
    configureThreads(null);
    return;
  }
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > 256)
    throw new CLIError(`--threads must be an integer from 1 to 256, got '${value}'`);
  configureThreads(threads);
}
