import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defineCommand } from 'citty';
import { type ArtifactVersion, openVersion } from '../../../shared/artifacts/loader.ts';
import { MANIFEST_FILE } from '../../../shared/artifacts/spec.ts';
import { loadServingModel } from '../../../shared/serving/from-artifacts.ts';
import { itemIndexOf, type ServingModel, userIndexOf } from '../../../shared/serving/model.ts';
import {
  knownUser,
  predictRating,
  type SessionRating,
  sessionUser,
  type UserState,
} from '../../../shared/serving/scoring.ts';
import {
  movieLabel,
  movieRef,
  resolveTitleOrThrow,
  type TitleMatch,
  titleIndexOf,
} from '../../../shared/serving/titles.ts';
import { CsvParser } from '../../data/csv.ts';
import { openVersionFolder } from '../../models/neural/version.ts';
import { S3_ARGS, storeFromFlags, versionFolder, withStore } from '../../publish/cli-support.ts';
import { CLIError } from '../errors.ts';

/** A local version folder (`artifacts/<v>`): its manifest names the version id. */
async function openFolder(path: string): Promise<ArtifactVersion> {
  const dir = versionFolder(path).root;
  let version: unknown;
  try {
    version = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')).version;
  } catch (error) {
    throw new CLIError(
      `--version ${path}: cannot read ${join(dir, MANIFEST_FILE)} (${error instanceof Error ? error.message : String(error)}); give a version folder such as artifacts/<version>`,
    );
  }
  if (typeof version !== 'string')
    throw new CLIError(`--version ${path}: ${MANIFEST_FILE} has no version id`);
  return openVersionFolder(dir, version);
}

/**
 * The ratings of an anonymous user from a CSV file with a header: a `rating` column and a
 * `movieId` or `title` column (other columns, e.g. userId and timestamp, are ignored). Titles are
 * resolved like `--title`; a bad row is an error naming the file, line and value.
 */
export async function readSessionRatings(path: string, model: ServingModel): Promise<SessionRating[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CLIError(`--ratings ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const rows: { fields: string[]; line: number }[] = [];
  const parser = new CsvParser((fields, line) => rows.push({ fields, line }));
  parser.push(text);
  parser.end();
  const header = rows.shift()?.fields.map((f) => f.trim().toLowerCase()) ?? [];
  const ratingAt = header.indexOf('rating');
  const idAt = header.indexOf('movieid');
  const titleAt = header.indexOf('title');
  if (ratingAt < 0 || (idAt < 0 && titleAt < 0)) {
    throw new CLIError(
      `--ratings ${path}: the header must name a 'rating' column and a 'movieId' or 'title' column, got '${header.join(',')}'`,
    );
  }
  const { min, max } = model.ratingScale;
  const index = titleIndexOf(model);
  const byItem = new Map<number, SessionRating>();
  for (const { fields, line } of rows) {
    if (fields.every((f) => f.trim() === '')) continue;
    const where = `${path}:${line}`;
    const rating = Number(fields[ratingAt]);
    if (!Number.isFinite(rating) || rating < min || rating > max) {
      throw new CLIError(`${where}: rating '${fields[ratingAt] ?? ''}' is not a number in ${min}..${max}`);
    }
    const idText = idAt >= 0 ? (fields[idAt]?.trim() ?? '') : '';
    let itemIndex: number;
    if (idText !== '') {
      if (!/^\d+$/.test(idText)) throw new CLIError(`${where}: movieId '${idText}' is not an integer`);
      itemIndex = itemIndexOf(model, Number(idText));
    } else {
      const title = titleAt >= 0 ? (fields[titleAt]?.trim() ?? '') : '';
      if (title === '') throw new CLIError(`${where}: the row has neither a movieId nor a title`);
      itemIndex = resolveTitleOrThrow(index, title, { version: model.version, parameter: where }).itemIndex;
    }
    byItem.set(itemIndex, { itemIndex, rating }); // a movie rated twice: the last rating counts
  }
  return [...byItem.values()];
}

/** Parses an optional integer flag; a CLIError naming the flag and value otherwise. */
function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value))
    throw new CLIError(`--${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

/**
 * `reelrank predict (--version artifacts/<v> | --store URL) (--user ID | --ratings file.csv)
 * (--title "Toy Story" [--year 1995] | --movie ID) [--json]`: the rating a user would give a
 * movie, scored by the same shared/serving code as the edge.
 */
export default defineCommand({
  meta: {
    name: 'predict',
    description:
      'Predict the rating a user (or an anonymous user given by --ratings) would give a movie named by its title.',
  },
  args: {
    version: { type: 'string', description: 'A local version folder (artifacts/<version>).' },
    store: {
      type: 'string',
      description: "A store's live version: 's3://bucket/prefix', 'file://dir' or a path.",
    },
    user: { type: 'string', description: 'A known user id of the version.' },
    ratings: {
      type: 'string',
      description:
        "An anonymous user's ratings: CSV with a header naming 'rating' and 'movieId' or 'title' (folded in, as the edge does).",
    },
    title: { type: 'string', description: 'Movie title, e.g. "Toy Story", "The Matrix (1999)".' },
    year: { type: 'string', description: 'Release year (picks one of several movies with that title).' },
    movie: { type: 'string', description: 'Movie id instead of a title.' },
    ...S3_ARGS,
    json: { type: 'boolean', default: false, description: 'Print one JSON object.' },
  },
  async run({ args }) {
    if ((args.version === undefined) === (args.store === undefined))
      throw new CLIError('give exactly one of --version artifacts/<version> or --store URL');
    if ((args.user === undefined) === (args.ratings === undefined))
      throw new CLIError(
        'give exactly one of --user ID (a known user) or --ratings file.csv (an anonymous user)',
      );
    if ((args.title === undefined) === (args.movie === undefined))
      throw new CLIError('give exactly one of --title "Toy Story" or --movie ID');
    const year = intFlag('year', args.year);
    const movieId = intFlag('movie', args.movie);
    const userId = intFlag('user', args.user);
    const title = args.title?.trim();
    if (title === '') throw new CLIError('--title must not be empty');

    const load = async (version: ArtifactVersion) => loadServingModel(version);
    const model = args.store
      ? await (() => {
          const store = storeFromFlags(args.store, args);
          return withStore(store, async () => load(await openVersion(store)));
        })()
      : await load(await openFolder(args.version!));

    let user: UserState;
    if (userId !== undefined) user = knownUser(model, userIndexOf(model, userId));
    else {
      const session = await readSessionRatings(args.ratings!, model);
      if (session.length === 0) throw new CLIError(`--ratings ${args.ratings}: no ratings in the file`);
      user = sessionUser(model, session);
    }
    let found: TitleMatch;
    if (title !== undefined)
      found = resolveTitleOrThrow(titleIndexOf(model), title, { year, version: model.version });
    else
      found = { itemIndex: itemIndexOf(model, movieId!), match: 'exact', ambiguous: false, alternatives: [] };
    const rating = predictRating(model, user, found.itemIndex);
    const result = {
      version: model.version,
      userId: userId ?? null,
      ratingCount: user.ratingCount,
      query: title ?? null,
      ...movieRef(model.movies[found.itemIndex]!),
      rating: Math.round(rating * 1e4) / 1e4,
      match: found.match,
      ambiguous: found.ambiguous,
      alternatives: found.alternatives.map((i) => movieRef(model.movies[i]!)),
      ratingScale: model.ratingScale,
    };
    if (args.json === true) {
      console.log(JSON.stringify(result));
      return;
    }
    const movie = model.movies[found.itemIndex]!;
    const who =
      userId !== undefined ? `user ${userId}` : `the user of ${args.ratings} (${user.ratingCount} ratings)`;
    console.log(
      `${movieLabel(movie)} [movieId ${movie.movieId}]${title !== undefined ? `: ${found.match} match for '${title}'` : ''}`,
    );
    console.log(
      `Predicted rating for ${who}: ${rating.toFixed(2)} on ${model.ratingScale.min}..${model.ratingScale.max} (version ${model.version})`,
    );
    if (found.ambiguous) {
      console.log(
        `Also matching (add --year or a fuller title): ${found.alternatives
          .map((i) => `${movieLabel(model.movies[i]!)} [movieId ${model.movies[i]!.movieId}]`)
          .join('; ')}`,
      );
    }
  },
});
