/** @jsxImportSource hono/jsx */
/**
 * The web page and what only it reads: `/` (server-rendered with hono/jsx), the favicon, and the
 * live version's poster thumbnails and catalog map under `/assets/<version>/...`. Those are files
 * of an immutable version, verified against its manifest, so they are served with
 * `Cache-Control: immutable`; a new version gets new URLs.
 */
import { type Context, Hono } from 'hono';
import { type ArtifactVersion, openVersion, verifyFileBytes } from '../../shared/artifacts/loader.ts';
import { ARTIFACT_FILES, versionKey } from '../../shared/artifacts/spec.ts';
import {
  type CatalogMap,
  checkCatalogMap,
  checkPosterIndex,
  type PosterIndex,
} from '../../shared/artifacts/web-parts.ts';
import { displayTitle } from '../../shared/display-title.ts';
import { isReelrankError, ReelrankError } from '../../shared/errors.ts';
import type { ServingModel } from '../../shared/serving/model.ts';
import type { AppEnv } from '../app-env.ts';
import { publicUnlessConfigured } from '../auth.ts';
import { errorBody } from '../errors.ts';
import type { LiveVersion } from '../live.ts';
import { FAVICON_SVG } from '../page/favicon.ts';
import { Page, type PageConfig } from '../page/page.tsx';
import { R2Store } from '../store/r2.ts';
import { live, similarChannels } from './common.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Per isolate: the web parts of the versions seen (newest last, at most 2). */
interface WebParts {
  artifact: ArtifactVersion;
  posters: PosterIndex | null;
  map: CatalogMap | null;
}
const partsByVersion = new Map<string, Promise<WebParts>>();

async function loadParts(env: Env, current: LiveVersion): Promise<WebParts> {
  const artifact = await openVersion(new R2Store(env.ARTIFACTS, env.ARTIFACT_PREFIX), {
    version: current.model.version,
  });
  if (artifact.manifestSha256 !== current.manifestSha256) {
    throw new ReelrankError(
      'artifact_corrupt',
      `manifest of version ${current.model.version} changed since it was loaded (sha256 ${artifact.manifestSha256}, live ${current.manifestSha256})`,
    );
  }
  const where = (name: keyof typeof ARTIFACT_FILES) =>
    `File ${ARTIFACT_FILES[name].path} of version ${artifact.version}`;
  const posters = artifact.has('posterThumbnails')
    ? checkPosterIndex(await artifact.json('posterThumbnails'), where('posterThumbnails'))
    : null;
  const map = artifact.has('catalogMap')
    ? checkCatalogMap(await artifact.json('catalogMap'), where('catalogMap'))
    : null;
  return { artifact, posters, map };
}

/** The web parts of the live version (read once per version and isolate). */
function webParts(env: Env, current: LiveVersion): Promise<WebParts> {
  const version = current.model.version;
  let parts = partsByVersion.get(version);
  if (parts === undefined) {
    parts = loadParts(env, current);
    partsByVersion.set(version, parts);
    parts.catch(() => partsByVersion.delete(version));
    while (partsByVersion.size > 2) partsByVersion.delete(partsByVersion.keys().next().value!);
  }
  return parts;
}

/** The 'by' options of the page, in menu order: only the channels the version has. */
function channelsOf(model: ServingModel): string[] {
  const has = similarChannels(model);
  return (['hybrid', 'content', 'collaborative', 'visual'] as const).filter((channel) => has[channel]);
}

/** The live version's asset, or a 404 naming why (another version, or none of this kind). */
async function versionAsset(
  c: Context<AppEnv>,
): Promise<{ current: LiveVersion; parts: WebParts } | Response> {
  const current = await live(c);
  const version = c.req.param('version');
  if (version !== current.model.version) {
    return c.json(
      errorBody(
        'not_found',
        `version ${version} is not the live version (${current.model.version}); reload the page`,
      ),
      404,
    );
  }
  return { current, parts: await webParts(c.env, current) };
}

/**
 * Routes of the web page, mounted at the root before the API's IP rate limit (a page view loads up
 * to a dozen thumbnails, each fetched once per version): `app.route('/', webRoutes())`.
 */
export function webRoutes(): Hono<AppEnv> {
  const web = new Hono<AppEnv>();
  // Public like the catalog API, unless PUBLIC_ENDPOINTS=false (then a read key); the favicon always.
  web.use('/', publicUnlessConfigured());
  web.use('/assets/*', publicUnlessConfigured());

  web.get('/', async (c) => {
    let config: PageConfig = {
      version: null,
      movies: 0,
      ratingScale: { min: 0.5, max: 5, step: 0.5 },
      channels: ['hybrid'],
      posterBase: null,
      posters: [],
      mapUrl: null,
      unavailable: null,
    };
    let status: 200 | 503 = 200;
    try {
      const current = await live(c);
      const { model } = current;
      let parts: WebParts | null = null;
      try {
        parts = await webParts(c.env, current);
      } catch (error) {
        // Without its extras the page still works: placeholders instead of posters, no map.
        if (!isReelrankError(error)) throw error;
        console.error(`reelrank: web parts of ${model.version} unavailable: ${error.message}`);
      }
      const base = `/assets/${encodeURIComponent(model.version)}`;
      config = {
        version: model.version,
        movies: model.itemCount,
        ratingScale: model.ratingScale,
        channels: channelsOf(model),
        posterBase: parts?.posters ? `${base}/posters/` : null,
        posters: parts?.posters?.movieIds ?? [],
        mapUrl: parts?.map ? `${base}/catalog-map.json` : null,
        unavailable: null,
      };
    } catch (error) {
      if (!isReelrankError(error)) throw error;
      status = 503;
      config = {
        ...config,
        unavailable:
          'No model is being served right now, so search and recommendations are unavailable. Try again in a minute.',
      };
    }
    c.header('Cache-Control', 'no-cache');
    return c.html(<Page config={config} />, status);
  });

  const favicon = (c: Context<AppEnv>) =>
    c.body(FAVICON_SVG, 200, {
      'Content-Type': 'image/svg+xml',
      'Cache-Control': 'public, max-age=86400',
    });
  web.get('/favicon.svg', favicon);
  web.get('/favicon.ico', favicon);

  web.get('/assets/:version/posters/:file{[0-9]{1,10}\\.jpg}', async (c) => {
    const found = await versionAsset(c);
    if (found instanceof Response) return found;
    const movieId = Number(c.req.param('file').slice(0, -'.jpg'.length));
    const { parts } = found;
    if (!parts.posters || !parts.artifact.has(`posters/${movieId}.jpg`)) {
      return c.json(
        errorBody('not_found', `movie ${movieId} has no poster in version ${parts.artifact.version}`),
        404,
      );
    }
    // Read and verified per request, not cached: a large catalog's thumbnails would not fit an
    // isolate's memory, and browsers keep them (immutable).
    const path = `posters/${movieId}.jpg`;
    const { artifact } = parts;
    const bytes = await artifact.store.get(versionKey(artifact.version, path));
    if (bytes === null) {
      throw new ReelrankError(
        'artifact_missing',
        `File ${path} of version ${artifact.version} does not exist.`,
      );
    }
    await verifyFileBytes(artifact.entry(path), bytes, `File ${path} of version ${artifact.version}`);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'image/jpeg',
      'Cache-Control': IMMUTABLE,
    });
  });

  web.get('/assets/:version/catalog-map.json', async (c) => {
    const found = await versionAsset(c);
    if (found instanceof Response) return found;
    const { current, parts } = found;
    if (!parts.map) {
      return c.json(errorBody('not_found', `version ${parts.artifact.version} has no catalog map`), 404);
    }
    return c.json(mapJson(current.model, parts.map), 200, { 'Cache-Control': IMMUTABLE });
  });

  return web;
}

/**
 * The map as the page draws it: [movieId, x, y, colour index] per point, the display title of each
 * point, and the colour legend: the 11 most frequent genres, each movie coloured by the most
 * specific (least frequent) of its genres among them, else 'Other' (MovieLens lists genres
 * alphabetically, so the first genre would paint half the map 'Action').
 */
function mapJson(model: ServingModel, map: CatalogMap) {
  const indexOf = new Map<number, number>();
  model.movies.forEach((m, i) => {
    indexOf.set(m.movieId, i);
  });
  const shown = map.points.filter(([movieId]) => indexOf.has(movieId));
  const genresOf = (movieId: number) => model.movies[indexOf.get(movieId)!]!.genres;
  const counts = new Map<string, number>();
  for (const [movieId] of shown) for (const g of genresOf(movieId)) counts.set(g, (counts.get(g) ?? 0) + 1);
  const legend = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 11)
    .map(([g]) => g);
  const colourOf = (movieId: number) => {
    let best = -1;
    for (const g of genresOf(movieId)) {
      const at = legend.indexOf(g);
      if (at >= 0 && (best < 0 || counts.get(g)! < counts.get(legend[best]!)!)) best = at;
    }
    return best < 0 ? legend.length : best;
  };
  return {
    version: model.version,
    method: map.method,
    genres: [...legend, 'Other'],
    points: shown.map(([movieId, x, y]) => [movieId, x, y, colourOf(movieId)]),
    titles: shown.map(([movieId]) => {
      const m = model.movies[indexOf.get(movieId)!]!;
      return displayTitle(m.title) + (m.year ? ` (${m.year})` : '');
    }),
  };
}
