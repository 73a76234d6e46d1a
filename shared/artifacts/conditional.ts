/**
 * Conditional writes (compare-and-swap) for the one object that is overwritten in place: the
 * pointer. A store that can write "only if the object still has etag E" (S3 If-Match, a lock
 * file on disk) lets publish and rollback move the pointer without losing a concurrent update:
 * the loser re-reads the pointer and recomputes `previous`. Stores without it fall back to
 * read-then-write, which is still safe for what matters most (the pointer only ever names a
 * fully uploaded and verified version) but can record a stale `previous` under a race.
 */
import { ReelrankError } from '../errors.ts';
import type { ObjectStore } from '../store.ts';
import { decodeJson, encodeJson } from './codecs.ts';
import { type Pointer, validatePointer } from './manifest.ts';
import { POINTER_KEY } from './spec.ts';

export interface VersionedObject {
  bytes: Uint8Array;
  /** Opaque version tag of exactly these bytes (S3 ETag, content hash, ...). */
  etag: string;
}

export interface ConditionalStore extends ObjectStore {
  /** The object and its etag, read in one request; null when absent. */
  getVersioned(key: string): Promise<VersionedObject | null>;
  /**
   * Write only when the object's current etag is `expectedEtag` (null: only when it does not
   * exist). Returns false, writing nothing, when the condition does not hold.
   */
  putIf(
    key: string,
    body: Uint8Array,
    expectedEtag: string | null,
    options?: { contentType?: string },
  ): Promise<boolean>;
}

/** True when the store supports conditional writes. */
export function supportsConditionalPut(store: ObjectStore): store is ConditionalStore {
  const candidate = store as Partial<ConditionalStore>;
  return typeof candidate.getVersioned === 'function' && typeof candidate.putIf === 'function';
}

function parsePointer(store: ObjectStore, bytes: Uint8Array): Pointer {
  const where = `${store.description}/${POINTER_KEY}`;
  return validatePointer(decodeJson(bytes, `Pointer ${where}`), where);
}

function delay(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}

/** Reads of the same unparsable bytes after which a pointer counts as unreadable, not torn. */
const SAME_BAD_READS = 3;
const GARBAGE_RECHECK_MS = 300;

function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  if (a === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Move the pointer: `next(current)` computes the new pointer from the one in the store (or
 * returns null to leave it alone). With a conditional store the write only lands if nobody moved
 * the pointer since it was read; otherwise it is re-read and `next` runs again.
 * An unparsable pointer is read again (a torn read of a pointer being rewritten). With
 * `onUnreadable`, a pointer that reads as the very same unparsable bytes several times is garbage,
 * not a torn read: `next` gets null, the garbage is replaced (conditionally on its etag), and
 * `onUnreadable` is told why, so rollback and publish can repair it and say so. Without it, an
 * unreadable pointer fails with its artifact_corrupt error.
 * Returns what was written (null when `next` declined).
 */
export async function swapPointer(
  store: ObjectStore,
  next: (current: Pointer | null) => Pointer | null,
  {
    attempts = 8,
    retryDelayMs = 25,
    onUnreadable,
  }: { attempts?: number; retryDelayMs?: number; onUnreadable?: (error: ReelrankError) => void } = {},
): Promise<Pointer | null> {
  const write = (pointer: Pointer) => encodeJson(pointer);
  let lastError: unknown = null;
  let badBytes: Uint8Array | null = null;
  let sameBadReads = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    // An unparsable read that may be garbage is re-read after a longer pause: the same bytes
    // SAME_BAD_READS times over >= 0.6 s is not a write in progress (a slow server included).
    if (attempt > 1)
      await delay(
        onUnreadable !== undefined && sameBadReads > 0 ? GARBAGE_RECHECK_MS : retryDelayMs * attempt,
      );
    let current: Pointer | null;
    let etag: string | null = null;
    let bytes: Uint8Array | null;
    if (supportsConditionalPut(store)) {
      const object = await store.getVersioned(POINTER_KEY);
      bytes = object?.bytes ?? null;
      etag = object?.etag ?? null;
    } else {
      bytes = await store.get(POINTER_KEY);
    }
    let unreadable: ReelrankError | null = null;
    try {
      current = bytes === null ? null : parsePointer(store, bytes);
    } catch (error) {
      if (!(error instanceof ReelrankError)) throw error;
      lastError = error;
      sameBadReads = sameBytes(badBytes, bytes!) ? sameBadReads + 1 : 1;
      badBytes = bytes;
      // A torn read of a pointer being rewritten (some S3-compatible servers): read again.
      if (onUnreadable === undefined || sameBadReads < SAME_BAD_READS) continue;
      unreadable = error;
      current = null;
    }
    const pointer = next(current);
    if (pointer === null) return null;
    if (!supportsConditionalPut(store)) {
      await store.put(POINTER_KEY, write(pointer), { contentType: 'application/json' });
      if (unreadable) onUnreadable?.(unreadable);
      return pointer;
    }
    if (await store.putIf(POINTER_KEY, write(pointer), etag, { contentType: 'application/json' })) {
      if (unreadable) onUnreadable?.(unreadable);
      return pointer;
    }
    lastError = null;
  }
  if (lastError instanceof ReelrankError && sameBadReads >= 2) throw lastError; // unreadable, not racing
  throw new ReelrankError(
    'artifact_conflict',
    `The pointer ${store.description}/${POINTER_KEY} kept changing under ${attempts} attempts to move it` +
      (lastError instanceof Error ? ` (last read: ${lastError.message})` : '') +
      '; another publisher or rollback is running. Try again.',
  );
}
