import { type FileHandle, open } from 'node:fs/promises';
import { ReelrankError } from '../../shared/errors.ts';
import type { IssueLog } from './issues.ts';

/**
 * Ratings parsed straight from bytes into typed arrays: user ids are still the file's own ids
 * (remapped to dense indexes afterwards, in place), item indexes are already dense (looked up in
 * the catalog while parsing, which is also where a rating for an unknown movie is caught).
 * Columns may be views over a slightly larger buffer (growth slack); `length` is exact.
 */
export interface RawRatings {
  length: number;
  userId: Uint32Array;
  itemIndex: Uint32Array;
  rating: Float32Array;
  timestamp: Uint32Array;
}

export interface RatingsFileOptions {
  /** Path of the file, also used in issue messages. */
  path: string;
  /** Field separator: ',' (ratings.csv), '\t' (u.data), '::' (ratings.dat). */
  separator: ',' | '\t' | '::';
  /** Skip the first line (ratings.csv has `userId,movieId,rating,timestamp`). */
  header: boolean;
  /** Allowed rating range, inclusive. */
  scale: { min: number; max: number };
  /** movieId -> item index, -1 for ids not in the catalog. */
  movieIndexById: Int32Array;
  /** Name of the catalog file for "unknown movie" messages. */
  catalogFile: string;
  /** Called after each chunk with bytes read so far and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Read size; tests make it tiny to exercise rows straddling chunk boundaries. */
  chunkBytes?: number;
}

const FIELD_NAMES = ['userId', 'movieId', 'rating', 'timestamp'] as const;
const MAX_U32 = 4294967295;

/** Growable parallel columns: grows by 1.25x (not 2x) so slack stays small at 32M rows. */
class RatingColumns {
  length = 0;
  userId: Uint32Array;
  itemIndex: Uint32Array;
  rating: Float32Array;
  timestamp: Uint32Array;

  constructor(capacity: number) {
    this.userId = new Uint32Array(capacity);
    this.itemIndex = new Uint32Array(capacity);
    this.rating = new Float32Array(capacity);
    this.timestamp = new Uint32Array(capacity);
  }

  get capacity(): number {
    return this.userId.length;
  }

  grow(minCapacity: number): void {
    const capacity = Math.max(minCapacity, Math.ceil(this.capacity * 1.25) + 1024);
    const grown = (old: Uint32Array) => {
      const next = new Uint32Array(capacity);
      next.set(old.subarray(0, this.length));
      return next;
    };
    this.userId = grown(this.userId);
    this.itemIndex = grown(this.itemIndex);
    this.timestamp = grown(this.timestamp);
    const rating = new Float32Array(capacity);
    rating.set(this.rating.subarray(0, this.length));
    this.rating = rating;
  }
}

/** Mutable state carried across chunks by the line kernel. */
interface KernelState {
  /** Physical line number of the last completed line. */
  line: number;
  headerPending: boolean;
}

/** Why the kernel rejected a line (plain numbers: the hot loop compares them). */
const Reject = Object.freeze({
  None: 0,
  FieldCount: 1,
  NonNumeric: 2,
  NonInteger: 3,
  Range: 4,
  UnknownMovie: 5,
  TooLarge: 6,
});
type Reject = (typeof Reject)[keyof typeof Reject];

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/**
 * Fast path for one well-formed line `user<sep>movie<sep>rating<sep>timestamp\n` (CRLF or LF):
 * straight-line digit loops, integers kept small (SMI) until stored, the rating as integer part
 * plus scaled fraction. Appends the row and returns the index of the line's '\n'; returns -1 for
 * anything else (header, blank, malformed, unknown movie, out of range, cut by the chunk end),
 * which the slow path then parses again and reports.
 */
function parseWellFormedLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  sepByte: number,
  doubleSep: boolean,
  minRating: number,
  maxRating: number,
  movieIndexById: Int32Array,
  cols: RatingColumns,
): number {
  let i = start;
  let c = 0;
  // userId (at most 9 digits here so the value stays a small integer; longer ids take the slow path)
  let user = 0;
  for (; i < end; i++) {
    c = bytes[i]!;
    if (c < 48 || c > 57) break;
    user = user * 10 + (c - 48);
  }
  if (i === start || i - start > 9 || c !== sepByte || ++i >= end) return -1;
  if (doubleSep && (bytes[i] !== sepByte || ++i >= end)) return -1;
  let movie = 0;
  const movieStart = i;
  for (; i < end; i++) {
    c = bytes[i]!;
    if (c < 48 || c > 57) break;
    movie = movie * 10 + (c - 48);
  }
  if (i === movieStart || i - movieStart > 9 || c !== sepByte || ++i >= end) return -1;
  if (doubleSep && (bytes[i] !== sepByte || ++i >= end)) return -1;
  let whole = 0;
  const ratingStart = i;
  for (; i < end; i++) {
    c = bytes[i]!;
    if (c < 48 || c > 57) break;
    whole = whole * 10 + (c - 48);
  }
  if (i === ratingStart || i - ratingStart > 2 || i >= end) return -1;
  let rating = whole;
  if (c === 46) {
    i++;
    let frac = 0;
    const fracStart = i;
    for (; i < end; i++) {
      c = bytes[i]!;
      if (c < 48 || c > 57) break;
      frac = frac * 10 + (c - 48);
    }
    const fracDigits = i - fracStart;
    if (fracDigits === 0 || fracDigits > 6 || i >= end) return -1;
    rating = whole + frac / POW10[fracDigits]!;
  }
  if (c !== sepByte || ++i >= end) return -1;
  if (doubleSep && (bytes[i] !== sepByte || ++i >= end)) return -1;
  let timestamp = 0;
  const timeStart = i;
  for (; i < end; i++) {
    c = bytes[i]!;
    if (c < 48 || c > 57) break;
    timestamp = timestamp * 10 + (c - 48);
  }
  if (i === timeStart || i - timeStart > 10 || i >= end) return -1;
  if (c === 13) {
    i++;
    if (i >= end) return -1;
    c = bytes[i]!;
  }
  if (c !== 10 || timestamp > MAX_U32) return -1;
  if (rating < minRating || rating > maxRating || movie >= movieIndexById.length) return -1;
  const item = movieIndexById[movie]!;
  if (item < 0) return -1;
  const n = cols.length;
  if (n === cols.capacity) cols.grow(n + 1);
  cols.userId[n] = user;
  cols.itemIndex[n] = item;
  cols.rating[n] = rating;
  cols.timestamp[n] = timestamp;
  cols.length = n + 1;
  return i;
}

/**
 * The hot loop: parses complete lines of `bytes[0, end)` into `cols` without creating a string
 * or object per row. Numbers are accumulated digit by digit from the bytes. Returns the offset
 * of the first byte of an incomplete trailing line (to be carried into the next chunk), or `end`
 * when `isLast`. Bad rows are not reported here (that needs strings); their reason and text go
 * to `onReject`, which reports them.
 */
function parseRatingLines(
  bytes: Uint8Array,
  end: number,
  isLast: boolean,
  sepByte: number,
  doubleSep: boolean,
  minRating: number,
  maxRating: number,
  movieIndexById: Int32Array,
  cols: RatingColumns,
  state: KernelState,
  onReject: (reason: Reject, lineStart: number, lineEnd: number, field: number) => void,
): number {
  let lineStart = 0;
  let i = 0;
  while (lineStart < end) {
    // The header line always takes the slow path, which decides whether it is one.
    const fastEnd = state.headerPending
      ? -1
      : parseWellFormedLine(
          bytes,
          lineStart,
          end,
          sepByte,
          doubleSep,
          minRating,
          maxRating,
          movieIndexById,
          cols,
        );
    if (fastEnd >= 0) {
      state.line++;
      lineStart = fastEnd + 1;
      continue;
    }
    // Slow path (header, blank, malformed, or a line cut by the chunk end): one line, up to 4
    // fields, each parsed as digits with at most one '.', with the reason of any rejection.
    let field = 0;
    let intPart = 0;
    let fracPart = 0;
    let fracScale = 1;
    let digits = 0;
    let dot = false;
    let reason: Reject = Reject.None;
    let badField = 0;
    let v0 = 0;
    let v1 = 0;
    let v2 = 0;
    let v3 = 0;
    let lineEnd = -1;
    i = lineStart;
    for (; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 48 && c <= 57) {
        if (dot) {
          fracPart = fracPart * 10 + (c - 48);
          fracScale *= 10;
        } else {
          intPart = intPart * 10 + (c - 48);
        }
        digits++;
        continue;
      }
      const isSep = c === sepByte;
      if (isSep || c === 10) {
        if (isSep && doubleSep) {
          // '::' separator: the second ':' must follow (a lone ':' is a bad character).
          if (i + 1 >= end) break; // straddles the chunk end: retry the line with the next chunk
          if (bytes[i + 1] !== sepByte) {
            if (reason === Reject.None) {
              reason = Reject.NonNumeric;
              badField = field;
            }
            continue;
          }
          i++;
        }
        // Close the field.
        if (reason === Reject.None) {
          if (digits === 0) {
            reason = Reject.NonNumeric;
            badField = field;
          } else if (dot && field !== 2) {
            reason = Reject.NonInteger;
            badField = field;
          }
        }
        const value = dot ? intPart + fracPart / fracScale : intPart;
        if (field === 0) v0 = value;
        else if (field === 1) v1 = value;
        else if (field === 2) v2 = value;
        else if (field === 3) v3 = value;
        field++;
        intPart = 0;
        fracPart = 0;
        fracScale = 1;
        digits = 0;
        dot = false;
        if (c === 10) {
          lineEnd = i;
          break;
        }
        continue;
      }
      if (c === 46 && !dot) {
        dot = true;
        continue;
      }
      if (c === 13 && (i + 1 === end || bytes[i + 1] === 10)) {
        continue; // CR of a CRLF line end (or possibly: the LF is in the next chunk)
      }
      if (reason === Reject.None) {
        reason = Reject.NonNumeric;
        badField = field;
      }
    }
    if (lineEnd < 0) {
      if (!isLast) return lineStart; // incomplete line: carry it over
      // Last line without a newline: close its final field.
      if (i >= end && end > lineStart) {
        if (reason === Reject.None) {
          if (digits === 0) {
            reason = Reject.NonNumeric;
            badField = field;
          } else if (dot && field !== 2) {
            reason = Reject.NonInteger;
            badField = field;
          }
        }
        const value = dot ? intPart + fracPart / fracScale : intPart;
        if (field === 0) v0 = value;
        else if (field === 1) v1 = value;
        else if (field === 2) v2 = value;
        else if (field === 3) v3 = value;
        field++;
      }
      lineEnd = end;
    }
    state.line++;
    const nextLineStart = lineEnd + 1;
    if (state.headerPending) {
      state.headerPending = false;
      // Skip the header, but not a first line that is a complete numeric row (a headerless file).
      if (reason !== Reject.None || field !== 4) {
        lineStart = nextLineStart;
        continue;
      }
    }
    // A blank line (just "\n" or "\r\n") is not a row.
    const blank = lineEnd === lineStart || (lineEnd === lineStart + 1 && bytes[lineStart] === 13);
    if (!blank) {
      if (field !== 4) {
        reason = Reject.FieldCount;
      } else if (reason === Reject.None) {
        if (v0 > MAX_U32 || v1 > MAX_U32 || v3 > MAX_U32) {
          reason = Reject.TooLarge;
          badField = v0 > MAX_U32 ? 0 : v1 > MAX_U32 ? 1 : 3;
        } else if (v2 < minRating || v2 > maxRating) {
          reason = Reject.Range;
          badField = 2;
        } else if (v1 >= movieIndexById.length || movieIndexById[v1]! < 0) {
          reason = Reject.UnknownMovie;
          badField = 1;
        }
      }
      if (reason === Reject.None) {
        const n = cols.length;
        if (n === cols.capacity) cols.grow(n + 1);
        cols.userId[n] = v0;
        cols.itemIndex[n] = movieIndexById[v1]!;
        cols.rating[n] = v2;
        cols.timestamp[n] = v3;
        cols.length = n + 1;
      } else {
        onReject(reason, lineStart, lineEnd, reason === Reject.FieldCount ? field : badField);
      }
    }
    lineStart = nextLineStart;
  }
  return end;
}

/** Describe a rejected line for the report; only runs for bad rows, so strings are fine here. */
function describeReject(
  reason: Reject,
  text: string,
  fieldOrCount: number,
  options: RatingsFileOptions,
): string {
  const fields = text.replace(/\r$/, '').split(options.separator);
  const name = FIELD_NAMES[fieldOrCount] ?? `field ${fieldOrCount + 1}`;
  const value = JSON.stringify(fields[fieldOrCount] ?? '');
  switch (reason) {
    case Reject.FieldCount:
      return `expected 4 fields (userId, movieId, rating, timestamp) separated by ${JSON.stringify(options.separator)}, found ${fieldOrCount}`;
    case Reject.NonNumeric:
      return `${name} is not a number: ${value}`;
    case Reject.NonInteger:
      return `${name} must be a whole number, got ${value}`;
    case Reject.TooLarge:
      return `${name} ${value} is larger than ${MAX_U32}`;
    case Reject.Range:
      return `rating ${value} is outside the scale ${options.scale.min}..${options.scale.max}`;
    case Reject.UnknownMovie:
      return `rating for unknown movie ${value} (not in ${options.catalogFile})`;
    default:
      return 'malformed row';
  }
}

/**
 * A file with a header must name the expected columns in order (case aside): `movieId,userId,...`
 * would otherwise be read silently with users and movies swapped. A first line that is a numeric
 * row (a headerless file) passes; the kernel then keeps it as a rating.
 */
async function checkHeader(handle: FileHandle, options: RatingsFileOptions): Promise<void> {
  const probe = new Uint8Array(4096);
  const { bytesRead } = await handle.read(probe, 0, probe.length, 0);
  const text = new TextDecoder().decode(probe.subarray(0, bytesRead)).replace(/^\uFEFF/, '');
  const newline = text.indexOf('\n');
  const line = (newline < 0 ? text : text.slice(0, newline)).replace(/\r$/, '');
  if (line.trim() === '' || /^\s*\d/.test(line)) return;
  const names = line.split(options.separator).map((name) => name.trim().toLowerCase());
  const expected = FIELD_NAMES.map((name) => name.toLowerCase());
  if (names.length === expected.length && names.every((name, i) => name === expected[i])) return;
  throw new ReelrankError(
    'bad_input',
    `${options.path}:1: header '${line.length > 80 ? `${line.slice(0, 80)}...` : line}' is not '${FIELD_NAMES.join(options.separator)}'`,
    { file: options.path, line: 1 },
  );
}

/**
 * Stream a ratings file (ratings.csv, u.data, ratings.dat) into typed-array columns. Memory is
 * 16 bytes per rating plus at most ~25% growth slack (the initial capacity is estimated from the
 * file size and the first chunk's bytes per row, so usually a few percent).
 */
export async function readRatingsFile(options: RatingsFileOptions, issues: IssueLog): Promise<RawRatings> {
  const handle = await open(options.path, 'r');
  try {
    const { size: totalBytes } = await handle.stat();
    if (options.header) await checkHeader(handle, options);
    const skippedBefore = issues.skippedRows;
    const chunkBytes = options.chunkBytes ?? 4 << 20;
    // Small files (the split files of ml-100k) need no 4 MB buffer.
    let buffer = new Uint8Array(Math.max(64, Math.min(chunkBytes, totalBytes + 1)));
    const sepByte = options.separator.charCodeAt(0);
    const doubleSep = options.separator.length === 2;
    const state: KernelState = {
      line: 0,
      headerPending: options.header,
    };
    let cols: RatingColumns | null = null;
    let carried = 0;
    let bytesRead = 0;
    const decoder = new TextDecoder();
    for (;;) {
      if (carried === buffer.length) {
        // One line longer than the buffer: grow it (only malformed files get here).
        const bigger = new Uint8Array(buffer.length * 2);
        bigger.set(buffer);
        buffer = bigger;
      }
      const { bytesRead: n } = await handle.read(buffer, carried, buffer.length - carried, null);
      bytesRead += n;
      const end = carried + n;
      const isLast = n === 0;
      if (cols === null) {
        // Estimate rows from the first chunk's bytes per line, with 3% headroom.
        let lines = 0;
        for (let i = 0; i < end; i++) if (buffer[i] === 10) lines++;
        const bytesPerRow = lines > 0 ? end / lines : 20;
        cols = new RatingColumns(Math.ceil((totalBytes / bytesPerRow) * 1.03) + 1024);
      }
      const columns: RatingColumns = cols;
      const consumed = parseRatingLines(
        buffer,
        end,
        isLast,
        sepByte,
        doubleSep,
        options.scale.min,
        options.scale.max,
        options.movieIndexById,
        columns,
        state,
        (reason, lineStart, lineEnd, field) => {
          const text = decoder.decode(buffer.subarray(lineStart, lineEnd));
          issues.skip(options.path, state.line, describeReject(reason, text, field, options));
        },
      );
      options.onProgress?.(bytesRead, totalBytes);
      if (isLast) break;
      // Move the incomplete last line to the front; the next read appends after it.
      buffer.copyWithin(0, consumed, end);
      carried = end - consumed;
    }
    const columns = cols ?? new RatingColumns(0);
    const length = columns.length;
    if (length === 0) {
      // Training on nothing is never what was meant: one clear line instead of an empty model.
      const skipped = issues.skippedRows - skippedBefore;
      const first = issues.issues.find((issue) => issue.file === options.path);
      throw new ReelrankError(
        'bad_input',
        skipped > 0
          ? `no row of ${options.path} parses: all ${skipped} rows were malformed${first ? `, the first at line ${first.line}: ${first.message}` : ''}`
          : `${options.path} holds no ratings (${totalBytes === 0 ? 'the file is empty' : options.header ? 'only a header line' : 'only blank lines'})`,
        { file: options.path },
      );
    }
    return {
      length,
      userId: columns.userId.subarray(0, length),
      itemIndex: columns.itemIndex.subarray(0, length),
      rating: columns.rating.subarray(0, length),
      timestamp: columns.timestamp.subarray(0, length),
    };
  } finally {
    await handle.close();
  }
}

/**
 * Remap raw user ids (in place) to dense indexes in ascending id order. `extraUserIds` (e.g. all
 * of users.dat) are included even when they have no rating. Returns dense index -> user id.
 */
export function densifyUserIds(rawUserIds: Uint32Array, extraUserIds: readonly number[] = []): Uint32Array {
  let maxId = 0;
  for (let i = 0; i < rawUserIds.length; i++) if (rawUserIds[i]! > maxId) maxId = rawUserIds[i]!;
  for (const id of extraUserIds) if (id > maxId) maxId = id;
  if (maxId > 1 << 28) {
    throw new ReelrankError(
      'bad_input',
      `user id ${maxId} is too large: user ids up to ${1 << 28} are supported (dense lookup table)`,
    );
  }
  // Presence table over the id range, then running index in id order (ids are small integers in
  // every MovieLens release, so a table beats a Map by far and costs 4 bytes per possible id).
  const indexById = new Int32Array(maxId + 1).fill(-1);
  for (let i = 0; i < rawUserIds.length; i++) indexById[rawUserIds[i]!] = 0;
  for (const id of extraUserIds) indexById[id] = 0;
  let count = 0;
  for (let id = 0; id <= maxId; id++) if (indexById[id] === 0) indexById[id] = count++;
  const userIds = new Uint32Array(count);
  for (let id = 0; id <= maxId; id++) if (indexById[id]! >= 0) userIds[indexById[id]!] = id;
  remapInPlace(rawUserIds, indexById);
  return userIds;
}

/** column[i] = table[column[i]] — the in-place id -> dense index pass. */
function remapInPlace(column: Uint32Array, table: Int32Array): void {
  for (let i = 0; i < column.length; i++) column[i] = table[column[i]!]!;
}

/** Build the movieId -> item index table used by the ratings kernel. */
export function movieIndexTable(movieIds: readonly number[]): Int32Array {
  let maxId = 0;
  for (const id of movieIds) if (id > maxId) maxId = id;
  if (maxId > 1 << 28) {
    throw new ReelrankError(
      'bad_input',
      `movie id ${maxId} is too large: movie ids up to ${1 << 28} are supported (dense lookup table)`,
    );
  }
  const table = new Int32Array(maxId + 1).fill(-1);
  movieIds.forEach((id, index) => {
    table[id] = index;
  });
  return table;
}
