import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The repository root (for fixtures and the embedded data). */
export const REPO_ROOT = repoRoot;

/**
 * `../shared/data` beside the repository, or REELRANK_SHARED_DATA when set. Present on developer
 * machines and in CI; absent on a user's fresh clone.
 */
export const SHARED_DATA_DIR = process.env.REELRANK_SHARED_DATA ?? resolve(repoRoot, '../shared/data');
export const SHARED_MODELS_DIR = resolve(SHARED_DATA_DIR, '../models');

/** Path of a dataset folder under ../shared/data, e.g. sharedData('ml-100k'). */
export function sharedData(name: string): string {
  return join(SHARED_DATA_DIR, name);
}

/**
 * `describe` for tests that need ../shared/data/<name>. Without the data they are skipped with a
 * visible reason, except under CI (CI=true), where missing data is a failure, not a skip.
 */
export function describeWithData(names: string | string[], title: string, body: () => void): void {
  const wanted = Array.isArray(names) ? names : [names];
  const missing = wanted.filter((n) => !existsSync(sharedData(n)));
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const reason = `needs ${missing.map((n) => sharedData(n)).join(', ')} (not found)`;
  if (process.env.CI === 'true') {
    describe(title, () => {
      throw new Error(`${reason}: under CI the shared data must be present`);
    });
    return;
  }
  console.warn(`[skip] ${title}: ${reason}`);
  describe.skip(`${title} [skipped: ${reason}]`, body);
}
