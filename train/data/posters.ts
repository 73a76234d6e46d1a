import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Movie } from '../../shared/catalog.ts';
import { ReelrankError } from '../../shared/errors.ts';

const POSTER_FILE = /^(\d+)\.(jpe?g|png)$/i;

/**
 * Attach posters from a folder of `<movieId>.jpg|jpeg|png` files: sets `posterPath` (absolute
 * path) on every catalog movie that has one. Other files are ignored; when a movie has both a
 * .jpg and a .png, the first in name order wins. Returns how many movies got a poster.
 */
export async function attachPosters(
  movies: Movie[],
  dir: string,
): Promise<{ attached: number; filesSeen: number }> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ReelrankError(
      'bad_input',
      `posters folder ${dir} does not exist: expected a folder of <movieId>.jpg or <movieId>.png images`,
    );
  }
  const root = resolve(dir);
  const byId = new Map<number, string>();
  let filesSeen = 0;
  for (const name of (await readdir(root)).sort()) {
    const match = POSTER_FILE.exec(name);
    if (!match) continue;
    filesSeen++;
    const id = Number(match[1]);
    if (!byId.has(id)) byId.set(id, join(root, name));
  }
  let attached = 0;
  for (const movie of movies) {
    const path = byId.get(movie.movieId);
    if (path !== undefined) {
      movie.posterPath = path;
      attached++;
    }
  }
  return { attached, filesSeen };
}
