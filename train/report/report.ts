import type { Movie } from '../../shared/catalog.ts';
import type { EpochLog } from '../models/types.ts';
import { pca, tsne } from '../viz/project.ts';
import { primaryGenres, scatterSvg } from '../viz/svg.ts';

/**
 * The per-version training report: one self-contained HTML page with inline SVG learning
 * curves, the metric table, and PCA and t-SNE maps of the movie embeddings coloured by genre
 * (reference 002's figures). No script, no external asset: it opens from a bucket or a disk.
 */
export interface ReportInput {
  title: string;
  dataset: string;
  model: string;
  version?: string;
  seed: number;
  /** Per-epoch logs of the evaluation fit (train loss, validation RMSE). */
  epochs: EpochLog[];
  /** Metric sections: section → metric → value. */
  metrics: Record<string, Record<string, number>>;
  /** Item embeddings [items, dim] to map, and the movies they belong to (same order). */
  embeddings?: { data: Float32Array; dim: number; movies: readonly Movie[]; label: string };
  /** Rows of the map (e.g. only movies with ratings), default all. */
  mapRows?: Uint32Array;
  /**
   * Poster embeddings [items, dim] (same movie order as `embeddings.movies`) and their mask
   * (1 = real poster): mapped for the movies with a poster only.
   */
  visualEmbeddings?: { data: Float32Array; dim: number; mask: Uint8Array; label: string };
  /** Text-content embeddings [items, dim] (same movie order as `embeddings.movies`), mapped over `mapRows`. */
  textEmbeddings?: { data: Float32Array; dim: number; label: string };
  /** Free-form facts for the header (train seconds, sizes, backend). */
  facts?: Record<string, string | number>;
  tsneIterations?: number;
  tsneMaxPoints?: number;
}

const escapeHtml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4);
}

/**
 * A line chart of one or more series over epochs, as an SVG fragment.
 * @example lineChartSvg('RMSE', [{ name: 'validation', values: [1, 0.95, 0.93] }])
 */
export function lineChartSvg(
  title: string,
  series: { name: string; values: (number | undefined)[] }[],
  { width = 560, height = 300 } = {},
): string {
  const colors = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b'];
  const plot = { left: 60, top: 36, right: width - 20, bottom: height - 40 };
  const all = series.flatMap((s) =>
    s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)),
  );
  const count = Math.max(1, ...series.map((s) => s.values.length));
  if (all.length === 0)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60"><text x="10" y="30">${escapeHtml(title)}: no data</text></svg>`;
  let min = Math.min(...all);
  let max = Math.max(...all);
  if (max === min) {
    max += 0.5;
    min -= 0.5;
  }
  const x = (e: number) => plot.left + (count === 1 ? 0 : (e / (count - 1)) * (plot.right - plot.left));
  const y = (v: number) => plot.bottom - ((v - min) / (max - min)) * (plot.bottom - plot.top);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="${plot.left}" y="20" font-size="14">${escapeHtml(title)}</text>`,
    `<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" stroke="#888"/>`,
    `<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}" stroke="#888"/>`,
    `<text x="${plot.left - 6}" y="${plot.top + 4}" text-anchor="end">${formatNumber(max)}</text>`,
    `<text x="${plot.left - 6}" y="${plot.bottom}" text-anchor="end">${formatNumber(min)}</text>`,
    `<text x="${(plot.left + plot.right) / 2}" y="${height - 8}" text-anchor="middle">epoch (1..${count})</text>`,
  ];
  series.forEach((s, n) => {
    const points = s.values
      .map((v, e) =>
        v === undefined || !Number.isFinite(v) ? null : `${x(e).toFixed(1)},${y(v).toFixed(1)}`,
      )
      .filter((p) => p !== null);
    const color = colors[n % colors.length]!;
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    parts.push(
      `<text x="${plot.right - 140}" y="${plot.top + 14 * n}" fill="${color}">${escapeHtml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** PCA and t-SNE scatter plots (SVG) of `rows` of an embedding matrix, coloured by primary genre. */
function embeddingMaps(
  data: Float32Array,
  dim: number,
  movies: readonly Movie[],
  rows: Uint32Array,
  label: string,
  input: Pick<ReportInput, 'seed' | 'tsneIterations' | 'tsneMaxPoints'>,
): string[] {
  if (rows.length < 3 || dim < 2) return [];
  const subset = new Float32Array(rows.length * dim);
  rows.forEach((r, t) => {
    subset.set(data.subarray(r * dim, (r + 1) * dim), t * dim);
  });
  const { labels, legend } = primaryGenres(Array.from(rows, (r) => movies[r]!.genres));
  const pcaPoints = pca(subset, rows.length, dim, 2);
  const map = tsne(subset, rows.length, dim, {
    seed: input.seed,
    iterations: input.tsneIterations ?? 300,
    maxPoints: input.tsneMaxPoints ?? 1500,
  });
  return [
    scatterSvg(pcaPoints, labels, legend, { title: `PCA of ${label}`, subtitle: `${rows.length} movies` }),
    scatterSvg(
      map.points,
      Array.from(map.rows, (r) => labels[r]!),
      legend,
      { title: `t-SNE of ${label}`, subtitle: `${map.rows.length} movies` },
    ),
  ];
}

/** Render the report to one HTML document. */
export function renderReport(input: ReportInput): string {
  const sections: string[] = [];
  const facts = {
    dataset: input.dataset,
    model: input.model,
    ...(input.version ? { version: input.version } : {}),
    seed: input.seed,
    ...input.facts,
  };
  sections.push(
    `<table class="facts">${Object.entries(facts)
      .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
      .join('')}</table>`,
  );
  const metricRows = Object.entries(input.metrics).flatMap(([section, values]) =>
    Object.entries(values).map(
      ([name, value]) =>
        `<tr><td>${escapeHtml(section)}</td><td>${escapeHtml(name)}</td><td>${formatNumber(value)}</td></tr>`,
    ),
  );
  sections.push(
    `<h2>Metrics</h2><table><tr><th>protocol</th><th>metric</th><th>value</th></tr>${metricRows.join('')}</table>`,
  );
  if (input.epochs.length > 0) {
    sections.push('<h2>Learning curves</h2>');
    sections.push(
      lineChartSvg('training loss (MSE)', [{ name: 'train', values: input.epochs.map((e) => e.trainLoss) }]),
    );
    if (input.epochs.some((e) => e.validationRmse !== undefined)) {
      sections.push(
        lineChartSvg('validation RMSE', [
          { name: 'validation', values: input.epochs.map((e) => e.validationRmse) },
        ]),
      );
    }
  }
  if (input.embeddings) {
    const { data, dim, movies, label } = input.embeddings;
    const rows = input.mapRows ?? Uint32Array.from({ length: movies.length }, (_, i) => i);
    sections.push(`<h2>Movie embeddings (${escapeHtml(label)})</h2>`);
    sections.push(...embeddingMaps(data, dim, movies, rows, label, input));
    if (input.textEmbeddings) {
      const text = input.textEmbeddings;
      sections.push(
        `<h2>Text embeddings</h2><p>What each movie <em>is</em> (title, genres, overview, keywords, tags, cast, director), ${rows.length} movies.</p>`,
      );
      sections.push(...embeddingMaps(text.data, text.dim, movies, rows, text.label, input));
    }
    if (input.visualEmbeddings) {
      const visual = input.visualEmbeddings;
      const withPoster = Uint32Array.from(
        Array.from({ length: movies.length }, (_, i) => i).filter((i) => visual.mask[i] === 1),
      );
      sections.push(
        `<h2>Poster embeddings</h2><p>${withPoster.length} of ${movies.length} movies have a poster; movies without one have no vector and are not mapped.</p>`,
      );
      sections.push(...embeddingMaps(visual.data, visual.dim, movies, withPoster, visual.label, input));
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}svg{display:block;margin:1em 0}</style></head>
<body><h1>${escapeHtml(input.title)}</h1>
${sections.join('\n')}
</body></html>
`;
}
