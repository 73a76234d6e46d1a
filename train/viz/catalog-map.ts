/**
 * The catalog map of a version (`catalog_map.json`): a t-SNE layout of the most-rated movies'
 * ranking factors (the vectors that actually rank recommendations), so movies liked by the same
 * people sit together. The web page draws it; the report shows the same layout.
 */
import { type CatalogMap, scaleLayout } from '../../shared/artifacts/web-parts.ts';
import { type Map2d, tsne } from './project.ts';

export interface CatalogLayout {
  /** What goes into the version. */
  map: CatalogMap;
  /** The raw layout ([rows.length, 2]) and the item indexes it shows, for the report. */
  layout: Map2d;
}

/**
 * t-SNE of the `maxMovies` most-rated movies (at least `minRatings` ratings each) of an item
 * matrix [items, dim]; null when fewer than 4 movies qualify.
 * @example catalogLayout(rankItemFactors, 64, counts, movieIds, { method: 't-SNE of the iALS ranking factors' })
 */
export function catalogLayout(
  vectors: Float32Array,
  dim: number,
  counts: ArrayLike<number>,
  movieIds: ArrayLike<number>,
  {
    method,
    maxMovies = 1000,
    minRatings = 10,
    iterations = 250,
    seed = 0,
  }: { method: string; maxMovies?: number; minRatings?: number; iterations?: number; seed?: number },
): CatalogLayout | null {
  const eligible = Array.from({ length: counts.length }, (_, i) => i).filter((i) => counts[i]! >= minRatings);
  eligible.sort((a, b) => counts[b]! - counts[a]! || a - b);
  const rows = Uint32Array.from(eligible.slice(0, maxMovies)).sort();
  if (rows.length < 4) return null;
  const subset = new Float32Array(rows.length * dim);
  rows.forEach((r, t) => {
    subset.set(vectors.subarray(r * dim, (r + 1) * dim), t * dim);
  });
  const mapped = tsne(subset, rows.length, dim, { seed: seed + 1, iterations, maxPoints: rows.length });
  const layoutRows = Uint32Array.from(mapped.rows, (t) => rows[t]!);
  const map = scaleLayout(
    mapped.points,
    Array.from(layoutRows, (r) => movieIds[r]!),
    method,
  );
  return { map, layout: { points: mapped.points, rows: layoutRows } };
}
