import { expect, it } from 'vitest';
import { type Movie, movieRecord } from '../../../shared/catalog.ts';
import { createRng } from '../../../shared/random.ts';
import { renderReport } from '../../../train/report/report.ts';

const movie = (movieId: number, genre: string): Movie =>
  movieRecord({ movieId, title: `Movie ${movieId}, The`, year: 2000, genres: [genre] });

/** The JSON the report's charts are drawn from. */
function reportData(html: string) {
  const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)?.[1];
  expect(json).toBeDefined();
  return JSON.parse(json!) as {
    curves: { id: string; best: number | null; series: { values: (number | null)[] }[] }[];
    maps: { id: string; title: string; points: [number, number, number, number][]; legend: string[] }[];
    movies: [string, number | null, string][];
  };
}

it('the training report names metrics, marks the best epoch and maps factors, text and posters', () => {
  const rng = createRng(5);
  const n = 30;
  const movies = Array.from({ length: n }, (_, i) => movie(i + 1, i % 2 === 0 ? 'Drama' : 'Comedy'));
  const matrix = (dim: number) => Float32Array.from({ length: n * dim }, () => rng.normal());
  const mask = Uint8Array.from({ length: n }, (_, i) => (i < 20 ? 1 : 0));
  const html = renderReport({
    title: 'report',
    dataset: 'tiny',
    model: 'svdpp',
    seed: 1,
    epochs: [
      { epoch: 1, trainLoss: 1.2, validationRmse: 1.0, seconds: 1 },
      { epoch: 2, trainLoss: 0.9, validationRmse: 0.95, seconds: 1 },
      { epoch: 3, trainLoss: 0.8, validationRmse: 0.97, seconds: 1 },
    ],
    metrics: { holdoutRating: { rmse: 0.9 }, holdoutRankingRankModel: { 'ndcg@10': 0.3 } },
    embeddings: { data: matrix(4), dim: 4, movies, label: 'ials ranking factors' },
    textEmbeddings: { data: matrix(6), dim: 6, label: 'text embeddings (lsa)' },
    visualEmbeddings: { data: matrix(8), dim: 8, mask, label: 'poster embeddings' },
    tsneIterations: 50,
  });
  // Readable metric names with their meaning, not internal keys.
  expect(html).toContain('RMSE (stars)');
  expect(html).toContain('nDCG@10');
  expect(html).toContain('what recommendations serve');
  expect(html).not.toContain('>holdoutRankingRankModel<');
  const data = reportData(html);
  // Learning curves: best epoch = lowest value (validation RMSE best at epoch 2, index 1).
  expect(data.curves.map((c) => [c.id, c.best])).toEqual([
    ['curve-train', 2],
    ['curve-validation', 1],
  ]);
  // Three maps; posters only for the 20 movies that have one; every point names a movie.
  expect(data.maps.map((m) => [m.id, m.points.length])).toEqual([
    ['map-factors', 30],
    ['map-text', 30],
    ['map-posters', 20],
  ]);
  for (const m of data.maps) for (const p of m.points) expect(data.movies[p[3]]).toBeDefined();
  expect(data.movies.map((m) => m[0])).toContain('The Movie 1');
  expect(data.maps[0]!.legend).toContain('Drama');
  // Chart.js is inlined (offline), with its licence banner.
  expect(html).toContain('Chart.js v4.6.1');
  expect(html).toContain('Released under the MIT License');
  expect(html).not.toMatch(/<script[^>]+src=/);
});
