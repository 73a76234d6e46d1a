/**
 * `reelrank embed`: text and poster embeddings, neighbour lists and 2-D maps for one catalog,
 * written as the artifact files of shared/artifacts/spec.ts (float32 matrices, uint8 mask,
 * neighbour tables, text_model.json) plus SVG maps and a summary, into a folder. The training
 * pipeline calls the same functions; this command exists to run the content side alone (e.g.
 * with a user-supplied CNN or GloVe file) and look at the result.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ARTIFACT_FILES } from '../../shared/artifacts/spec.ts';
import { encodeMatrix, encodeNeighbors, encodeVector } from '../../shared/artifacts/codecs.ts';
import { textModelToJson } from '../../shared/content/text-model.ts';
import { ReelrankError } from '../../shared/errors.ts';
import type { BackendChoice } from '../backend.ts';
import { fitTextEmbeddings, type TextMethod } from '../content/index.ts';
import { loadDataset } from '../data/index.ts';
import { tsne } from '../viz/project.ts';
import { primaryGenres, scatterSvg } from '../viz/svg.ts';
import { genreOverlapAt } from './quality.ts';
import { type EmbeddingChannel, type NeighborTable, similarMovieLists } from './neighbors.ts';

export interface EmbedCatalogOptions {
  /** Dataset folder (default: the embedded ml-latest-small). */
  data?: string;
  tmdb?: string;
  /** Folder of <movieId>.jpg|png posters; without it there is no visual channel. */
  posters?: string;
  /** Render genre-coloured posters instead of reading real ones (explicitly synthetic). */
  syntheticPosters?: boolean;
  text?: TextMethod;
  textDim?: number;
  glove?: string;
  /** A TF.js LayersModel folder (model.json + shards) and the layer to embed with. */
  cnn?: string;
  cnnLayer?: string;
  backend?: BackendChoice;
  k?: number;
  maps?: boolean;
  out: string;
  log?: (line: string) => void;
}

export interface EmbedCatalogResult {
  out: string;
  movies: number;
  textDim: number;
  posters: number;
  synthetic: boolean;
  files: string[];
  genreJaccardAt10: Record<string, number>;
}

/** Run the content side for a catalog and write its files into `out`. */
export async function embedCatalog(options: EmbedCatalogOptions): Promise<EmbedCatalogResult> {
  const log = options.log ?? (() => {});
  const { out, k = 50, text = 'lsa' } = options;
  if (options.posters !== undefined && options.syntheticPosters) {
    throw new ReelrankError(
      'bad_input',
      '--posters and --synthetic-posters exclude each other: real posters are never mixed with rendered ones',
    );
  }
  const dataset = await loadDataset(options.data, {
    ...(options.tmdb === undefined ? {} : { tmdb: options.tmdb }),
    ...(options.posters === undefined ? {} : { posters: options.posters }),
  });
  const movies = dataset.movies;
  log(
    `dataset ${dataset.name}: ${movies.length} movies, ${movies.filter((m) => m.posterPath).length} with a poster`,
  );
  await mkdir(out, { recursive: true });
  const files: string[] = [];
  const write = async (path: string, bytes: Uint8Array | string) => {
    await mkdir(join(out, path, '..'), { recursive: true });
    await writeFile(join(out, path), bytes);
    files.push(path);
  };

  const t0 = performance.now();
  const fitted = await fitTextEmbeddings(movies, {
    method: text,
    ...(options.textDim === undefined ? {} : { lsa: { dim: options.textDim } }),
    ...(options.glove === undefined ? {} : { glovePath: options.glove }),
  });
  const textDim = fitted.model.dim;
  log(
    `text (${text}): ${textDim} dims, vocabulary ${fitted.model.vocabulary.length}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  await write(ARTIFACT_FILES.textModel.path, JSON.stringify(textModelToJson(fitted.model)));
  await write(
    ARTIFACT_FILES.contentEmbeddings.path,
    encodeMatrix(fitted.embeddings, movies.length, textDim, 'float32'),
  );
  const channels: { content: EmbeddingChannel; visual?: EmbeddingChannel } = {
    content: { name: 'content', vectors: fitted.embeddings, dim: textDim },
  };

  let posters = 0;
  let synthetic = false;
  if (options.posters !== undefined || options.syntheticPosters) {
    const { selectBackend } = await import('../backend.ts');
    const selection = await selectBackend({ backend: options.backend ?? 'auto' });
    const { embedImages, embedPosters, loadPosterCnn } = await import('../visual/cnn.ts');
    const cnn = await loadPosterCnn({
      ...(options.cnn ? { dir: options.cnn } : {}),
      ...(options.cnnLayer ? { layer: options.cnnLayer } : {}),
    });
    const t1 = performance.now();
    let embedded: Awaited<ReturnType<typeof embedPosters>>;
    if (options.syntheticPosters) {
      const { renderSyntheticPoster } = await import('../visual/synthetic.ts');
      embedded = embedImages(
        cnn,
        movies.map((m) => renderSyntheticPoster(m)),
        { synthetic: true },
      );
    } else {
      embedded = await embedPosters(
        cnn,
        movies.map((m) => m.posterPath),
        { read: (p) => readFile(p) },
      );
    }
    posters = embedded.mask.reduce((s, v) => s + v, 0);
    synthetic = embedded.synthetic;
    log(
      `posters: ${posters} embedded (${cnn.dim}-d, layer ${cnn.layer}, ${selection.name}) in ${((performance.now() - t1) / 1000).toFixed(1)} s${synthetic ? ' [SYNTHETIC]' : ''}`,
    );
    await write(
      ARTIFACT_FILES.visualEmbeddings.path,
      encodeMatrix(embedded.embeddings, movies.length, cnn.dim, 'float32'),
    );
    await write(ARTIFACT_FILES.visualMask.path, encodeVector(embedded.mask));
    channels.visual = { name: 'visual', vectors: embedded.embeddings, dim: cnn.dim, mask: embedded.mask };
  }

  const t2 = performance.now();
  const lists = similarMovieLists(channels, movies.length, { k });
  log(
    `neighbour lists (${Object.keys(lists).join(', ')}) in ${((performance.now() - t2) / 1000).toFixed(1)} s`,
  );
  const names = {
    content: 'neighborsContent',
    visual: 'neighborsVisual',
    hybrid: 'neighborsHybrid',
  } as const;
  const genreJaccardAt10: Record<string, number> = {};
  for (const [channel, name] of Object.entries(names) as [
    keyof typeof names,
    (typeof names)[keyof typeof names],
  ][]) {
    const table: NeighborTable | undefined = lists[channel];
    if (!table) continue;
    await write(
      ARTIFACT_FILES[name].path,
      encodeNeighbors(table.ids, table.scores, table.rows, table.k, 'float32'),
    );
    genreJaccardAt10[channel] =
      Math.round(
        genreOverlapAt(
          table,
          movies.map((m) => m.genres),
          10,
        ).jaccard * 1e4,
      ) / 1e4;
  }

  if (options.maps ?? true) {
    for (const [channel, c] of Object.entries(channels) as [string, EmbeddingChannel][]) {
      const rows = [...movies.keys()].filter((i) => c.mask === undefined || c.mask[i] === 1);
      const matrix = new Float32Array(rows.length * c.dim);
      rows.forEach((r, n) => {
        matrix.set(c.vectors.subarray(r * c.dim, (r + 1) * c.dim), n * c.dim);
      });
      if (rows.length < 4) continue;
      const map = tsne(matrix, rows.length, c.dim, { maxPoints: 2000 });
      const { labels, legend } = primaryGenres(
        [...map.rows].map((n) => movies[rows[n]!]!.genres),
        10,
      );
      await write(
        `map-${channel}.svg`,
        scatterSvg(map.points, labels, legend, {
          title: `${dataset.name}: ${channel === 'content' ? `text (${text}-${textDim})` : `posters${synthetic ? ' (SYNTHETIC)' : ''}`} embeddings, t-SNE`,
          subtitle: `${map.rows.length} of ${rows.length} movies; colour = most specific of the movie's genres`,
        }),
      );
    }
  }
  const result: EmbedCatalogResult = {
    out,
    movies: movies.length,
    textDim,
    posters,
    synthetic,
    files,
    genreJaccardAt10,
  };
  await write('embed.json', `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
