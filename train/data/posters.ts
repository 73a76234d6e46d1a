import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Movie } from '../../shared/catalog.ts';
import { ReelrankError } from '../../shared/errors.ts';
import { readCsvFile, UNTERMINATED_QUOTE } from './csv.ts';
import type { IssueLog } from './issues.ts';

const POSTER_FILE = /^(\d+)\.(jpe?g|png)$/i;

/**
 * Attach posters from a folder of `<movieId>.jpg|jpeg|png` files: sets `posterPath` (absolute
 * path) on every catalog movie that has one. Other files are ignored; when a movie has both a
 * .jpg and a .png, the first in name order wins. A `links.csv` beside the images (movieId,
 * imdbId, tmdbId: the layout poster collections for ml-100k ship with, since ml-100k itself has
 * no links) gives TMDB ids to movies that have none yet, so a later TMDB join matches by id
 * rather than by title. Returns how many movies got a poster and how many a link.
 */
export async function attachPosters(
  movies: Movie[],
  dir: string,
  issues?: IssueLog,
): Promise<{ attached: number; filesSeen: number; linked: number }> {
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
  const linksFile = join(root, 'links.csv');
  const linked = existsSync(linksFile) ? await attachLinks(movies, linksFile, issues) : 0;
  return { attached, filesSeen, linked };
}

/** Sets tmdbId (and imdbId) from a links.csv on the movies that lack them; returns how many got one. */
async function attachLinks(movies: Movie[], file: string, issues?: IssueLog): Promise<number> {
  const byId = new Map(movies.map((m) => [m.movieId, m]));
  const skip = (line: number, message: string) => issues?.skip(file, line, message);
  let linked = 0;
  await readCsvFile(
    file,
    (fields, line) => {
      if (line === 1 && !/^\d/.test(fields[0] ?? '')) return; // header
      if (fields.length !== 3) {
        skip(line, `expected 3 fields (movieId, imdbId, tmdbId), found ${fields.length}`);
        return;
      }
      const movie = byId.get(Number(fields[0]));
      if (movie === undefined) {
        skip(line, `link for unknown movie ${JSON.stringify(fields[0])} (not in the catalog)`);
        return;
      }
      const imdb = fields[1]!.trim();
      const tmdb = fields[2]!.trim();
      if (movie.imdbId === null && /^(tt)?\d+$/.test(imdb))
        movie.imdbId = imdb.startsWith('tt') ? imdb : `tt${imdb.padStart(7, '0')}`;
      if (movie.tmdbId === null && /^\d+$/.test(tmdb)) {
        movie.tmdbId = Number(tmdb);
        linked++;
      }
    },
    { onUnterminatedQuote: (line) => skip(line, UNTERMINATED_QUOTE) },
  );
  return linked;
}
