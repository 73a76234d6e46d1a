import { readPointer, verifyFileBytes } from '../../shared/artifacts/loader.ts';
import { type Manifest, type Pointer, validateManifest } from '../../shared/artifacts/manifest.ts';
import { decodeJson } from '../../shared/artifacts/codecs.ts';
import { swapPointer } from '../../shared/artifacts/conditional.ts';
import { MANIFEST_FILE, POINTER_KEY, versionKey } from '../../shared/artifacts/spec.ts';
import { isReelrankError, ReelrankError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';
import type { ObjectStore } from '../../shared/store.ts';
import { forEachLimit } from './limit.ts';
import { verifyVersion } from './verify.ts';

export type PublishEvent =
  | { phase: 'check'; path: string; index: number; total: number }
  | { phase: 'upload'; path: string; index: number; total: number; bytes: number }
  | { phase: 'verify'; path: string; index: number; total: number; ok: boolean }
  | { phase: 'pointer'; version: string; previous: string | null };

export interface PublishOptions {
  onProgress?: (event: PublishEvent) => void;
  /** Clock for publishedAt (tests pin it). */
  now?: () => Date;
  /** Files uploaded and re-read at the same time (default 4). */
  concurrency?: number;
  /**
   * Publish as a canary: the version serves `percent` % of people beside the live one (which stays
   * live); `reelrank promote` / `abort` end it. Needs a live version.
   */
  canary?: { percent: number; salt?: string };
}

export interface PublishResult {
  version: string;
  manifestSha256: string;
  pointer: Pointer;
  files: number;
  bytes: number;
  /** True when the pointer already named this exact version (nothing was uploaded). */
  alreadyLive: boolean;
  /** The pointer was unreadable (garbage) and was replaced: what was wrong with it; else null. */
  repairedPointer: string | null;
}

/**
 * Publish a finished version folder (`source`: a store whose keys are the version's file paths,
 * e.g. `new FsStore('artifacts/<version>')`) into `target`:
 *   1. check every local file against the local manifest (size + sha256);
 *   2. upload every file, then the manifest, under versions/<version>/;
 *   3. re-read every uploaded file and the manifest from the target and verify them;
 *   4. only then write current.json, naming the version and pinning its manifest's sha256;
 *   5. re-check that the version the pointer now names is still complete (a concurrent prune could
 *      have removed it); if not, put the previous pointer back and fail.
 * A failure anywhere before step 4 leaves the old pointer, so the old version stays live.
 */
export async function publishVersion(
  source: ObjectStore,
  target: ObjectStore,
  { onProgress, now = () => new Date(), concurrency = 4, canary }: PublishOptions = {},
): Promise<PublishResult> {
  if (canary) checkCanaryPercent(canary.percent);
  const manifestBytes = await source.get(MANIFEST_FILE);
  if (manifestBytes === null) {
    throw new ReelrankError(
      'artifact_missing',
      `${source.description} has no ${MANIFEST_FILE}: not a finished version folder.`,
    );
  }
  const manifest: Manifest = validateManifest(
    decodeJson(manifestBytes, `${source.description}/${MANIFEST_FILE}`),
    `${source.description}/${MANIFEST_FILE}`,
  );
  const manifestSha256 = await sha256Hex(manifestBytes);
  const { version, files } = manifest;
  const total = files.length;

  // 1. Local check: never upload a version that is already damaged.
  for (let i = 0; i < total; i++) {
    const entry = files[i]!;
    const bytes = await source.get(entry.path);
    if (bytes === null) {
      throw new ReelrankError(
        'artifact_missing',
        `File ${entry.path} of version ${version} is missing from ${source.description}.`,
      );
    }
    await verifyFileBytes(
      entry,
      bytes,
      `Local file ${entry.path} of version ${version} (${source.description})`,
    );
    onProgress?.({ phase: 'check', path: entry.path, index: i + 1, total });
  }

  let before: Pointer | null = null;
  try {
    before = await readPointer(target);
  } catch (error) {
    // An unreadable pointer does not stop a publish: step 4 replaces it (and says so).
    if (!isReelrankError(error) || error.code !== 'artifact_corrupt') throw error;
  }
  if (!canary && before?.version === version && before.manifestSha256 === manifestSha256 && !before.canary) {
    return {
      version,
      manifestSha256,
      pointer: before,
      files: total,
      bytes: 0,
      alreadyLive: true,
      repairedPointer: null,
    };
  }
  if (canary) canaryRefusal(before, version, target.description);
  // Versions are immutable: refuse to overwrite a different version that has the same id.
  const existing = await target.get(versionKey(version, MANIFEST_FILE));
  if (existing !== null && (await sha256Hex(existing)) !== manifestSha256) {
    throw new ReelrankError(
      'artifact_conflict',
      `Version ${version} already exists in ${target.description} with a different manifest; versions are immutable, write a new version id.`,
    );
  }

  // 2. Upload files (a few at a time: per-request latency dominates for small files), then the
  // manifest once every file is in.
  let uploaded = 0;
  let done = 0;
  await forEachLimit(files, concurrency, async (entry) => {
    const bytes = (await source.get(entry.path))!;
    await target.put(versionKey(version, entry.path), bytes);
    uploaded += bytes.length;
    done++;
    onProgress?.({ phase: 'upload', path: entry.path, index: done, total: total + 1, bytes: bytes.length });
  });
  await target.put(versionKey(version, MANIFEST_FILE), manifestBytes, { contentType: 'application/json' });
  uploaded += manifestBytes.length;
  onProgress?.({
    phase: 'upload',
    path: MANIFEST_FILE,
    index: total + 1,
    total: total + 1,
    bytes: manifestBytes.length,
  });

  // 3. Re-read and verify what the target now holds.
  const report = await verifyVersion(target, {
    version,
    expectedManifestSha256: manifestSha256,
    concurrency,
    onFile: (path, index, count, problem) =>
      onProgress?.({ phase: 'verify', path, index, total: count, ok: problem === null }),
  });
  if (report.problems.length > 0) {
    throw new ReelrankError(
      'artifact_corrupt',
      `Upload of version ${version} to ${target.description} did not verify; the pointer was not changed. ${report.problems.map((p) => p.message).join(' ')}`,
      { problems: report.problems },
    );
  }

  // 4. Pointer last, as a compare-and-swap where the store supports it: if another publisher or a
  // rollback moves the pointer between our read and our write, we re-read and recompute `previous`.
  let replaced: Pointer | null = null;
  let repairedPointer: string | null = null;
  const pointer = (await swapPointer(
    target,
    (current) => {
      replaced = current;
      if (canary) {
        canaryRefusal(current, version, target.description);
        const live = current!;
        return {
          ...live,
          canary: {
            version,
            manifestSha256,
            percent: canary.percent,
            salt: canary.salt ?? randomSalt(),
            startedAt: now().toISOString(),
          },
        };
      }
      const previous =
        current !== null && current.version !== version ? current.version : (current?.previous ?? null);
      // A plain publish makes this version live for everyone: any running canary ends.
      return { version, manifestSha256, publishedAt: now().toISOString(), previous };
    },
    {
      onUnreadable: (error) => {
        repairedPointer = error.message;
      },
    },
  ))!;
  onProgress?.({ phase: 'pointer', version, previous: pointer.previous });

  // 5. Re-check: the pointer must name a complete version (a concurrent prune could have removed
  // files since step 3). Sizes only (cheap); hashes were checked in 3. If files are gone, put the
  // replaced pointer back, unless someone else has moved the pointer already.
  const missing = await missingFiles(target, version, manifest);
  if (missing.length > 0) {
    const restore: Pointer | null = replaced;
    const namesIt = (p: Pointer | null) => p?.version === version || p?.canary?.version === version;
    if (restore !== null) {
      await swapPointer(target, (current) => (namesIt(current) ? restore : null));
    } else if ((await readPointer(target))?.version === version) {
      await target.delete(POINTER_KEY);
    }
    throw new ReelrankError(
      'artifact_missing',
      `Version ${version} lost files in ${target.description} while publishing (${missing.join(', ')}); the pointer was put back to ${restore === null ? 'none' : (restore as Pointer).version}.`,
    );
  }
  return {
    version,
    manifestSha256,
    pointer,
    files: total,
    bytes: uploaded,
    alreadyLive: false,
    repairedPointer,
  };
}

function checkCanaryPercent(percent: number): void {
  if (!Number.isFinite(percent) || percent <= 0 || percent >= 100) {
    throw new ReelrankError(
      'bad_input',
      `--canary takes a share of traffic in percent above 0 and below 100, got ${percent}.`,
    );
  }
}

/** Why a canary cannot start against `current` (throws), e.g. there is no live version. */
function canaryRefusal(current: Pointer | null, version: string, where: string): void {
  if (current === null) {
    throw new ReelrankError(
      'bad_input',
      `No live version in ${where} to run a canary beside: publish ${version} without --canary first.`,
    );
  }
  if (current.version === version) {
    throw new ReelrankError(
      'bad_input',
      `Version ${version} is already live in ${where}; a canary must be another version.`,
    );
  }
}

function randomSalt(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Files of a version that are absent or of the wrong size in a store (manifest included). */
export async function missingFiles(
  store: ObjectStore,
  version: string,
  manifest: Manifest,
): Promise<string[]> {
  const listed = new Map((await store.list(versionKey(version, ''))).map((o) => [o.key, o.size]));
  const missing = manifest.files
    .filter((f) => listed.get(versionKey(version, f.path)) !== f.bytes)
    .map((f) => f.path);
  if (!listed.has(versionKey(version, MANIFEST_FILE))) missing.push(MANIFEST_FILE);
  return missing;
}
