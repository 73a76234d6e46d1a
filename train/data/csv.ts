import { open } from 'node:fs/promises';
import { ReelrankError } from '../../shared/errors.ts';

/** Receives one CSV record: its fields and the 1-based physical line on which it starts. */
export type CsvRecordHandler = (fields: string[], line: number) => void;

const QUOTE = 34; // "
const COMMA = 44; // ,
const LF = 10;
const CR = 13;

/**
 * Streaming RFC-4180 parser: quoted fields may hold commas, doubled quotes (`""`) and newlines;
 * records end with CRLF or LF. A lone `\r` that is not followed by `\n` is kept as field content,
 * because tmdb_5000_movies.csv has three such stray carriage returns inside unquoted fields and
 * treating them as line breaks would split those records. Text arrives in arbitrary chunks (a
 * quote, a CR or a record may straddle two chunks); call `end()` after the last one.
 *
 * @example
 * const p = new CsvParser((fields, line) => rows.push(fields)); p.push('a,"b,c"\r\n'); p.end();
 */
export class CsvParser {
  private readonly onRecord: CsvRecordHandler;
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  /** Just saw a quote inside a quoted field: either a doubled quote or the closing one. */
  private quotePending = false;
  /** Just saw `\r` outside quotes: a line break if `\n` follows, content otherwise. */
  private crPending = false;
  private fieldStarted = false;
  private line = 1;
  private recordLine = 1;

  constructor(onRecord: CsvRecordHandler) {
    this.onRecord = onRecord;
  }

  /** Feed the next chunk of text. */
  push(text: string): void {
    let segmentStart = 0;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (this.crPending) {
        this.crPending = false;
        if (c === LF) {
          // The CR ended the previous chunk and was appended as content: it was a line break.
          if (this.field.endsWith('\r')) this.field = this.field.slice(0, -1);
          segmentStart = i + 1;
          this.line++;
          this.endRecord();
          continue;
        }
        // Stray carriage return: keep it as content (it is already part of the pending segment).
      }
      if (this.inQuotes) {
        if (this.quotePending) {
          this.quotePending = false;
          if (c === QUOTE) {
            // Doubled quote: keep one, by starting the next segment at the second quote.
            segmentStart = i;
            continue;
          }
          this.inQuotes = false;
          // Fall through: c is the character after the closing quote.
        } else {
          if (c === QUOTE) {
            this.field += text.slice(segmentStart, i);
            segmentStart = i + 1;
            this.quotePending = true;
          } else if (c === LF) {
            this.line++;
          }
          continue;
        }
      }
      if (c === COMMA) {
        this.field += text.slice(segmentStart, i);
        segmentStart = i + 1;
        this.fields.push(this.field);
        this.field = '';
        this.fieldStarted = true;
      } else if (c === LF) {
        this.field += text.slice(segmentStart, i);
        segmentStart = i + 1;
        this.line++;
        this.endRecord();
      } else if (c === CR) {
        // Decide on the next character; the CR stays in the segment in case it is content.
        this.field += text.slice(segmentStart, i);
        segmentStart = i;
        this.crPending = true;
        if (i + 1 < n && text.charCodeAt(i + 1) === LF) {
          segmentStart = i + 2;
          i++;
          this.crPending = false;
          this.line++;
          this.endRecord();
        }
      } else if (c === QUOTE && this.field === '' && segmentStart === i) {
        this.inQuotes = true;
        this.fieldStarted = true;
        segmentStart = i + 1;
      } else {
        this.fieldStarted = true;
      }
    }
    this.field += text.slice(segmentStart);
  }

  /** Flush the last record (a file need not end with a newline). */
  end(): void {
    if (this.quotePending) {
      this.quotePending = false;
      this.inQuotes = false;
    }
    if (this.crPending) {
      // A trailing lone CR at end of input is a line end, not content.
      this.field = this.field.endsWith('\r') ? this.field.slice(0, -1) : this.field;
      this.crPending = false;
    }
    if (this.fieldStarted || this.field !== '' || this.fields.length > 0) this.endRecord();
  }

  /** True while inside an unterminated quoted field (for end-of-file diagnostics). */
  get unterminatedQuote(): boolean {
    return this.inQuotes && !this.quotePending;
  }

  /** Physical line of the record being parsed. */
  get currentRecordLine(): number {
    return this.recordLine;
  }

  private endRecord(): void {
    this.fields.push(this.field);
    const fields = this.fields;
    const line = this.recordLine;
    this.fields = [];
    this.field = '';
    this.fieldStarted = false;
    this.recordLine = this.line;
    // A blank line (one empty field) is not a record.
    if (fields.length === 1 && fields[0] === '') return;
    this.onRecord(fields, line);
  }
}

/** Decode ISO-8859-1 exactly (WHATWG's 'latin1' label means windows-1252, which differs at 0x80-0x9F). */
export function decodeLatin1(bytes: Uint8Array): string {
  let out = '';
  const step = 8192; // String.fromCharCode argument-count limit stays far away
  for (let i = 0; i < bytes.length; i += step) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + step) as unknown as number[]);
  }
  return out;
}

export type TextEncoding = 'utf-8' | 'latin1';

/**
 * Stream a text file in chunks of `chunkBytes`, decoded with `encoding` (UTF-8 sequences split
 * across chunks are handled by the streaming decoder; Latin-1 is one byte per character).
 */
export async function forEachTextChunk(
  path: string,
  encoding: TextEncoding,
  onChunk: (text: string, bytesRead: number) => void,
  chunkBytes = 1 << 20,
): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffer = new Uint8Array(chunkBytes);
    const decoder = encoding === 'utf-8' ? new TextDecoder('utf-8', { fatal: false }) : null;
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      const bytes = buffer.subarray(0, bytesRead);
      onChunk(decoder ? decoder.decode(bytes, { stream: true }) : decodeLatin1(bytes), total);
    }
    if (decoder) {
      const rest = decoder.decode();
      if (rest) onChunk(rest, total);
    }
  } finally {
    await handle.close();
  }
}

export interface ReadCsvOptions {
  encoding?: TextEncoding;
  /**
   * Called with the record's first line when the file ends inside a quoted field (a quote that
   * is never closed swallows the rest of the file); the partial record is dropped. Without it,
   * that is a ReelrankError('bad_input').
   */
  onUnterminatedQuote?: (line: number) => void;
}

/** Parse a CSV file (UTF-8 unless told otherwise) record by record, with physical line numbers. */
export async function readCsvFile(
  path: string,
  onRecord: CsvRecordHandler,
  { encoding = 'utf-8', onUnterminatedQuote }: ReadCsvOptions = {},
): Promise<void> {
  const parser = new CsvParser(onRecord);
  await forEachTextChunk(path, encoding, (text) => parser.push(text));
  if (parser.unterminatedQuote) {
    const line = parser.currentRecordLine;
    if (!onUnterminatedQuote) {
      throw new ReelrankError('bad_input', `${path}:${line}: ${UNTERMINATED_QUOTE}`);
    }
    onUnterminatedQuote(line);
    return;
  }
  parser.end();
}

/** The message for a quoted field that the file never closes. */
export const UNTERMINATED_QUOTE =
  'a quoted field opened in this record is never closed (it runs to the end of the file)';

/**
 * Read a delimiter-separated file with no quoting (u.item with '|', movies.dat with '::'), line by
 * line; `onLine` gets the fields and the 1-based line number. Blank lines are skipped.
 */
export async function readDelimitedFile(
  path: string,
  separator: string,
  encoding: TextEncoding,
  onLine: (fields: string[], line: number) => void,
): Promise<void> {
  let pending = '';
  let line = 0;
  const flush = (text: string) => {
    const stripped = text.endsWith('\r') ? text.slice(0, -1) : text;
    line++;
    if (stripped === '') return;
    onLine(stripped.split(separator), line);
  };
  await forEachTextChunk(path, encoding, (text) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) flush(l);
  });
  if (pending !== '') flush(pending);
}
