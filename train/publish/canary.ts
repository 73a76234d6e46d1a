/**
 * Ending a canary: `promote` makes the candidate the live version for everyone, `abort` removes
 * it (everyone back on the live version). Only the pointer changes; both versions stay in the
 * store. The candidate is verified again before it is promoted.
 */
import { swapPointer } from '../../shared/artifacts/conditional.ts';
import { readPointer } from '../../shared/artifacts/loader.ts';
import type { Pointer } from '../../shared/artifacts/manifest.ts';
import { ReelrankError } from '../../shared/errors.ts';
import type { CanarySpec } from '../../shared/rollout.ts';
import type { ObjectStore } from '../../shared/store.ts';
import { verifyVersion } from './verify.ts';

export interface CanaryChange {
  pointer: Pointer;
  /** The canary that was ended. */
  canary: CanarySpec;
}

function noCanary(store: ObjectStore): never {
  throw new ReelrankError(
    'bad_input',
    `No canary is running in ${store.description} (current.json names no candidate); see \`reelrank versions\`.`,
  );
}

/** Make the running canary the live version for everyone (its files verified first). */
export async function promoteCanary(
  store: ObjectStore,
  { now = () => new Date() }: { now?: () => Date } = {},
): Promise<CanaryChange> {
  const before = await readPointer(store);
  const canary = before?.canary ?? noCanary(store);
  const report = await verifyVersion(store, {
    version: canary.version,
    expectedManifestSha256: canary.manifestSha256,
  });
  if (report.problems.length > 0) {
    throw new ReelrankError(
      'artifact_corrupt',
      `Cannot promote canary ${canary.version} in ${store.description}: ${report.problems.map((p) => p.message).join(' ')} The pointer was not changed; \`reelrank abort\` removes the canary.`,
      { problems: report.problems },
    );
  }
  let ended: CanarySpec | null = null;
  const pointer = await swapPointer(store, (current) => {
    if (!current?.canary || current.canary.version !== canary.version) return null;
    ended = current.canary;
    return {
      version: current.canary.version,
      manifestSha256: current.canary.manifestSha256,
      publishedAt: now().toISOString(),
      previous: current.version,
    };
  });
  if (pointer === null || ended === null) {
    throw new ReelrankError(
      'artifact_conflict',
      `The canary in ${store.description} changed while promoting ${canary.version}; nothing was changed. Check \`reelrank versions\`.`,
    );
  }
  return { pointer, canary: ended };
}

/** Remove the running canary: the live version serves everyone again. */
export async function abortCanary(store: ObjectStore): Promise<CanaryChange> {
  let ended: CanarySpec | null = null;
  const pointer = await swapPointer(store, (current) => {
    if (!current?.canary) return null;
    ended = current.canary;
    const { canary: _ended, ...rest } = current;
    return rest;
  });
  if (pointer === null || ended === null) noCanary(store);
  return { pointer, canary: ended };
}
