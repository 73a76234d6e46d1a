import { readManifest, readPointer } from '../../shared/artifacts/loader.ts';
import { isValidVersionId, type Pointer } from '../../shared/artifacts/manifest.ts';
import { MANIFEST_FILE, VERSIONS_PREFIX, versionKey } from '../../shared/artifacts/spec.ts';
import { isReelrankError, ReelrankError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/store.ts';
import { swapPointer } from '../../shared/artifacts/conditional.ts';
import { verifyVersion } from './verify.ts';

export interface VersionInfo {
  version: string;
  /** The pointer names it. */
  live: boolean;
  /** The pointer's `previous` (what a rollback would most likely go back to). */
  previous: boolean;
  /** The pointer names it as the canary (candidate) version. */
  canary: boolean;
  /** Percent of people it serves now (live: 100 minus the canary's share; canary: its share; else 0). */
  share: number;
  /** Its manifest exists and validates (an upload in progress or a broken one has none). */
  complete: boolean;
  createdAt: string | null;
  /** Headline metrics from the manifest (whatever training recorded). */
  metrics: Record<string, unknown> | null;
  objects: number;
  bytes: number;
}

/**
 * Every version folder in a store, oldest first (version ids sort by creation time). An
 * unreadable pointer does not stop the listing: `pointerError` says why (repair it with rollback).
 */
export async function listVersions(
  store: ObjectStore,
): Promise<{ pointer: Pointer | null; pointerError: string | null; versions: VersionInfo[] }> {
  let pointer: Pointer | null = null;
  let pointerError: string | null = null;
  try {
    pointer = await readPointer(store);
  } catch (error) {
    if (!isReelrankError(error)) throw error;
    pointerError = error.message;
  }
  const groups = new Map<string, { objects: number; bytes: number; hasManifest: boolean }>();
  for (const object of await store.list(VERSIONS_PREFIX)) {
    const rest = object.key.slice(VERSIONS_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) continue;
    const version = rest.slice(0, slash);
    const group = groups.get(version) ?? { objects: 0, bytes: 0, hasManifest: false };
    group.objects++;
    group.bytes += object.size;
    if (rest.slice(slash + 1) === MANIFEST_FILE) group.hasManifest = true;
    groups.set(version, group);
  }
  const versions: VersionInfo[] = [];
  for (const version of [...groups.keys()].sort()) {
    const group = groups.get(version)!;
    let createdAt: string | null = null;
    let metrics: Record<string, unknown> | null = null;
    let complete = false;
    if (group.hasManifest) {
      try {
        const { manifest } = await readManifest(store, version);
        createdAt = manifest.createdAt;
        metrics = manifest.metrics;
        complete = true;
      } catch (error) {
        if (!isReelrankError(error)) throw error;
      }
    }
    versions.push({
      version,
      live: pointer?.version === version,
      previous: pointer?.previous === version,
      canary: pointer?.canary?.version === version,
      share:
        pointer?.version === version
          ? 100 - (pointer.canary?.percent ?? 0)
          : pointer?.canary?.version === version
            ? pointer.canary.percent
            : 0,
      complete,
      createdAt,
      metrics,
      objects: group.objects,
      bytes: group.bytes,
    });
  }
  return { pointer, pointerError, versions };
}

/**
 * Make `to` the live version again. The target is verified first (every file, sha256); the
 * pointer is rewritten only when it is intact, naming the version that was live as `previous`.
 * An unreadable pointer (garbage, not a write in progress) is replaced: `repairedPointer` says
 * what was wrong with it.
 */
export async function rollback(
  store: ObjectStore,
  to: string,
  { now = () => new Date() }: { now?: () => Date } = {},
): Promise<{ pointer: Pointer; from: string | null; repairedPointer: string | null }> {
  if (!isValidVersionId(to)) {
    throw new ReelrankError(
      'bad_input',
      `--to ${JSON.stringify(to)} is not a version id (letters, digits, '.', '_', '-', at most 128 characters, e.g. 2026-11-21T06-30-00Z-ab12cd34); list them with \`reelrank versions\`.`,
    );
  }
  const report = await verifyVersion(store, { version: to });
  if (report.problems.length > 0 || report.manifestSha256 === null) {
    const missingManifest = report.problems.some(
      (p) => p.path === MANIFEST_FILE && p.code === 'artifact_missing',
    );
    throw new ReelrankError(
      missingManifest ? 'artifact_missing' : 'artifact_corrupt',
      `Cannot roll back to ${to} in ${store.description}: ${report.problems.map((p) => p.message).join(' ')} The pointer was not changed.`,
      { problems: report.problems },
    );
  }
  let from: string | null = null;
  let repairedPointer: string | null = null;
  const manifestSha256 = report.manifestSha256;
  const pointer = (await swapPointer(
    store,
    (current) => {
      from = current?.version ?? null;
      return {
        version: to,
        manifestSha256,
        publishedAt: now().toISOString(),
        previous: current !== null && current.version !== to ? current.version : (current?.previous ?? null),
      };
    },
    {
      onUnreadable: (error) => {
        repairedPointer = error.message;
      },
    },
  ))!;
  return { pointer, from, repairedPointer };
}

export interface PruneResult {
  kept: string[];
  deleted: string[];
  deletedObjects: number;
  deletedBytes: number;
}

/**
 * Delete all but the newest `keep` versions. Never deletes the live version, the pointer's
 * `previous`, or the version just before the live one in time order, whatever `keep` says.
 */
export async function prune(
  store: ObjectStore,
  keep: number,
  { dryRun = false }: { dryRun?: boolean } = {},
): Promise<PruneResult> {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new ReelrankError('bad_input', `--keep must be a whole number >= 1, got ${keep}.`);
  }
  const { pointer, pointerError, versions } = await listVersions(store);
  if (pointerError !== null) {
    // Without the pointer the live version is unknown: deleting anything could delete it.
    throw new ReelrankError(
      'artifact_corrupt',
      `Cannot prune ${store.description}: the pointer is unreadable, so the live version is unknown (${pointerError}). Repair it first with \`reelrank rollback --to <version>\`.`,
    );
  }
  const ids = versions.map((v) => v.version);
  const protectedIds = new Set(ids.slice(-keep));
  if (pointer !== null) {
    protectedIds.add(pointer.version);
    if (pointer.previous !== null) protectedIds.add(pointer.previous);
    if (pointer.canary) protectedIds.add(pointer.canary.version);
    const liveIndex = ids.indexOf(pointer.version);
    if (liveIndex > 0) protectedIds.add(ids[liveIndex - 1]!);
  }
  const result: PruneResult = { kept: [], deleted: [], deletedObjects: 0, deletedBytes: 0 };
  for (const version of ids) {
    if (protectedIds.has(version)) {
      result.kept.push(version);
      continue;
    }
    // Manifest first: a half-deleted version is then visibly incomplete, never "complete but broken".
    const objects = await store.list(versionKey(version, ''));
    const ordered = [
      ...objects.filter((o) => o.key === versionKey(version, MANIFEST_FILE)),
      ...objects.filter((o) => o.key !== versionKey(version, MANIFEST_FILE)),
    ];
    for (const object of ordered) {
      if (!dryRun) await store.delete(object.key);
      result.deletedObjects++;
      result.deletedBytes += object.size;
    }
    result.deleted.push(version);
  }
  return result;
}
