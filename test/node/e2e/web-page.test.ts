/**
 * The web page as a person uses it, at 1280 px and at 390 px: real wrangler dev (workerd) serving
 * a real small version (ml-latest-small, with poster thumbnails for a few movies and a catalog
 * map) from its local R2, driven by real Chromium. One wrangler dev and one browser serve every
 * flow. Each page load checks: zero console errors, no failed request (favicon included), an
 * axe-core audit with no serious or critical violation, no horizontal scrolling, every control
 * named, posters where the version has them and generated placeholders elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POINTER_KEY } from '../../../shared/artifacts/spec.ts';
import { movieRecord } from '../../../shared/catalog.ts';
import { createRng } from '../../../shared/random.ts';
import { freePort, type LocalEdge, openLocalR2, startLocalEdge } from '../../../train/cli/local-edge.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { loadDataset } from '../../../train/data/index.ts';
import { renderReport } from '../../../train/report/report.ts';
import { writePosterThumbnails } from '../../../train/visual/thumbnails.ts';
import { catalogLayout } from '../../../train/viz/catalog-map.ts';
import { REPO_ROOT } from '../../support/data.ts';
import { fitBiasedMf, writeFixtureVersion } from '../../support/fixture-version.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI === 'true') {
  throw new Error(
    `${CHROMIUM} not found: under CI the web-page test must run (.ci/run installs Debian's chromium)`,
  );
}
if (!haveChromium)
  console.warn(`[skip] web page in Chromium: ${CHROMIUM} not found (apt-get install chromium)`);

const VERSION = '2026-01-01T00-00-00Z-e2e';
const READ_KEY = 'e2e-read-key-0123456789';
/** Movies given a (generated) poster: Toy Story, Heat, The Matrix, Pulp Fiction, Forrest Gump. */
const WITH_POSTER = [1, 6, 2571, 296, 356];
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A 184 x 276 JPEG (twice the thumbnail size: the resize path runs) in a colour of its own. */
function posterJpeg(seed: number): Uint8Array {
  const width = 184;
  const height = 276;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data[o] = (seed * 53 + y) % 256;
      data[o + 1] = (seed * 97 + x) % 256;
      data[o + 2] = 140;
      data[o + 3] = 255;
    }
  return jpeg.encode({ width, height, data }, 85).data;
}

async function seedVersion(persist: string, dataset: Dataset): Promise<void> {
  const posterDir = join(persist, 'posters');
  await mkdir(posterDir, { recursive: true });
  const movies = dataset.movies.map((m) => ({ movieId: m.movieId, posterPath: null as string | null }));
  for (const [n, movieId] of WITH_POSTER.entries()) {
    const path = join(posterDir, `${movieId}.jpg`);
    await writeFile(path, posterJpeg(n + 1));
    movies.find((m) => m.movieId === movieId)!.posterPath = path;
  }
  const model = fitBiasedMf(dataset, { factors: 16, epochs: 6 });
  const counts = new Uint32Array(dataset.movies.length);
  for (let r = 0; r < dataset.ratings.length; r++) counts[dataset.ratings.itemIndex[r]!]!++;
  const fixture = await writeFixtureVersion(dataset, model, {
    version: VERSION,
    extra: async (writer) => {
      const index = await writePosterThumbnails(writer, movies, (path) => readFile(path));
      expect(index.movieIds).toEqual([...WITH_POSTER].sort((a, b) => a - b));
      const layout = catalogLayout(
        model.itemFactors,
        model.factors,
        counts,
        dataset.movies.map((m) => m.movieId),
        { method: 't-SNE of the fixture item factors', maxMovies: 300, iterations: 100 },
      );
      await writer.json('catalogMap', layout!.map);
    },
  });
  const local = await openLocalR2(persist);
  try {
    for (const [key, bytes] of fixture.files) await local.store.put(key, bytes);
    await local.store.put(POINTER_KEY, fixture.pointer);
  } finally {
    await local.close();
  }
}

interface Watch {
  consoleErrors: string[];
  failed: string[];
}

/** Opens `/` at a width and records console errors and failed requests. */
async function openPage(
  browser: Browser,
  base: string,
  width: number,
): Promise<{ page: Page; watch: Watch }> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const watch: Watch = { consoleErrors: [], failed: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') watch.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => watch.consoleErrors.push(e.message));
  page.on('requestfailed', (r) => watch.failed.push(`${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) watch.failed.push(`${r.url()} ${r.status()}`);
  });
  await page.goto(`${base}/`);
  await page.locator('#results .card').first().waitFor({ timeout: 30_000 });
  return { page, watch };
}

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: unknown[] }> } })
      .axe;
    const result = await axe.run(document);
    return result.violations as { id: string; impact: string; nodes: { target: string[] }[] }[];
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Controls without an accessible name (inputs, selects, buttons). */
async function unnamedControls(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const control of await page.locator('input, select, button').all()) {
    if (!(await control.isVisible())) continue;
    const snapshot = await control.evaluate((el) => el.outerHTML.slice(0, 80));
    const name = await control
      .evaluate((el) => {
        const labelled = el.getAttribute('aria-label') ?? '';
        const labels = 'labels' in el ? Array.from((el as HTMLInputElement).labels ?? []) : [];
        return (labelled || labels.map((l) => l.textContent).join(' ') || el.textContent || '').trim();
      })
      .catch(() => '');
    if (!name) out.push(snapshot);
  }
  return out;
}

async function checkLayout(page: Page, width: number): Promise<void> {
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scroll, `horizontal scroll at ${width} px`).toBeLessThanOrEqual(width);
}

describe.skipIf(!haveChromium)('web page in real Chromium against wrangler dev', () => {
  let persist = '';
  let edge: LocalEdge | undefined;
  let browser: Browser | undefined;
  const log: string[] = [];

  beforeAll(async () => {
    persist = await mkdtemp(join(tmpdir(), 'reelrank-e2e-'));
    await seedVersion(persist, await loadDataset());
    const secrets = join(persist, 'e2e.env');
    await writeFile(secrets, `READ_API_KEYS="${READ_KEY}"\nWRITE_API_KEYS="e2e-write-key-0123456789"\n`);
    edge = startLocalEdge({
      port: await freePort(),
      persistTo: persist,
      output: (chunk) => log.push(chunk),
      envFiles: [secrets],
    });
    await edge.ready;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    edge?.stop();
    await edge?.exited;
    await rm(persist, { recursive: true, force: true });
  });

  for (const width of [1280, 390]) {
    it(`every flow at ${width} px: search, rate, recommend, similar, predict, known user, map`, async () => {
      const { page, watch } = await openPage(browser!, edge!.baseUrl, width);

      // Popular movies on load: posters where the version has them, placeholders elsewhere.
      await checkLayout(page, width);
      const toyStory = page.locator('#results .card', { hasText: 'Toy Story' }).first();
      await page.fill('#q', 'toy story');
      await toyStory.waitFor();
      await expect
        .poll(() => toyStory.locator('img.poster').evaluate((img: HTMLImageElement) => img.naturalWidth))
        .toBe(92);
      await page.fill('#q', 'jumanji');
      const jumanji = page.locator('#results .card', { hasText: 'Jumanji' }).first();
      await jumanji.waitFor();
      expect(await jumanji.locator('img').count()).toBe(0);
      expect(await jumanji.locator('.ph').textContent()).toBe('Jumanji');

      // Display titles: "The Matrix", never "Matrix, The".
      await page.fill('#q', 'matrix');
      const matrix = page.locator('#results .card', { hasText: 'The Matrix' }).first();
      await matrix.waitFor();
      expect(await page.locator('#results').textContent()).not.toContain('Matrix, The');

      // Half-star ratings through labelled selects.
      await matrix.getByLabel('Your rating for The Matrix (1999)').selectOption('4.5');
      await page.fill('#q', 'heat');
      const heat = page.locator('#results .card', { hasText: 'Heat' }).first();
      await heat.waitFor();
      await heat.getByRole('combobox').selectOption('5');
      await expect.poll(() => page.locator('#rated .chip').count()).toBe(2);
      expect(await page.locator('#rated').textContent()).toContain('The Matrix');

      // For you: 12 picks with reasons, none of them already rated.
      await page.getByLabel(/Variety/).fill('0.5');
      await page.click('#recommend');
      await expect.poll(() => page.locator('#recs .card .reason').count(), { timeout: 20_000 }).toBe(12);
      for (const reason of await page.locator('#recs .reason').allTextContents())
        expect(reason).toMatch(
          /^(because you rated (The Matrix|Heat) highly|popular in .+|popular overall)$/,
        );
      const picks = await page.locator('#recs h3').allTextContents();
      expect(picks).not.toContain('The Matrix');
      expect(picks).not.toContain('Heat');

      // One movie: details, the channels this version has (no visual), similar movies, a prediction.
      await page.fill('#q', 'matrix');
      await matrix.waitFor();
      await matrix.locator('button[data-open]').click();
      await expect.poll(() => page.textContent('#movie-heading')).toBe('The Matrix (1999)');
      expect(
        await page.locator('#by option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
      ).toEqual(['hybrid', 'content', 'collaborative']);
      await expect.poll(() => page.locator('#similar .card').count(), { timeout: 20_000 }).toBe(8);
      await page.selectOption('#by', 'collaborative');
      await expect.poll(() => page.locator('#similar .card').count(), { timeout: 20_000 }).toBe(8);
      await page.click('#predict-movie');
      await expect
        .poll(() => page.textContent('#movie-prediction'), { timeout: 20_000 })
        .toMatch(/^About [★½]+ \d\.\d out of 5 for The Matrix \(1999\), from your 2 ratings\.$/);

      // What would I rate this: a title found, and a typo answered in plain words.
      await page.fill('#predict-title', 'pulp fiction');
      await page.press('#predict-title', 'Enter');
      await expect
        .poll(() => page.textContent('#prediction'), { timeout: 20_000 })
        .toMatch(/^About .+ out of 5 for Pulp Fiction \(1994\), from your 2 ratings\./);
      await page.fill('#predict-title', 'Matrx Reloadedd Zzz');
      await page.press('#predict-title', 'Enter');
      await expect
        .poll(() => page.textContent('#prediction'), { timeout: 20_000 })
        .toMatch(/^No movie matches/);
      expect(await page.textContent('#prediction')).not.toContain('movie_not_found');

      // A known user: a wrong read key is refused in plain words; the right one is entered once
      // (kept in sessionStorage).
      await page.fill('#user-id', '1');
      await page.fill('#read-key', 'not-the-key');
      await page.click('#user-go');
      await expect
        .poll(() => page.textContent('#user-status'), { timeout: 20_000 })
        .toBe('That read key was not accepted. Check the key and try again.');
      expect(await page.isVisible('#read-key')).toBe(true);
      await page.fill('#read-key', READ_KEY);
      await page.click('#user-go');
      await expect.poll(() => page.locator('#user-recs .card').count(), { timeout: 20_000 }).toBe(12);
      expect(await page.textContent('#user-status')).toMatch(/^Picks for user 1, who rated \d+ movies\.$/);
      expect(await page.isHidden('#read-key')).toBe(true);
      await page.fill('#user-id', '999999');
      await page.click('#user-go');
      await expect
        .poll(() => page.textContent('#user-status'), { timeout: 20_000 })
        .toBe('This model has no user with that id.');

      // The catalog map: hover names a movie, a click opens it.
      const dots = page.locator('#map circle');
      await expect.poll(() => dots.count(), { timeout: 20_000 }).toBe(300);
      const dot = dots.nth(7);
      await dot.scrollIntoViewIfNeeded();
      await dot.hover({ force: true });
      const tip = (await page.textContent('#map .tip')) ?? '';
      expect(tip).toMatch(/\(\d{4}\)$/);
      await dot.click({ force: true });
      await expect.poll(() => page.textContent('#movie-heading')).toBe(tip);

      // Footer: version and health.
      expect(await page.textContent('#footer-version')).toContain(VERSION);
      await expect.poll(() => page.textContent('#health')).toMatch(/^Service healthy/);

      await checkLayout(page, width);
      expect(await unnamedControls(page)).toEqual([]);
      expect(await axeViolations(page)).toEqual([]);
      // The three asked-for failures (a title that matches nothing, a wrong key, an unknown user), no other.
      const expected = [
        /\/v1\/predictions 404$/,
        /\/v1\/users\/1\/recommendations\?.* 401$/,
        /\/v1\/users\/999999\/recommendations\?.* 404$/,
      ];
      expect(watch.failed.filter((f) => !expected.some((e) => e.test(f)))).toEqual([]);
      expect(watch.failed).toHaveLength(3);
      expect(watch.consoleErrors.filter((e) => !/status of (401|404)/.test(e))).toEqual([]);
      expect(watch.consoleErrors).toHaveLength(3);
      await mkdir(join(REPO_ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(REPO_ROOT, `test-results/web-page-${width}.png`), fullPage: true });
      await page.close();
    });
  }

  it('report.html draws its charts offline: curves with the best epoch, maps whose points name their movie', async () => {
    const rng = createRng(3);
    const movies = Array.from({ length: 40 }, (_, i) =>
      movieRecord({
        movieId: i + 1,
        title: `Film ${i + 1}, The`,
        year: 1990 + i,
        genres: [i % 2 ? 'Drama' : 'Comedy'],
      }),
    );
    const html = renderReport({
      title: 'report',
      dataset: 'tiny',
      model: 'svdpp',
      seed: 1,
      epochs: [0.9, 0.8, 0.85].map((v, e) => ({ epoch: e + 1, trainLoss: v, validationRmse: v, seconds: 1 })),
      metrics: { holdoutRating: { rmse: 0.9 } },
      embeddings: {
        data: Float32Array.from({ length: 40 * 4 }, () => rng.normal()),
        dim: 4,
        movies,
        label: 'iALS ranking factors',
      },
      tsneIterations: 50,
    });
    const file = join(persist, 'report.html');
    await writeFile(file, html);
    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) errors.push(`network request: ${r.url()}`);
    });
    await page.goto(`file://${file}`);
    type ChartLike = {
      getDatasetMeta: (n: number) => { data: { x: number; y: number }[] };
      data: { datasets: { label: string }[] };
      tooltip: { body?: { lines: string[] }[] };
    };
    const datasets = await page.evaluate(() => {
      const get = (id: string) =>
        (window as unknown as { Chart: { getChart: (id: string) => ChartLike } }).Chart.getChart(id);
      return ['curve-validation', 'map-factors'].map((id) => get(id).data.datasets.map((d) => d.label));
    });
    expect(datasets[0]).toEqual(['validation RMSE', 'best epoch (2)']);
    expect(datasets[1]).toEqual(['Comedy', 'Drama', 'other']);
    // Hover the first point of the map: the tooltip names the movie ("The Film N (year)").
    const point = await page.evaluate(() => {
      const chart = (window as unknown as { Chart: { getChart: (id: string) => ChartLike } }).Chart.getChart(
        'map-factors',
      );
      return chart.getDatasetMeta(0).data[0]!;
    });
    await page.locator('#map-factors').scrollIntoViewIfNeeded();
    const canvas = await page.locator('#map-factors').boundingBox();
    await page.mouse.move(canvas!.x + point.x, canvas!.y + point.y);
    await expect
      .poll(() =>
        page.evaluate(() => {
          const chart = (
            window as unknown as { Chart: { getChart: (id: string) => ChartLike } }
          ).Chart.getChart('map-factors');
          return (chart.tooltip.body ?? []).flatMap((b) => b.lines).join(' ');
        }),
      )
      .toMatch(/^The Film \d+ \(\d{4}\) · Comedy$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('favicon and thumbnails are served (immutable), and a proxy error page reads in plain words', async () => {
    const favicon = await fetch(`${edge!.baseUrl}/favicon.ico`);
    expect(favicon.status).toBe(200);
    expect(favicon.headers.get('content-type')).toBe('image/svg+xml');
    const poster = await fetch(`${edge!.baseUrl}/assets/${VERSION}/posters/1.jpg`);
    expect(poster.status).toBe(200);
    expect(poster.headers.get('cache-control')).toContain('immutable');
    expect((await poster.arrayBuffer()).byteLength).toBeLessThanOrEqual(8 * 1024);
    expect((await fetch(`${edge!.baseUrl}/assets/${VERSION}/posters/2.jpg`)).status).toBe(404);
    expect((await fetch(`${edge!.baseUrl}/assets/other-version/posters/1.jpg`)).status).toBe(404);

    // A gateway answering HTML instead of JSON (the Worker never does): the page says so plainly.
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    await page.route('**/v1/recommendations', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: '<html>Bad gateway</html>' }),
    );
    await page.goto(`${edge!.baseUrl}/`);
    await page.click('#recommend');
    await expect
      .poll(() => page.textContent('#recs-status'), { timeout: 20_000 })
      .toBe('The server had a problem (HTTP 502). Please try again in a moment.');
    await page.close();
  });
});
