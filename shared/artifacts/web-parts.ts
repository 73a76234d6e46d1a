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

/**
 * Scales a 2-D layout ([n, 2] row-major) to 0..1000 integers, keeping its aspect ratio.
 * @example scaleLayout(Float64Array.of(0, 0, 2, 1), [7, 9]).points // [[7, 0, 250], [9, 1000, 750]]
 */
export function scaleLayout(xy: Float64Array, movieIds: ArrayLike<number>, method: string): CatalogMap {
  const n = movieIds.length;
  let minX = Number.POSITIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, xy[2 * i]!);
    maxX = Math.max(maxX, xy[2 * i]!);
    minY = Math.min(minY, xy[2 * i + 1]!);
    maxY = Math.max(maxY, xy[2 * i + 1]!);
  }
  const span = Math.max(maxX - minX, maxY - minY) || 1;
  const offX = (span - (maxX - minX)) / 2;
  const offY = (span - (maxY - minY)) / 2;
  const points: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    points.push([
      movieIds[i]!,
      Math.round(((xy[2 * i]! - minX + offX) / span) * 1000),
      Math.round(((xy[2 * i + 1]! - minY + offY) / span) * 1000),
    ]);
  }
  return { method, points };
}
