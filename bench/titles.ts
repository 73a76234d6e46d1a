/**
 * Title resolution (shared/serving/titles.ts): how often a typed title finds the intended movie,
 * and what a resolution costs.
 *   npm run bench -- titles
 * Writes bench/results/titles.json.
 *
 * Quality, on every movie of the embedded ml-latest-small (popularity = log rating count): its
 * title typed as a person would (MovieLens' "Matrix, The" written "The Matrix"), with and without
 * the year; a hit is the movie itself, or a movie with the very same title and year (true
 * duplicates such as the two "Emma (1996)" cannot be told apart by title). Typos: one adjacent
 * transposition inside the longest word, counted as found when the movie is among the 5
 * suggestions (or resolved). Cost: medians over the same queries in one run, on the real catalog
 * and on a 10x catalog (the same titles under 10 different years, 97,420 movies).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTitleIndex,
  resolveTitle,
  type TitledMovie,
  type TitleIndex,
} from '../shared/serving/titles.ts';
import { loadDataset } from '../train/data/index.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = join(repoRoot, 'bench/results/titles.json');

/** "Matrix, The" -> "The Matrix": how people type MovieLens' trailing-article titles. */
function typed(title: string): string {
  const m = /^(.*), (The|A|An)$/.exec(title);
  return m ? `${m[2]} ${m[1]}` : title;
}

/** One adjacent transposition in the middle of the longest word (>= 5 letters), or null. */
function withTypo(title: string): string | null {
  const words = title.split(' ');
  let longest = -1;
  words.forEach((w, i) => {
    if (/^[A-Za-z]{5,}$/.test(w) && (longest < 0 || w.length > words[longest]!.length)) longest = i;
  });
  if (longest < 0) return null;
  const w = words[longest]!;
  const at = Math.floor(w.length / 2);
  words[longest] = w.slice(0, at - 1) + w[at] + w[at - 1] + w.slice(at + 1);
  return words.join(' ');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? Number.NaN;
}

function timeQueries(index: TitleIndex, queries: string[]): { medianMs: number; p99Ms: number } {
  for (const q of queries.slice(0, 50)) resolveTitle(index, q); // warm-up
  const times = queries.map((q) => {
    const start = performance.now();
    resolveTitle(index, q);
    return performance.now() - start;
  });
  const sorted = [...times].sort((a, b) => a - b);
  return { medianMs: median(times), p99Ms: sorted[Math.floor(sorted.length * 0.99)]! };
}

const dataset = await loadDataset();
const movies: TitledMovie[] = dataset.movies;
const counts = new Float64Array(movies.length);
for (let r = 0; r < dataset.ratings.length; r++) {
  const i = dataset.ratings.itemIndex[r]!;
  counts[i] = counts[i]! + 1;
}
const popularity = Float64Array.from(counts, (c) => Math.log1p(c));
let started = performance.now();
const index = createTitleIndex(movies, popularity);
const buildMs = performance.now() - started;

const sameAs = (a: number, b: number) =>
  a === b || (movies[a]!.title === movies[b]!.title && movies[a]!.year === movies[b]!.year);
let withYear = 0;
let withoutYearExact = 0;
let withoutYearFound = 0;
/** Resolved without the year to another movie of the very same title (a remake, a namesake). */
let withoutYearNamesake = 0;
let typoTotal = 0;
let typoFound = 0;
const typoQueries: string[] = [];
const exactQueries: string[] = [];
movies.forEach((m, i) => {
  const title = typed(m.title);
  const a = resolveTitle(index, m.year !== null ? `${title} (${m.year})` : title);
  if (a.found && sameAs(a.itemIndex, i)) withYear++;
  const b = resolveTitle(index, title);
  if (b.found && sameAs(b.itemIndex, i)) {
    withoutYearFound++;
    if (b.match === 'exact') withoutYearExact++;
  } else if (b.found && b.match === 'exact' && b.alternatives.some((alt) => sameAs(alt, i)))
    withoutYearNamesake++;
  exactQueries.push(title);
  const typo = withTypo(title);
  if (typo) {
    typoTotal++;
    typoQueries.push(typo);
    const c = resolveTitle(index, typo);
    if (c.found ? sameAs(c.itemIndex, i) : c.suggestions.some((s) => sameAs(s, i))) typoFound++;
  }
});

// Cost on the real catalog and on a 10x catalog.
const stride = Math.max(1, Math.floor(movies.length / 1000));
const sample = (list: string[]) => list.filter((_, n) => n % stride === 0);
const cost = (idx: TitleIndex) => ({
  exact: timeQueries(idx, sample(exactQueries)),
  typoNotFound: timeQueries(idx, sample(typoQueries)),
});
const real = cost(index);
const big: TitledMovie[] = [];
for (let k = 0; k < 10; k++)
  for (const m of movies) big.push({ movieId: big.length, title: m.title, year: (m.year ?? 1990) + 100 * k });
started = performance.now();
const bigIndex = createTitleIndex(
  big,
  Float64Array.from(big, (_, n) => popularity[n % movies.length]!),
);
const bigBuildMs = performance.now() - started;
const scaled = cost(bigIndex);

const result = {
  dataset: 'ml-latest-small',
  movies: movies.length,
  quality: {
    titleWithYear: withYear / movies.length,
    titleWithoutYear: withoutYearFound / movies.length,
    titleWithoutYearExactMatch: withoutYearExact / movies.length,
    titleWithoutYearNamesakeChosenInstead: withoutYearNamesake / movies.length,
    typoInResultOrSuggestions: typoFound / typoTotal,
    typoQueries: typoTotal,
  },
  costMs: {
    indexBuild: buildMs,
    ...real,
    catalog10x: { movies: big.length, indexBuild: bigBuildMs, ...scaled },
  },
  machine: { cpus: cpus().length, loadavg: loadavg() },
};
mkdirSync(dirname(resultsFile), { recursive: true });
writeFileSync(resultsFile, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
