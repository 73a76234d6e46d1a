import { expect, it } from 'vitest';
import { type Movie, movieRecord } from '../../../shared/catalog.ts';
import { createRng } from '../../../shared/random.ts';
import { renderReport } from '../../../train/report/report.ts';

const movie = (movieId: number, genre: string): Movie =>
  movieRecord({ movieId, title: `Movie ${movieId}`, year: 2000, genres: [genre] });

it('the training report maps item factors, text embeddings and posters (movies with a poster only)', () => {
  const rng = createRng(5);
  const n = 30;
  const movies = Array.from({ length: n }, (_, i) => movie(i + 1, i % 2 === 0 ? 'Drama' : 'Comedy'));
  const matrix = (dim: number) => Float32Array.from({ length: n * dim }, () => rng.normal());
  const mask = Uint8Array.from({ length: n }, (_, i) => (i < 20 ? 1 : 0));
  const html = renderReport({
    title: 'report',
    dataset: 'tiny',
    model: 'mf',
    seed: 1,
    epochs: [],
    metrics: { holdoutRating: { rmse: 0.9 } },
    embeddings: { data: matrix(4), dim: 4, movies, label: 'mf item factors' },
    textEmbeddings: { data: matrix(6), dim: 6, label: 'text embeddings (lsa)' },
    visualEmbeddings: { data: matrix(8), dim: 8, mask, label: 'poster embeddings' },
    tsneIterations: 50,
  });
  expect(html).toContain('<h2>Text embeddings</h2>');
  expect(html).toContain('PCA of text embeddings (lsa)');
  expect(html).toContain('t-SNE of text embeddings (lsa)');
  expect(html).toContain('20 of 30 movies have a poster');
  expect(html).toContain('PCA of poster embeddings');
  // Each map is an SVG scatter with a genre legend.
  expect(html.match(/<svg/g)?.length).toBe(6);
  expect(html).toContain('Drama');
});
