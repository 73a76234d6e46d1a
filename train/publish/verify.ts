import {
  type FileProblem,
  readManifest,
  readPointer,
  verifyFileBytes,
} from '../../shared/artifacts/loader.ts';
import { decodeJson } from '../../shared/artifacts/codecs.ts';
import { type Manifest, validateManifest } from '../../shared/artifacts/manifest.ts';
import { checkIndexRanges, hasIndexRanges, indexBounds } from '../../shared/artifacts/ranges.ts';
import { MANIFEST_FILE, POINTER_KEY, versionKey } from '../../shared/artifacts/spec.ts';
import { isReelrankError, ReelrankError } from '../../shared/errors.ts';
import { sha256Hex } from '../../shared/hash.ts';
import { forEachLimit } from './limit.ts';
import type { ObjectStore } from '../../shared/store.ts';

export interface VerifyReport {
  version: string;
  /** The manifest, when it could be read and validated. */
  manifest: Manifest | null;
  manifestSha256: string | null;
  /** One entry per bad file (the manifest itself included); empty = the version is intact. */
  problems: FileProblem[];
  checkedFiles: number;
  checkedBytes: number;
}

export interface VerifyOptions {
  /** Verify this version; default the live one (the pointer's), whose manifest must match the pointer. */
  version?: string;
  /** The manifest must hash to this (publish passes its local manifest's hash). */
  expectedManifestSha256?: string;
  onFile?: (path: string, index: number, total: number, problem: FileProblem | null) => void;
  /** Files read at the same time (default 1: memory stays at the largest file). */
  concurrency?: number;
}

function problemOf(path: string, error: unknown): FileProblem {
  if (isReelrankError(error)) return { path, code: error.code, message: error.message };
  throw error;
}

/**
 * Re-read every file of a version from the store and check byte size and sha256 against its
 * manifest, one file at a time (memory stays at the largest file). Never throws for a bad file:
 * every problem is returned, each naming the file and what differs.
 */
export async function verifyVersion(store: ObjectStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  let version = options.version;
  let expected = options.expectedManifestSha256;
  if (version === undefined) {
    const pointer = await readPointer(store);
    if (pointer === null) {
      throw new ReelrankError(
        'artifact_missing',
        `Nothing is published in ${store.description}: no ${POINTER_KEY}.`,
      );
    }
    version = pointer.version;
    expected ??= pointer.manifestSha256;
  }
  const report: VerifyReport = {
    version,
    manifest: null,
    manifestSha256: null,
    problems: [],
    checkedFiles: 0,
    checkedBytes: 0,
  };
  try {
    const { manifest, sha256, bytes } = await readManifest(store, version, expected);
    report.manifest = manifest;
    report.manifestSha256 = sha256;
    report.checkedBytes += bytes.length;
  } catch (error) {
    report.problems.push(problemOf(MANIFEST_FILE, error));
    return report;
  }
  const files = report.manifest.files;
  const bounds = indexBounds(report.manifest);
  const problems = new Map<string, FileProblem>();
  await forEachLimit(files, options.concurrency ?? 1, async (entry) => {
    const key = versionKey(version, entry.path);
    const where = `File ${entry.path} of version ${version} (${store.description}/${key})`;
    let problem: FileProblem | null = null;
    try {
      const bytes = await store.get(key);
      if (bytes === null) throw new ReelrankError('artifact_missing', `${where} does not exist.`);
      await verifyFileBytes(entry, bytes, where);
      if (hasIndexRanges(entry)) checkIndexRanges(entry, bytes, bounds, where);
      report.checkedBytes += bytes.length;
    } catch (error) {
      problem = problemOf(entry.path, error);
      problems.set(entry.path, problem);
    }
    report.checkedFiles++;
    options.onFile?.(entry.path, report.checkedFiles, files.length, problem);
  });
  // Report problems in manifest order, whatever order the reads finished in.
  for (const entry of files) {
    const problem = problems.get(entry.path);
    if (problem !== undefined) report.problems.push(problem);
  }
  return report;
}

/**
 * Verify a finished version folder before it is published (e.g. `artifacts/<version>`, keys are
 * the manifest's paths, manifest.json at the root): the same checks as `verifyVersion`.
 */
export async function verifyVersionFolder(
  folder: ObjectStore,
  onFile?: VerifyOptions['onFile'],
): Promise<VerifyReport> {
  const report: VerifyReport = {
    version: '',
    manifest: null,
    manifestSha256: null,
    problems: [],
    checkedFiles: 0,
    checkedBytes: 0,
  };
  const where = `${folder.description}/${MANIFEST_FILE}`;
  try {
    const bytes = await folder.get(MANIFEST_FILE);
    if (bytes === null)
      throw new ReelrankError('artifact_missing', `${where} does not exist: not a version folder.`);
    report.manifest = validateManifest(decodeJson(bytes, where), where);
    report.manifestSha256 = await sha256Hex(bytes);
    report.version = report.manifest.version;
    report.checkedBytes += bytes.length;
  } catch (error) {
    report.problems.push(problemOf(MANIFEST_FILE, error));
    return report;
  }
  const files = report.manifest.files;
  for (let i = 0; i < files.length; i++) {
    const entry = files[i]!;
    const at = `File ${entry.path} of version ${report.version} (${folder.description}/${entry.path})`;
    let problem: FileProblem | null = null;
    try {
      const bytes = await folder.get(entry.path);
      if (bytes === null) throw new ReelrankError('artifact_missing', `${at} does not exist.`);
      await verifyFileBytes(entry, bytes, at);
      if (hasIndexRanges(entry)) checkIndexRanges(entry, bytes, indexBounds(report.manifest), at);
      report.checkedBytes += bytes.length;
    } catch (error) {
      problem = problemOf(entry.path, error);
      report.problems.push(problem);
    }
    report.checkedFiles++;
    onFile?.(entry.path, i + 1, files.length, problem);
  }
  return report;
}
