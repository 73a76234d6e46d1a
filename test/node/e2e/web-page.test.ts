/**
 * The web page as a person uses it: real wrangler dev (workerd) serving a real small version from
 * its local R2, driven by real Chromium. Search a movie, open its similar movies, rate two movies,
 * ask for recommendations and check they come with reasons and exclude what was rated.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POINTER_KEY } from '../../../shared/artifacts/spec.ts';
import { type LocalEdge, openLocalR2, startLocalEdge } from '../../../train/cli/local-edge.ts';
import { loadDataset } from '../../../train/data/index.ts';
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

describe.skipIf(!haveChromium)('web page in real Chromium against wrangler dev', () => {
  let persist = '';
  let edge: LocalEdge | undefined;
  let browser: Browser | undefined;
  const log: string[] = [];

  beforeAll(async () => {
    persist = await mkdtemp(join(tmpdir(), 'reelrank-e2e-'));
    const dataset = await loadDataset();
    const model = fitBiasedMf(dataset, { factors: 16, epochs: 6 });
    const fixture = await writeFixtureVersion(dataset, model, { version: '2026-01-01T00-00-00Z-e2e' });
    const local = await openLocalR2(persist);
    try {
      for (const [key, bytes] of fixture.files) await local.store.put(key, bytes);
      await local.store.put(POINTER_KEY, fixture.pointer);
    } finally {
      await local.close();
    }
    edge = startLocalEdge({ port: await freePort(), persistTo: persist, output: (chunk) => log.push(chunk) });
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
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    edge?.stop();
    await edge?.exited;
    await rm(persist, { recursive: true, force: true });
  });

  it('searches, shows similar movies, and recommends with reasons from two ratings', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 1400 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${edge!.baseUrl}/`);
    await expect
      .poll(() => page.textContent('#version'), { timeout: 20_000 })
      .toMatch(/version 2026-01-01T00-00-00Z-e2e/);

    await page.fill('#q', 'Toy Story');
    await page.click('#search');
    const toyStory = page.locator('#results li', { hasText: 'Toy Story' }).first();
    await toyStory.waitFor();
    await toyStory.locator('button[data-similar]').click();
    await expect.poll(() => page.textContent('#similar-title'), { timeout: 20_000 }).toContain('Toy Story');
    await expect.poll(() => page.locator('#similar li [data-similar]').count(), { timeout: 20_000 }).toBe(10);
    await page.selectOption('#by', 'collaborative');
    await page.waitForFunction(() => document.querySelectorAll('#similar li [data-similar]').length === 10);

    await toyStory.locator('select[data-rate]').selectOption('5');
    await page.fill('#q', 'Heat');
    await page.click('#search');
    const heat = page.locator('#results li', { hasText: 'Heat' }).first();
    await heat.waitFor();
    await heat.locator('select[data-rate]').selectOption('5');
    await expect.poll(() => page.locator('#rated li').count(), { timeout: 20_000 }).toBe(2);

    await page.click('#recommend');
    await expect.poll(() => page.locator('#recs .reason').count(), { timeout: 20_000 }).toBe(10);
    const reasons = await page.locator('#recs .reason').allTextContents();
    for (const reason of reasons) {
      expect(reason).toMatch(/^(because you rated (Toy Story|Heat) highly|popular in .+|popular overall)$/);
    }
    const recommended = await page.locator('#recs li').allTextContents();
    expect(recommended.some((text) => text.includes('Toy Story (1995)'))).toBe(false);

    await mkdir(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results/web-page.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
