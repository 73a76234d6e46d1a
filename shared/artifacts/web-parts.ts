/**
 * The two version files only the web page reads: the poster thumbnail index and the catalog map.
 * Training writes them (train/visual/thumbnails.ts, train/viz/catalog-map.ts); the edge serves
 * them (edge/routes/web.tsx) after checking their shape here.
 */
import { ReelrankError } from '../errors.ts';

/** `posters/index.json`: which movies have `posters/<movieId>.jpg`. */
export interface PosterIndex {
  /** Largest thumbnail size in pixels (2:3). */
  width: number;
  height: number;
  /** movieIds with a thumbnail, ascending. */
  movieIds: number[];
  /** Total bytes of the thumbnails. */
  bytes: number;
}

/** `catalog_map.json`: a 2-D layout of movies, coordinates scaled to 0..1000 integers. */
export interface CatalogMap {
  /** How the layout was made, e.g. 't-SNE of the iALS ranking factors'. */
  method: string;
  /** Movies on the map: [movieId, x, y] with x, y in 0..1000. */
  points: [number, number, number][];
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Checks a parsed posters/index.json; 'artifact_format' names what is wrong. */
export function checkPosterIndex(value: unknown, where: string): PosterIndex {
  const v = value as Partial<PosterIndex> | null;
  if (
    v === null ||
    typeof v !== 'object' ||
    !isInt(v.width) ||
    !isInt(v.height) ||
    !Array.isArray(v.movieIds) ||
    !v.movieIds.every(isInt)
  ) {
    throw new ReelrankError(
      'artifact_format',
      `${where}: expected {width, height, movieIds: integer[], bytes}, got ${JSON.stringify(value)?.slice(0, 120)}`,
    );
  }
  return v as PosterIndex;
}

/** Checks a parsed catalog_map.json; 'artifact_format' names what is wrong. */
export function checkCatalogMap(value: unknown, where: string): CatalogMap {
  const v = value as Partial<CatalogMap> | null;
  const bad =
    v === null ||
    typeof v !== 'object' ||
    typeof v.method !== 'string' ||
    !Array.isArray(v.points) ||
    !v.points.every(
      (p) =>
        Array.isArray(p) &&
        p.length === 3 &&
        p.every(isInt) &&
        p[1]! >= 0 &&
        p[1]! <= 1000 &&
        p[2]! >= 0 &&
        p[2]! <= 1000,
    );
  if (bad) {
    throw new ReelrankError(
      'artifact_format',
      `${where}: expected {method, points: [movieId, x, y][] with x, y in 0..1000}`,
    );
  }
  return v as CatalogMap;
}

/** The q-quantile (0..1) of values (sorted copy, nearest rank). */
function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/**
 * Scales a 2-D layout ([n, 2] row-major) to 0..1000 integers, keeping its aspect ratio. The box
 * spans the 1st..99th percentiles of each axis (a few far outliers would otherwise squeeze every
 * other movie into a dot); points beyond it sit on its edge.
 * @example scaleLayout(Float64Array.of(0, 0, 2, 1), [7, 9], 'pca').points // [[7, 0, 250], [9, 1000, 750]]
 */
export function scaleLayout(xy: Float64Array, movieIds: ArrayLike<number>, method: string): CatalogMap {
  const n = movieIds.length;
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = xy[2 * i]!;
    ys[i] = xy[2 * i + 1]!;
  }
  const minX = quantile(xs, 0.01);
  const maxX = quantile(xs, 0.99);
  const minY = quantile(ys, 0.01);
  const maxY = quantile(ys, 0.99);
  const span = Math.max(maxX - minX, maxY - minY) || 1;
  const offX = (span - (maxX - minX)) / 2;
  const offY = (span - (maxY - minY)) / 2;
  const scaled = (v: number, min: number, off: number) =>
    Math.min(1000, Math.max(0, Math.round(((v - min + off) / span) * 1000)));
  const points: [number, number, number][] = [];
  for (let i = 0; i < n; i++)
    points.push([movieIds[i]!, scaled(xs[i]!, minX, offX), scaled(ys[i]!, minY, offY)]);
  return { method, points };
}
