import { ReelrankError } from '../../shared/errors.ts';
import type { IngestIssue, IngestSummary } from './dataset.ts';

/** How many issues a summary keeps verbatim; the rest are only counted. */
export const MAX_KEPT_ISSUES = 50;

/**
 * Collects malformed rows during ingestion. Lenient mode skips and counts them (keeping the first
 * few for the report); strict mode turns the first one into a ReelrankError('bad_input',
 * '<file>:<line>: <what>') so the command fails with one clear line.
 */
export class IssueLog {
  readonly strict: boolean;
  skippedRows = 0;
  readonly issues: IngestIssue[] = [];
  /** Notes that are not malformed rows (e.g. "ratings.dat absent: 0 ratings"). */
  readonly notes: string[] = [];

  constructor(strict = false) {
    this.strict = strict;
  }

  /** Report a malformed row that is skipped (or, in strict mode, fatal). */
  skip(file: string, line: number, message: string): void {
    if (this.strict) throw new ReelrankError('bad_input', `${file}:${line}: ${message}`, { file, line });
    this.skippedRows++;
    if (this.issues.length < MAX_KEPT_ISSUES) this.issues.push({ file, line, message });
  }

  note(message: string): void {
    this.notes.push(message);
  }

  summary(): IngestSummary {
    return { skippedRows: this.skippedRows, issues: this.issues.slice(), notes: this.notes.slice() };
  }
}
