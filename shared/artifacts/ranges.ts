/**
 * Index ranges of a version's files: a file can match its sha256 and still hold an index no row
 * has (a neighbour 999999 in a 9,742-movie catalog, a seen list naming item 2^31), written by a
 * buggy exporter or by hand. Serving would read past its arrays (undefined -> NaN scores, or a
 * 500). The loader (serving) and `reelrank verify` (training side) run these checks, so such a
 * version is refused naming the file, the row and the value, like a hash mismatch.
 *
 * Counts come from the manifest: items = shape[0] of item_ids.u32, users = shape[0] of
 * user_ids.u32 (their byte sizes were checked against those shapes).
 */
import { ReelrankError } from '../errors.ts';
import { decodeCsr, decodeIds, decodeNeighbors } from './codecs.ts';
import type { Manifest, ManifestFile } from './manifest.ts';
import { ARTIFACT_FILES } from './spec.ts';

/** How many items and users a version has (null: the manifest does not list the id file). */
export interface IndexBounds {
  items: number | null;
  users: number | null;
}

/** A neighbour slot with no neighbour (shared/serving/model.ts NO_NEIGHBOR). */
const NO_NEIGHBOR = 0xffffffff;

const ITEM_NEIGHBOR_FILES: ReadonlySet<string> = new Set(
  (['neighborsContent', 'neighborsVisual', 'neighborsCollaborative', 'neighborsHybrid'] as const).map(
    (name) => ARTIFACT_FILES[name].path,
  ),
);
/** CSR lists with one row per user and item indexes as entries. */
const USER_ITEM_LISTS: ReadonlySet<string> = new Set([
  ARTIFACT_FILES.seen.path,
  ARTIFACT_FILES.userTopRated.path,
]);
/** CSR lists with one row per item and item indexes as entries (the sparse item-item channel). */
const ITEM_ITEM_LISTS: ReadonlySet<string> = new Set([ARTIFACT_FILES.itemItem.path]);
const ID_FILES: ReadonlySet<string> = new Set([ARTIFACT_FILES.itemIds.path, ARTIFACT_FILES.userIds.path]);

/** The item and user counts the manifest gives the id files. */
export function indexBounds(manifest: Manifest): IndexBounds {
  const count = (path: string) => {
    const entry = manifest.files.find((f) => f.path === path);
    return entry ? (entry.shape[0] ?? 0) : null;
  };
  return { items: count(ARTIFACT_FILES.itemIds.path), users: count(ARTIFACT_FILES.userIds.path) };
}

/** True for the files whose contents are indexes this module checks. */
export function hasIndexRanges(entry: ManifestFile): boolean {
  return (
    ITEM_NEIGHBOR_FILES.has(entry.path) ||
    USER_ITEM_LISTS.has(entry.path) ||
    ITEM_ITEM_LISTS.has(entry.path) ||
    ID_FILES.has(entry.path)
  );
}

function corrupt(where: string, message: string, file: string): ReelrankError {
  return new ReelrankError('artifact_corrupt', `${where} ${message}`, { file });
}

/**
 * Checks the indexes of one file (verified bytes): neighbour ids < items (or the empty slot) with
 * one row per item; CSR lists with one row per user (seen, top rated) or per item (item-item)
 * and entries < items; id lists without duplicates. Throws `artifact_corrupt` naming the file (`where`), the row and the value. Files
 * without indexes pass.
 */
export function checkIndexRanges(
  entry: ManifestFile,
  bytes: Uint8Array,
  bounds: IndexBounds,
  where: string,
): void {
  const { items, users } = bounds;
  if (ITEM_NEIGHBOR_FILES.has(entry.path)) {
    const [rows = 0, k = 0] = entry.shape;
    if (items !== null && rows !== items)
      throw corrupt(where, `has ${rows} neighbour rows, the version has ${items} items.`, entry.path);
    const { ids } = decodeNeighbors(bytes, rows, k, entry.dtype);
    const limit = items ?? rows;
    for (let n = 0; n < ids.length; n++) {
      const id = ids[n]!;
      if (id >= limit && id !== NO_NEIGHBOR)
        throw corrupt(
          where,
          `row ${Math.floor(n / Math.max(k, 1))} names neighbour ${id}, out of range: items are 0..${limit - 1}.`,
          entry.path,
        );
    }
    return;
  }
  if (USER_ITEM_LISTS.has(entry.path) || ITEM_ITEM_LISTS.has(entry.path)) {
    const [rows = 0, nnz = 0] = entry.shape;
    const perItem = ITEM_ITEM_LISTS.has(entry.path);
    const expected = perItem ? items : users;
    if (expected !== null && rows !== expected)
      throw corrupt(
        where,
        `has ${rows} rows, the version has ${expected} ${perItem ? 'items' : 'users'}.`,
        entry.path,
      );
    let csr: ReturnType<typeof decodeCsr>;
    try {
      csr = decodeCsr(bytes, rows, nnz);
    } catch (error) {
      if (error instanceof ReelrankError) throw corrupt(where, error.message, entry.path);
      throw error;
    }
    if (items === null) return;
    for (let r = 0; r < rows; r++) {
      for (let n = csr.offsets[r]!; n < csr.offsets[r + 1]!; n++) {
        const item = csr.indexes[n]!;
        if (item >= items)
          throw corrupt(
            where,
            `row ${r} names item ${item}, out of range: items are 0..${items - 1}.`,
            entry.path,
          );
      }
    }
    return;
  }
  if (ID_FILES.has(entry.path)) {
    const ids = decodeIds(bytes, entry.shape[0] ?? 0);
    const sorted = Uint32Array.from(ids).sort();
    for (let n = 1; n < sorted.length; n++) {
      if (sorted[n] === sorted[n - 1])
        throw corrupt(where, `lists id ${sorted[n]} twice: ids must be unique.`, entry.path);
    }
  }
}

/**
 * Checks every index file of a version through its verified-bytes reader (the loader's
 * `ArtifactVersion`, whose cache means no file is fetched twice). Throws `artifact_corrupt`.
 */
export async function checkVersionIndexRanges(version: {
  version: string;
  manifest: Manifest;
  bytes(path: string): Promise<Uint8Array>;
}): Promise<void> {
  const bounds = indexBounds(version.manifest);
  for (const entry of version.manifest.files) {
    if (!hasIndexRanges(entry)) continue;
    const where = `File ${entry.path} of version ${version.version}`;
    checkIndexRanges(entry, await version.bytes(entry.path), bounds, where);
  }
}
