/**
 * The demo page in real Chromium against the real Worker in workerd: search a movie, see similar
 * movies, rate it, get recommendations with reasons. Skips visibly when no Chromium is installed
 * (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../train/data/index.ts';
import { fitBiasedMf, writeFixtureVersion } from './fixture-version.ts';
import { bundleWorker, type RunningWorker, startWorker } from './worker-harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`[skip] demo page in Chromium: needs ${CHROMIUM} (not found)`);

describeWithBrowser('demo page at / in Chromium', () => {
  let worker: RunningWorker;
  let work: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'reelrank-page-'));
    const dataset = await loadDataset();
    const version = await writeFixtureVersion(dataset, fitBiasedMf(dataset, { epochs: 4 }), {
      version: 'page-test',
    });
    worker = await startWorker(await bundleWorker('edge/index.ts', work), version);
  }, 120_000);
  afterAll(async () => {
    await worker?.mf.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('searches, shows similar movies, and recommends from a rating with reasons', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(worker.url.href);
      await expect
        .poll(() => page.textContent('#version'), { timeout: 20_000 })
        .toMatch(/version page-test · 9742 movies · 610 users/);
      await page.fill('#q', 'heat');
      await page.click('#search');
      await page.waitForSelector('#results li:has-text("Heat (1995)")');
      await page.click('#results li:has-text("Heat (1995)") [data-similar]');
      await page.waitForSelector('#similar li [data-similar]');
      expect(await page.textContent('#similar-title')).toBe('Heat');
      expect(await page.locator('#similar li').count()).toBe(10);
      await page.selectOption('#by', 'collaborative');
      await page.waitForFunction(() => document.querySelectorAll('#similar li [data-similar]').length === 10);
      await page.selectOption('#results li:has-text("Heat (1995)") select', '5');
      await expect.poll(() => page.textContent('#rated')).toContain('Heat');
      await page.click('#recommend');
      await page.waitForSelector('#recs li .reason');
      const reasons = await page.locator('#recs li .reason').allTextContents();
      expect(reasons).toHaveLength(10);
      for (const reason of reasons)
        expect(reason).toMatch(/^(because you rated Heat highly|popular in .+|popular overall)$/);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
