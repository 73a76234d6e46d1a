/**
 * Reference 000's genre-coloured rendered posters, kept ONLY as an explicit synthetic option (e.g.
 * for a catalog without any poster, to exercise the visual pipeline end to end). They carry no
 * information beyond the genres, so they are never mixed with real posters and never used to
 * fill in a missing poster: results computed from them are flagged `synthetic`.
 */
import type { Movie } from '../../shared/catalog.ts';
import type { RgbaImage } from './image.ts';

/** A fixed colour per MovieLens genre (RGB). Unknown genres hash to a grey level. */
export const SYNTHETIC_GENRE_COLOURS: Readonly<Record<string, readonly [number, number, number]>> =
  Object.freeze({
    Action: [220, 50, 47],
    Adventure: [203, 75, 22],
    Animation: [181, 137, 0],
    Children: [133, 153, 0],
    "Children's": [133, 153, 0],
    Comedy: [255, 200, 40],
    Crime: [88, 110, 117],
    Documentary: [147, 161, 161],
    Drama: [38, 139, 210],
    Fantasy: [108, 113, 196],
    'Film-Noir': [20, 20, 20],
    Horror: [100, 0, 0],
    IMAX: [200, 200, 255],
    Musical: [211, 54, 130],
    Mystery: [70, 40, 110],
    Romance: [255, 120, 160],
    'Sci-Fi': [42, 161, 152],
    Thriller: [60, 60, 90],
    War: [110, 90, 50],
    Western: [190, 140, 80],
  });

function colourOf(genre: string): readonly [number, number, number] {
  const known = SYNTHETIC_GENRE_COLOURS[genre];
  if (known) return known;
  let h = 0;
  for (let i = 0; i < genre.length; i++) h = (h * 31 + genre.charCodeAt(i)) >>> 0;
  const g = 80 + (h % 120);
  return [g, g, g];
}

/**
 * A size x size poster of horizontal bands, one per genre in order (grey when none).
 * @example renderSyntheticPoster(movie, 92) // RgbaImage, deterministic
 */
export function renderSyntheticPoster(movie: Movie, size = 96): RgbaImage {
  const genres = movie.genres.length > 0 ? movie.genres : ['(none)'];
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    const [r, g, b] = colourOf(genres[Math.min(genres.length - 1, Math.floor((y * genres.length) / size))]!);
    for (let x = 0; x < size; x++) rgba.set([r, g, b, 255], (y * size + x) * 4);
  }
  return { width: size, height: size, rgba };
}
