import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Movie } from '../../shared/catalog.ts';
import { displayTitle } from '../../shared/display-title.ts';
import type { EpochLog } from '../models/types.ts';
import { type Map2d, tsne } from '../viz/project.ts';
import { primaryGenres } from '../viz/svg.ts';
import { metricName, sectionName } from './metric-names.ts';

/**
 * The per-version training report: one self-contained HTML file. Metrics under readable names with
 * one line each on what they mean and where they come from; learning curves with axes, ticks,
 * gridlines and the best epoch marked; interactive 2-D maps (hover shows the title) of the ranking
 * factors that serve recommendations and of the text and poster embeddings. Charts are drawn by
 * Chart.js (MIT), whose minified build is inlined, so the file opens offline from a bucket or a disk.
 */
export interface ReportInput {
  title: string;
  dataset: string;
  model: string;
  version?: string;
  seed: number;
  /** The held-out split the metrics come from (e.g. 'random 90/10 by rating, seed 0'). */
  split?: string;
  /** Per-epoch logs of the evaluation fit (train loss, validation RMSE). */
  epochs: EpochLog[];
  /** Metric sections: section → metric → value. */
  metrics: Record<string, Record<string, number>>;
  /** Item embeddings [items, dim] to map, and the movies they belong to (same order). */
  embeddings?: { data: Float32Array; dim: number; movies: readonly Movie[]; label: string; about?: string };
  /** A layout of `embeddings` computed already (e.g. the version's catalog map): drawn as is. */
  embeddingsLayout?: Map2d;
  /** Rows of the maps (e.g. only movies with ratings), default all. */
  mapRows?: Uint32Array;
  /**
   * Poster embeddings [items, dim] (same movie order as `embeddings.movies`) and their mask
   * (1 = real poster): mapped for the movies with a poster only.
   */
  visualEmbeddings?: { data: Float32Array; dim: number; mask: Uint8Array; label: string };
  /** Text-content embeddings [items, dim] (same movie order as `embeddings.movies`), mapped over `mapRows`. */
  textEmbeddings?: { data: Float32Array; dim: number; label: string };
  /** A layout of `textEmbeddings` over `mapRows` computed already (`reportMap`): drawn as is. */
  textLayout?: Map2d;
  /** Free-form facts for the header (train seconds, sizes, backend). */
  facts?: Record<string, string | number>;
  tsneIterations?: number;
  tsneMaxPoints?: number;
}

/** One interactive map as the page's script reads it. */
interface MapData {
  id: string;
  title: string;
  about: string;
  /** Genre legend, in colour order. */
  legend: string[];
  /** [x, y, genre index, movie index into `movies`] per point. */
  points: [number, number, number, number][];
}

interface CurveData {
  id: string;
  title: string;
  yLabel: string;
  series: { name: string; values: (number | null)[] }[];
  /** 0-based epoch with the lowest value of the first series, marked on the chart. */
  best: number | null;
}

const escapeHtml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4);
}

let chartJsSource: string | null = null;
/** Chart.js's minified UMD build (with its MIT licence banner), read once from node_modules. */
function chartJs(): string {
  if (chartJsSource === null) {
    const require = createRequire(import.meta.url);
    const main = require.resolve('chart.js');
    chartJsSource = readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
    if (/<\/script/i.test(chartJsSource)) throw new Error('chart.umd.min.js contains </script>');
  }
  return chartJsSource;
}

/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function mapOf(
  id: string,
  title: string,
  about: string,
  layout: Map2d,
  movies: readonly Movie[],
  movieIndex: number[],
): MapData {
  const { labels, legend } = primaryGenres(Array.from(layout.rows, (r) => movies[r]!.genres));
  const points: MapData['points'] = Array.from(layout.rows, (r, t) => [
    Math.round(layout.points[2 * t]! * 100) / 100,
    Math.round(layout.points[2 * t + 1]! * 100) / 100,
    legend.indexOf(labels[t]!),
    movieIndex[r]!,
  ]);
  return { id, title, about, legend, points };
}

/** t-SNE of `rows` of a matrix, as the report draws it; null when there are too few rows to map. */
export function reportMap(
  data: Float32Array,
  dim: number,
  rows: Uint32Array,
  input: Pick<ReportInput, 'seed' | 'tsneIterations' | 'tsneMaxPoints'>,
): Map2d | null {
  if (rows.length < 4 || dim < 2) return null;
  const subset = new Float32Array(rows.length * dim);
  rows.forEach((r, t) => {
    subset.set(data.subarray(r * dim, (r + 1) * dim), t * dim);
  });
  const map = tsne(subset, rows.length, dim, {
    seed: input.seed,
    iterations: input.tsneIterations ?? 300,
    maxPoints: input.tsneMaxPoints ?? 1500,
  });
  return { points: map.points, rows: Uint32Array.from(map.rows, (t) => rows[t]!) };
}

function curves(epochs: EpochLog[]): CurveData[] {
  const out: CurveData[] = [];
  const argmin = (values: (number | null)[]) => {
    let best: number | null = null;
    values.forEach((v, e) => {
      if (v !== null && Number.isFinite(v) && (best === null || v < values[best]!)) best = e;
    });
    return best;
  };
  const clean = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);
  const train = epochs.map((e) => clean(e.trainLoss));
  if (train.some((v) => v !== null))
    out.push({
      id: 'curve-train',
      title: 'Training loss per epoch',
      yLabel: 'mean squared error (stars²)',
      series: [{ name: 'training loss', values: train }],
      best: argmin(train),
    });
  const validation = epochs.map((e) => clean(e.validationRmse));
  if (validation.some((v) => v !== null))
    out.push({
      id: 'curve-validation',
      title: 'Validation RMSE per epoch',
      yLabel: 'RMSE (stars)',
      series: [{ name: 'validation RMSE', values: validation }],
      best: argmin(validation),
    });
  return out;
}

/** The script that draws the charts from the embedded data (runs in the browser). */
const CLIENT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#4e79a7','#f28e2b','#e15759','#76b7b2','#59a14f','#edc948','#b07aa1','#ff9da7','#9c755f','#bab0ac','#1f77b4','#d62728'];
  Chart.defaults.font.family = 'system-ui, sans-serif';
  Chart.defaults.animation = false;
  function movieLabel(i) { var m = data.movies[i]; return m[0] + (m[1] ? ' (' + m[1] + ')' : ''); }
  data.curves.forEach(function (c) {
    var epochs = c.series[0].values.map(function (_, e) { return e + 1; });
    var sets = c.series.map(function (s, n) {
      return { label: s.name, data: s.values, borderColor: palette[n], backgroundColor: palette[n], pointRadius: 2, spanGaps: true };
    });
    if (c.best !== null) {
      var marks = c.series[0].values.map(function (v, e) { return e === c.best ? v : null; });
      sets.push({ label: 'best epoch (' + (c.best + 1) + ')', data: marks, showLine: false, pointRadius: 7, pointStyle: 'triangle', borderColor: '#c0392b', backgroundColor: '#c0392b' });
    }
    new Chart(document.getElementById(c.id), {
      type: 'line',
      data: { labels: epochs, datasets: sets },
      options: {
        responsive: true, maintainAspectRatio: false,
        plugins: { title: { display: true, text: c.title } },
        scales: {
          x: { title: { display: true, text: 'epoch' }, grid: { display: true } },
          y: { title: { display: true, text: c.yLabel }, grid: { display: true } }
        }
      }
    });
  });
  data.maps.forEach(function (m) {
    var sets = m.legend.map(function (genre, g) {
      return {
        label: genre,
        data: m.points.filter(function (p) { return p[2] === g; }).map(function (p) { return { x: p[0], y: p[1], movie: p[3] }; }),
        backgroundColor: palette[g % palette.length], pointRadius: 3, pointHoverRadius: 6
      };
    });
    new Chart(document.getElementById(m.id), {
      type: 'scatter',
      data: { datasets: sets },
      options: {
        responsive: true, maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: m.title },
          tooltip: { callbacks: {
            label: function (ctx) { var m2 = data.movies[ctx.raw.movie]; return movieLabel(ctx.raw.movie) + ' · ' + m2[2]; }
          } }
        },
        scales: {
          x: { title: { display: true, text: 't-SNE 1 (no unit: only distances between movies matter)' } },
          y: { title: { display: true, text: 't-SNE 2' } }
        }
      }
    });
  });
})();
`;

/** Render the report to one HTML document. */
export function renderReport(input: ReportInput): string {
  const sections: string[] = [];
  const facts = {
    dataset: input.dataset,
    model: input.model,
    ...(input.version ? { version: input.version } : {}),
    seed: input.seed,
    ...(input.split ? { 'held-out split': input.split } : {}),
    ...input.facts,
  };
  sections.push(
    `<table class="facts">${Object.entries(facts)
      .map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
      .join('')}</table>`,
  );
  sections.push('<h2>Metrics</h2>');
  const split = input.split ?? 'a random held-out share of the ratings';
  for (const [section, values] of Object.entries(input.metrics)) {
    const { title, about } = sectionName(section, input.model, split);
    const rows = Object.entries(values).map(([key, value]) => {
      const m = metricName(key);
      const direction =
        m.higherIsBetter === null ? '' : m.higherIsBetter ? ' (higher is better)' : ' (lower is better)';
      return `<tr><th scope="row" title="${escapeHtml(key)}">${escapeHtml(m.name)}</th><td class="num">${formatNumber(value)}</td><td>${escapeHtml(m.meaning + direction)}</td></tr>`;
    });
    sections.push(
      `<section><h3>${escapeHtml(title)}</h3>${about ? `<p>${escapeHtml(about)}</p>` : ''}<table><thead><tr><th scope="col">metric</th><th scope="col">value</th><th scope="col">what it means</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`,
    );
  }

  const curveData = curves(input.epochs);
  if (curveData.length > 0) {
    sections.push(
      '<h2>Learning curves</h2><p>The evaluation fit, epoch by epoch: loss on the training ratings and RMSE on a validation carve (5 % of the training part). The triangle marks the best epoch.</p>',
    );
    for (const c of curveData) {
      const best =
        c.best === null ? '' : `best epoch ${c.best + 1}: ${formatNumber(c.series[0]!.values[c.best]!)}`;
      sections.push(
        `<figure><div class="chart"><canvas id="${c.id}" role="img" aria-label="${escapeHtml(`${c.title}; ${best}`)}"></canvas></div><figcaption>${escapeHtml(c.title)}${best ? ` — ${escapeHtml(best)}` : ''}</figcaption></figure>`,
      );
    }
  }

  const maps: MapData[] = [];
  const movieIndex: number[] = [];
  const movieRows: [string, number | null, string][] = [];
  const useMovie = (movies: readonly Movie[], rows: Uint32Array) => {
    for (const r of rows) {
      if (movieIndex[r] !== undefined) continue;
      const m = movies[r]!;
      movieIndex[r] = movieRows.length;
      movieRows.push([displayTitle(m.title), m.year, m.genres.join(', ')]);
    }
  };
  if (input.embeddings) {
    const { data, dim, movies, label } = input.embeddings;
    const rows = input.mapRows ?? Uint32Array.from({ length: movies.length }, (_, i) => i);
    const layout = input.embeddingsLayout ?? reportMap(data, dim, rows, input);
    if (layout) {
      useMovie(movies, layout.rows);
      maps.push(
        mapOf(
          'map-factors',
          `${label}: ${layout.rows.length} movies`,
          input.embeddings.about ??
            'Movies close together are liked by the same people. Hover a point for its title; click a genre in the legend to hide it.',
          layout,
          movies,
          movieIndex,
        ),
      );
    }
    if (input.textEmbeddings) {
      const text = input.textEmbeddings;
      const textLayout = input.textLayout ?? reportMap(text.data, text.dim, rows, input);
      if (textLayout) {
        useMovie(movies, textLayout.rows);
        maps.push(
          mapOf(
            'map-text',
            `${text.label}: ${textLayout.rows.length} movies`,
            'What each movie is about (title, genres, overview, keywords, tags, cast, director): movies close together are described alike.',
            textLayout,
            movies,
            movieIndex,
          ),
        );
      }
    }
    if (input.visualEmbeddings) {
      const visual = input.visualEmbeddings;
      const withPoster = Uint32Array.from(
        Array.from({ length: movies.length }, (_, i) => i).filter((i) => visual.mask[i] === 1),
      );
      const posterLayout = reportMap(visual.data, visual.dim, withPoster, input);
      if (posterLayout) {
        useMovie(movies, posterLayout.rows);
        maps.push(
          mapOf(
            'map-posters',
            `${visual.label}: ${posterLayout.rows.length} movies`,
            `${withPoster.length} of ${movies.length} movies have a poster; movies without one have no vector and are not mapped. Movies close together have posters that look alike.`,
            posterLayout,
            movies,
            movieIndex,
          ),
        );
      }
    }
  }
  if (maps.length > 0) {
    sections.push(
      '<h2>Maps</h2><p>Each map places movies by t-SNE: nearby points have similar vectors; axes and absolute positions carry no meaning. Colours show each movie’s most specific common genre.</p>',
    );
    for (const m of maps) {
      sections.push(
        `<figure><p>${escapeHtml(m.about)}</p><div class="chart map"><canvas id="${m.id}" role="img" aria-label="${escapeHtml(`Scatter map: ${m.title}`)}"></canvas></div><figcaption>${escapeHtml(m.title)}</figcaption></figure>`,
      );
    }
  }

  const data = { curves: curveData, maps, movies: movieRows };
  const hasCharts = curveData.length > 0 || maps.length > 0;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;padding:1.5em;max-width:1100px;color:#1d1d1f}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}thead th{background:#f4f4f6}
section p,figure p{color:#444;max-width:70em}figure{margin:1.2em 0}figcaption{color:#555;font-size:.9em}
.chart{position:relative;height:320px}.chart.map{height:560px}</style></head>
<body><h1>${escapeHtml(input.title)}</h1>
${hasCharts ? '<noscript><p>The charts need JavaScript; every number is also in the tables.</p></noscript>' : ''}
${sections.join('\n')}
${hasCharts ? `<script type="application/json" id="report-data">${scriptJson(data)}</script>\n<script>${chartJs()}</script>\n<script>${CLIENT}</script>` : ''}
</body></html>
`;
}
