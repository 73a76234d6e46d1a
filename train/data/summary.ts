import type { Dataset, IngestIssue } from './dataset.ts';

/** What `reelrank ingest` reports; also the `--json` output (one object, stable keys). */
export interface DatasetSummary {
  name: string;
  format: Dataset['format'];
  source: string;
  ratings: number;
  users: number;
  movies: number;
  /** Movies with at least one rating. */
  ratedMovies: number;
  ratingScale: Dataset['ratingScale'];
  meanRating: number | null;
  /** 1 - ratings / (users * movies). */
  sparsity: number | null;
  syntheticRatings: boolean;
  skippedRows: number;
  issues: IngestIssue[];
  notes: string[];
  officialSplits: Record<string, { train: number; test: number }>;
  tmdbJoined: number | null;
  postersAttached: number | null;
}

/** Counts and statistics of a loaded dataset, for reports. `maxIssues` bounds the issue list. */
export function summarizeDataset(dataset: Dataset, maxIssues = 5): DatasetSummary {
  const { ratings } = dataset;
  const rated = new Uint8Array(dataset.movies.length);
  let sum = 0;
  for (let i = 0; i < ratings.length; i++) {
    rated[ratings.itemIndex[i]!] = 1;
    sum += ratings.rating[i]!;
  }
  let ratedMovies = 0;
  for (let j = 0; j < rated.length; j++) ratedMovies += rated[j]!;
  const cells = dataset.userIds.length * dataset.movies.length;
  const officialSplits: DatasetSummary['officialSplits'] = {};
  for (const [name, split] of Object.entries(dataset.officialSplits)) {
    officialSplits[name] = { train: split.train.length, test: split.test.length };
  }
  return {
    name: dataset.name,
    format: dataset.format,
    source: dataset.source,
    ratings: ratings.length,
    users: dataset.userIds.length,
    movies: dataset.movies.length,
    ratedMovies,
    ratingScale: dataset.ratingScale,
    meanRating: ratings.length > 0 ? sum / ratings.length : null,
    sparsity: cells > 0 ? 1 - ratings.length / cells : null,
    syntheticRatings: dataset.syntheticRatings,
    skippedRows: dataset.summary.skippedRows,
    issues: dataset.summary.issues.slice(0, maxIssues),
    notes: dataset.summary.notes ?? [],
    officialSplits,
    tmdbJoined: dataset.tmdbJoin?.joined ?? null,
    postersAttached: dataset.posters?.attached ?? null,
  };
}

const count = (n: number) => n.toLocaleString('en-US');

/** The human-readable report of `reelrank ingest`. */
export function formatSummary(summary: DatasetSummary, dataset?: Dataset): string {
  const lines: string[] = [];
  lines.push(`${summary.name} (${summary.format}) from ${summary.source}`);
  lines.push(
    `  ${count(summary.ratings)} ratings${summary.syntheticRatings ? ' (synthetic)' : ''} by ${count(summary.users)} users of ${count(summary.movies)} movies (${count(summary.ratedMovies)} rated)`,
  );
  const scale = summary.ratingScale;
  lines.push(
    `  rating scale ${scale.min}..${scale.max} step ${scale.step}` +
      (summary.meanRating !== null ? `, mean ${summary.meanRating.toFixed(3)}` : '') +
      (summary.sparsity !== null ? `, sparsity ${(summary.sparsity * 100).toFixed(2)}%` : ''),
  );
  const splits = Object.entries(summary.officialSplits);
  if (splits.length > 0) {
    lines.push(
      `  official splits: ${splits.map(([n, s]) => `${n} ${count(s.train)}+${count(s.test)}`).join(', ')}`,
    );
  }
  if (dataset?.tmdbJoin) {
    const j = dataset.tmdbJoin;
    lines.push(
      `  TMDB: ${count(j.joined)} movies joined (${count(j.byLink)} by links.csv tmdbId, ${count(j.byTitleYear)} by title + year)`,
    );
  }
  if (dataset?.posters) {
    lines.push(
      `  posters: ${count(dataset.posters.attached)} movies got one (${count(dataset.posters.filesSeen)} image files in ${dataset.posters.source})`,
    );
  }
  for (const note of summary.notes) lines.push(`  note: ${note}`);
  lines.push(`  skipped rows: ${count(summary.skippedRows)}`);
  for (const issue of summary.issues) lines.push(`    ${issue.file}:${issue.line}: ${issue.message}`);
  if (summary.skippedRows > summary.issues.length) {
    lines.push(`    ... and ${count(summary.skippedRows - summary.issues.length)} more`);
  }
  return lines.join('\n');
}
