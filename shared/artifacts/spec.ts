/**
 * The artifact contract between training (writer) and the edge (reader): which files a version
 * holds, what each one means, and where it lives in a store. The manifest types, codecs and
 * validation live beside this file; this table is the single list of names.
 *
 * Store layout (keys relative to the store's prefix):
 *   current.json                       pointer to the live version (written last on publish)
 *   versions/<version>/manifest.json   the version's manifest (files with sha256, bytes, dtype, shape)
 *   versions/<version>/<file path>     every file the manifest lists
 */
export const POINTER_KEY = 'current.json';
export const VERSIONS_PREFIX = 'versions/';
export const MANIFEST_FILE = 'manifest.json';
export const FORMAT_VERSION = 1;

/** Key of a file of a version inside a store. */
export function versionKey(version: string, path: string): string {
  return `${VERSIONS_PREFIX}${version}/${path}`;
}

/**
 * Every named file a version may hold. Matrices are row-major with one row per item (catalog
 * order: the `item_ids` order, which the catalog's columns follow) or per user (`user_ids` order).
 * Optional files may be absent.
 */
export const ARTIFACT_FILES = Object.freeze({
  catalog: {
    path: 'catalog.json',
    kind: 'json',
    required: true,
    about:
      "The catalog's header: ratingScale, globalMean, layout 'columns' and genreSets (the distinct genre lists, which catalog_genres.bin indexes); the movies are the catalog_* columns. Versions before the columns: {movies: [{movieId, title, year, genres, tmdbId, posterPath, popularity, ratingCount, meanRating}]} (still read)",
  },
  catalogTitles: {
    path: 'catalog_titles.str',
    kind: 'strings',
    required: false,
    about: "title per item (a string column; required with catalog.json's layout 'columns')",
  },
  catalogYears: {
    path: 'catalog_years.u16',
    kind: 'vector',
    required: false,
    about: 'release year per item, uint16; 0 = unknown',
  },
  catalogGenres: {
    path: 'catalog_genres.bin',
    kind: 'vector',
    required: false,
    about:
      "per item, the index of its genre list in catalog.json's genreSets (uint16; uint32 when there are more than 65,536 lists)",
  },
  catalogRatingCounts: {
    path: 'catalog_rating_counts.u32',
    kind: 'vector',
    required: false,
    about: 'ratings per item in the training data, uint32',
  },
  catalogMeanRatings: {
    path: 'catalog_mean_ratings.f32',
    kind: 'vector',
    required: false,
    about: 'mean rating per item, float32; NaN = not rated',
  },
  catalogTmdbIds: {
    path: 'catalog_tmdb_ids.u32',
    kind: 'ids',
    required: false,
    about: 'TMDB id per item, 0 = none (absent: no item has one)',
  },
  catalogPosterPaths: {
    path: 'catalog_poster_paths.str',
    kind: 'strings',
    required: false,
    about: "poster path per item, '' = none (a string column; absent: no item has one)",
  },
  itemIds: { path: 'item_ids.u32', kind: 'ids', required: true, about: 'item index -> movieId' },
  userIds: { path: 'user_ids.u32', kind: 'ids', required: true, about: 'user index -> userId' },
  itemFactors: {
    path: 'item_factors.bin',
    kind: 'matrix',
    required: true,
    about: 'collaborative item vectors [items, k]',
  },
  userFactors: {
    path: 'user_factors.bin',
    kind: 'matrix',
    required: true,
    about: 'collaborative user vectors [users, k]',
  },
  itemBias: { path: 'item_bias.f32', kind: 'vector', required: true, about: 'item bias [items]' },
  userBias: { path: 'user_bias.f32', kind: 'vector', required: true, about: 'user bias [users]' },
  popularity: {
    path: 'popularity.f32',
    kind: 'vector',
    required: true,
    about: 'popularity score in [0,1] [items]',
  },
  seen: {
    path: 'seen.csr',
    kind: 'csr',
    required: true,
    about: 'per-user rated item indexes (CSR), excluded from recommendations',
  },
  userTopRated: {
    path: 'user_top_rated.csr',
    kind: 'csr',
    required: false,
    about: "per-user highest-rated item indexes, used for 'because you rated X' reasons",
  },
  contentEmbeddings: {
    path: 'content_embeddings.bin',
    kind: 'matrix',
    required: false,
    about: 'text-content embeddings [items, d]',
  },
  visualEmbeddings: {
    path: 'visual_embeddings.bin',
    kind: 'matrix',
    required: false,
    about: 'poster embeddings [items, 256]; rows without a poster flagged in visual_mask',
  },
  visualMask: {
    path: 'visual_mask.u8',
    kind: 'vector',
    required: false,
    about: '1 = movie has a poster embedding, 0 = none',
  },
  textModel: {
    path: 'text_model.json',
    kind: 'json',
    required: false,
    about: 'vocabulary, idf and projection to embed a new movie exactly as training did',
  },
  neighborsContent: {
    path: 'neighbors_content.bin',
    kind: 'neighbors',
    required: false,
    about: 'top-50 similar movies by text content',
  },
  neighborsVisual: {
    path: 'neighbors_visual.bin',
    kind: 'neighbors',
    required: false,
    about: 'top-50 similar movies by poster',
  },
  neighborsCollaborative: {
    path: 'neighbors_collaborative.bin',
    kind: 'neighbors',
    required: false,
    about: 'top-50 similar movies by item factors',
  },
  neighborsHybrid: {
    path: 'neighbors_hybrid.bin',
    kind: 'neighbors',
    required: false,
    about: 'top-50 similar movies by a blend',
  },
  contentToFactors: {
    path: 'content_to_factors.bin',
    kind: 'matrix',
    required: false,
    about: 'metadata projection [d, k]: content embedding -> item-factor space, for cold items',
  },
  rankItemFactors: {
    path: 'rank_item_factors.bin',
    kind: 'matrix',
    required: false,
    about:
      'ranking item vectors [items, k] (implicit ALS): the collaborative channel of recommendations when present',
  },
  rankUserFactors: {
    path: 'rank_user_factors.bin',
    kind: 'matrix',
    required: false,
    about: 'ranking user vectors [users, k] (implicit ALS), for known users',
  },
  rankGram: {
    path: 'rank_gram.bin',
    kind: 'matrix',
    required: false,
    about:
      'item Gram matrix YᵀY [k, k] of the ranking item factors: folds a session in by one k x k solve (trainingConfig.ranking holds α, λ, f(r), ν)',
  },
  itemItem: {
    path: 'item_item.csr',
    kind: 'csr',
    required: false,
    about:
      'sparse item-item (EASE) lists: per item its top-N neighbour indexes (rows of modelled items hold exactly N, others none)',
  },
  userRecent: {
    path: 'user_recent.csr',
    kind: 'csr',
    required: false,
    about: "per-user latest rated item indexes, most recent first (the ranking stage's recency signal)",
  },
  itemItemWeights: {
    path: 'item_item_weights.bin',
    kind: 'matrix',
    required: false,
    about: 'weights of item_item.csr [non-empty rows, N], int8 with one scale per row',
  },
  reranker: {
    path: 'reranker/model.json',
    kind: 'tfjs',
    required: false,
    about:
      'TF.js LayersModel of the learned ranking stage (uint8 shards beside it; trainingConfig.learnedRanking names its features)',
  },
  metrics: {
    path: 'metrics.json',
    kind: 'json',
    required: false,
    about: 'evaluation metrics of this version',
  },
  report: { path: 'report.html', kind: 'other', required: false, about: 'training report' },
  posterThumbnails: {
    path: 'posters/index.json',
    kind: 'json',
    required: false,
    about:
      'movies with a poster thumbnail for the web page; each is posters/<movieId>.jpg (small JPEG, listed in the manifest)',
  },
  catalogMap: {
    path: 'catalog_map.json',
    kind: 'json',
    required: false,
    about:
      "2-D layout of the most-rated movies (t-SNE of the ranking factors) for the web page's catalog map",
  },
} as const);

export type ArtifactName = keyof typeof ARTIFACT_FILES;
