/** @jsxImportSource hono/jsx */
/**
 * The web page at `/`, server-rendered with hono/jsx (every text escaped by JSX): the shell with
 * labelled controls and empty result regions, plus the page's configuration (version, channels,
 * rating scale, which movies have a poster) for the small client script that calls the public API.
 */
import { raw } from 'hono/html';
import { CLIENT_JS } from './client.ts';
import { PAGE_CSS } from './styles.ts';

/** What the client script needs to know about the live version. */
export interface PageConfig {
  version: string | null;
  movies: number;
  ratingScale: { min: number; max: number; step: number };
  /** Similar-movie channels the version can answer (the 'by' options). */
  channels: string[];
  /** Base URL of the version's poster thumbnails (`<base><movieId>.jpg`), null without posters. */
  posterBase: string | null;
  /** movieIds with a thumbnail. */
  posters: number[];
  /** URL of the catalog map, null when the version has none. */
  mapUrl: string | null;
  /** Why nothing is served, in plain words (no live version). */
  unavailable: string | null;
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, ' ');
}

const CHANNEL_LABELS: Record<string, string> = {
  hybrid: 'Overall (blend)',
  content: 'Story and genre',
  collaborative: 'Liked by the same people',
  visual: 'Poster look',
};

function Logo() {
  return (
    <svg class="logo" viewBox="0 0 64 64" aria-hidden="true" focusable="false">
      <rect x="4" y="8" width="56" height="48" rx="8" fill="#2d5fc4" />
      <path
        d="M32 17l4.1 8.6 9.4 1.2-6.9 6.5 1.8 9.3L32 38l-8.4 4.6 1.8-9.3-6.9-6.5 9.4-1.2z"
        fill="#f5b301"
      />
    </svg>
  );
}

/** The whole document. */
export function Page({ config }: { config: PageConfig }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>reelrank · movie recommendations</title>
        <meta name="description" content="Find movies, rate a few and get recommendations with reasons." />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <style>{raw(PAGE_CSS)}</style>
      </head>
      <body>
        <a class="skip" href="#search-heading">
          Skip to search
        </a>
        <header class="top">
          <div class="wrap">
            <Logo />
            <h1>reelrank</h1>
            <p>Rate a few movies you know; get picks with the reason for each.</p>
          </div>
        </header>
        <main class="wrap">
          {config.unavailable ? (
            <p class="panel error" role="alert">
              {config.unavailable}
            </p>
          ) : null}
          <div class="layout">
            <div>
              <section class="panel" aria-labelledby="search-heading">
                <h2 id="search-heading">Find a movie</h2>
                <search>
                  <form id="search-form" class="row" autocomplete="off">
                    <div class="field">
                      <label for="q">Title</label>
                      <input id="q" type="search" name="q" placeholder="e.g. The Matrix" />
                    </div>
                  </form>
                </search>
                <p id="results-status" class="status" role="status" aria-live="polite"></p>
                <ul id="results" class="grid" aria-labelledby="search-heading"></ul>
              </section>

              <section id="movie" class="panel" aria-labelledby="movie-heading" hidden>
                <h2 id="movie-heading">Movie</h2>
                <div id="movie-detail" class="detail"></div>
                <h3 id="similar-heading" class="row">
                  <span>Similar movies</span>
                </h3>
                <div class="row">
                  <label for="by">Similar by</label>
                  <select id="by">
                    {config.channels.map((channel) => (
                      <option value={channel}>{CHANNEL_LABELS[channel] ?? channel}</option>
                    ))}
                  </select>
                </div>
                <p id="similar-status" class="status" role="status" aria-live="polite"></p>
                <ul id="similar" class="grid" aria-labelledby="similar-heading"></ul>
              </section>

              <section class="panel" aria-labelledby="recs-heading">
                <h2 id="recs-heading">For you</h2>
                <p class="hint">Picks from the movies you rated in this tab, each with its reason.</p>
                <ul id="rated" class="chips" aria-label="Your ratings"></ul>
                <div class="row">
                  <div class="field">
                    <label for="diversity">
                      Variety:{' '}
                      <output id="diversity-value" for="diversity">
                        0.3
                      </output>
                    </label>
                    <input id="diversity" type="range" min="0" max="1" step="0.1" value="0.3" />
                  </div>
                  <button id="recommend" type="button">
                    Recommend for me
                  </button>
                </div>
                <p id="recs-status" class="status" role="status" aria-live="polite"></p>
                <ul id="recs" class="grid" aria-labelledby="recs-heading"></ul>
              </section>

              <section class="panel" aria-labelledby="user-heading">
                <h2 id="user-heading">For a known user</h2>
                <p class="hint">
                  Recommendations for a user id of this model. Needs a read key; it is kept for this tab only.
                </p>
                <form id="user-form" class="row" autocomplete="off">
                  <div class="field">
                    <label for="user-id">User id</label>
                    <input id="user-id" type="number" min="1" step="1" inputmode="numeric" required />
                  </div>
                  <div class="field" id="key-field">
                    <label for="read-key">Read key</label>
                    <input id="read-key" type="password" autocomplete="off" />
                  </div>
                  <button type="submit" id="user-go">
                    Show picks
                  </button>
                  <button type="button" id="forget-key" class="quiet" hidden>
                    Forget read key
                  </button>
                </form>
                <p id="user-status" class="status" role="status" aria-live="polite"></p>
                <ul id="user-recs" class="grid" aria-labelledby="user-heading"></ul>
              </section>
            </div>

            <div>
              <section class="panel" aria-labelledby="predict-heading">
                <h2 id="predict-heading">What would I rate this?</h2>
                <form id="predict-form" class="row" autocomplete="off">
                  <div class="field">
                    <label for="predict-title">Movie title</label>
                    <input id="predict-title" type="text" placeholder="e.g. Heat (1995)" />
                  </div>
                  <button type="submit">Predict</button>
                </form>
                <div id="prediction" class="status" role="status" aria-live="polite"></div>
              </section>

              <section class="panel" aria-labelledby="map-heading">
                <h2 id="map-heading">Map of the catalog</h2>
                <p class="hint" id="map-hint">
                  Movies liked by the same people sit close together. Point at a dot for its title; click it
                  to open the movie.
                </p>
                <div id="map" class="map-wrap"></div>
                <p id="map-status" class="status" role="status" aria-live="polite"></p>
              </section>
            </div>
          </div>
        </main>
        <footer class="wrap">
          <p id="footer-version">
            {config.version ? `Model version ${config.version} · ${config.movies} movies` : 'No model loaded'}
          </p>
          <p id="health" role="status" aria-live="polite">
            Checking service health…
          </p>
          <p>
            <a href="/openapi.json">API description (OpenAPI)</a>
          </p>
        </footer>
        <script id="config" type="application/json">
          {raw(scriptJson(config))}
        </script>
        <script>{raw(CLIENT_JS)}</script>
      </body>
    </html>
  );
}
