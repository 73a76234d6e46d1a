import { describe, expect, it } from 'vitest';
import { createRng } from '../../../shared/random.ts';
import { pca, tsne } from '../../../train/viz/project.ts';
import { primaryGenres, scatterSvg } from '../../../train/viz/svg.ts';

describe('2-D maps', () => {
  it('PCA finds the axis of largest variance (points on the line y = 2x, plus a small z)', () => {
    // Rows (t, 2t, 0.01 * (-1)^t): first component ∝ (1, 2, 0)/√5, scores = √5 (t - mean t).
    const rows = 5;
    const x = new Float32Array(rows * 3);
    for (let t = 0; t < rows; t++) x.set([t, 2 * t, t % 2 ? 0.01 : -0.01], t * 3);
    const p = pca(x, rows, 3, 2);
    for (let t = 0; t < rows; t++) expect(p[t * 2]).toBeCloseTo(Math.sqrt(5) * (t - 2), 4);
    expect(Math.abs(p[1]!)).toBeLessThan(0.02);
    expect(() => pca(x, 4, 3)).toThrow(/15 values is not 4 rows x 3/);
  });

  it('t-SNE keeps two well separated clusters apart, deterministically', () => {
    const rng = createRng(9);
    const n = 40;
    const dim = 5;
    const x = new Float32Array(n * dim);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < dim; j++) x[i * dim + j] = rng.normal() * 0.1 + (i < n / 2 ? 0 : 5);
    const a = tsne(x, n, dim, { perplexity: 8, iterations: 250 });
    const b = tsne(x, n, dim, { perplexity: 8, iterations: 250 });
    expect(b.points).toEqual(a.points);
    const centre = (from: number) => {
      let cx = 0;
      let cy = 0;
      for (let i = from; i < from + n / 2; i++) {
        cx += a.points[i * 2]! / (n / 2);
        cy += a.points[i * 2 + 1]! / (n / 2);
      }
      return [cx, cy] as const;
    };
    const [c0, c1] = [centre(0), centre(n / 2)];
    const spread = (from: number, c: readonly [number, number]) => {
      let s = 0;
      for (let i = from; i < from + n / 2; i++)
        s += Math.hypot(a.points[i * 2]! - c[0], a.points[i * 2 + 1]! - c[1]) / (n / 2);
      return s;
    };
    const between = Math.hypot(c0[0] - c1[0], c0[1] - c1[1]);
    expect(between).toBeGreaterThan(2 * Math.max(spread(0, c0), spread(n / 2, c1)));
    // Subsampling above maxPoints is deterministic and keeps row ids sorted.
    const sub = tsne(x, n, dim, { maxPoints: 10, perplexity: 3, iterations: 50 });
    expect(sub.rows.length).toBe(10);
    expect(Array.from(sub.rows)).toEqual(Array.from(sub.rows).sort((p, q) => p - q));
  });

  it('labels each movie with its most specific common genre and draws a legend', () => {
    const { labels, legend } = primaryGenres(
      [['Action', 'Drama'], ['Drama'], ['Drama', 'Western'], ['Musical']],
      2,
    );
    // Drama (3) and Action (1)... legend keeps the 2 most common: Drama, then Action (ties by name).
    expect(legend).toEqual(['Drama', 'Action', 'other']);
    expect(labels).toEqual(['Action', 'Drama', 'Drama', 'other']);
    const svg = scatterSvg(Float64Array.of(0, 0, 1, 1, 2, 0, 3, 1), labels, legend, { title: 'A & B <map>' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('A &#38; B &#60;map&#62;');
    expect(svg.match(/<circle /g)).toHaveLength(4 + 3);
    expect(svg).toContain('Drama (2)');
    expect(svg).toContain('other (1)');
  });
});
