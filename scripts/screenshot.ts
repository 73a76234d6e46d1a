/**
 * The README's screenshot of the web page, from a real local run: publish a version into a fresh
 * local R2, serve it with wrangler dev (workerd), open the page in Debian's Chromium, rate three
 * movies, ask for recommendations, point at the catalog map, and save the picture.
 *
 *   npm run screenshot -- [--from artifacts/<version>] [--data DIR --posters DIR] [--out docs/screenshot.png]
 *
 * Without --from it trains first (`reelrank train` on --data / --posters, by default ml-100k and
 * its posters from ../shared/data, so the cards show real posters).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { freePort, openLocalR2, REPO_ROOT, startLocalEdge } from '../train/cli/local-edge.ts';
import { startKeys, writeSecretsFile } from '../train/cli/start-support.ts';
import { runTraining } from '../train/pipeline/train.ts';
import { publishVersion } from '../train/publish/publish.ts';
import { FsStore } from '../train/store/fs.ts';

const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    data: { type: 'string', default: join(REPO_ROOT, '../shared/data/ml-100k') },
    posters: { type: 'string', default: join(REPO_ROOT, '../shared/data/ml-100k-posters') },
    out: { type: 'string', default: join(REPO_ROOT, 'docs/screenshot.png') },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
  },
});
/** Movies the screenshot rates (searched by title; any catalog with them works). */
const RATED: [string, string][] = [
  ['star wars', '5'],
  ['fargo', '4'],
  ['toy story', '4'],
];

async function main(): Promise<void> {
  if (!existsSync(values.chromium))
    throw new Error(`${values.chromium} not found (apt-get install chromium)`);
  let versionDir = values.from ? resolve(values.from) : null;
  const work = await mkdtemp(join(tmpdir(), 'reelrank-screenshot-'));
  try {
    if (versionDir === null) {
      console.log(`training on ${values.data} with posters from ${values.posters}`);
      const result = await runTraining({
        data: values.data,
        ...(existsSync(values.posters) ? { posters: values.posters } : {}),
        out: join(work, 'artifacts'),
        quickReport: true,
        log: (line) => console.log(`  ${line}`),
      });
      versionDir = result.dir;
    }
    const persist = join(work, 'state');
    const local = await openLocalR2(persist);
    try {
      const published = await publishVersion(new FsStore(versionDir), local.store);
      console.log(`published ${published.version} into a local R2`);
    } finally {
      await local.close();
    }
    const envFiles = await writeSecretsFile(startKeys({}), { repoRoot: work, persistTo: persist });
    const output: string[] = [];
    const edge = startLocalEdge({
      port: await freePort(),
      persistTo: persist,
      envFiles,
      output: (chunk) => output.push(chunk),
    });
    const browser = await chromium.launch({
      executablePath: values.chromium,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--hide-scrollbars'],
    });
    try {
      await edge.ready;
      const page = await browser.newPage({ viewport: { width: 1280, height: 1180 }, deviceScaleFactor: 1 });
      await page.goto(`${edge.baseUrl}/`);
      await page.locator('#results .card').first().waitFor({ timeout: 30_000 });
      for (const [title, rating] of RATED) {
        await page.fill('#q', title);
        const card = page.locator('#results .card', { hasText: new RegExp(title, 'i') }).first();
        await card.waitFor({ timeout: 20_000 });
        await card.locator('select[data-rate]').selectOption(rating);
      }
      await page.fill('#q', 'the godfather');
      await page.locator('#results .card', { hasText: 'The Godfather' }).first().waitFor({ timeout: 20_000 });
      await page.fill('#predict-title', 'pulp fiction');
      await page.press('#predict-title', 'Enter');
      await page.locator('#prediction strong').waitFor({ timeout: 20_000 });
      await page.click('#recommend');
      await page.locator('#recs .card .reason').nth(5).waitFor({ timeout: 20_000 });
      // Every visible poster decoded before the picture.
      await page.waitForFunction(() =>
        Array.from(document.images).every((img) => img.loading === 'lazy' || img.complete),
      );
      await page.locator('#map circle').first().waitFor({ timeout: 20_000 });
      const dot = page.locator('#map circle').nth(40);
      await dot.hover({ force: true });
      await page.waitForTimeout(300);
      await mkdir(dirname(values.out), { recursive: true });
      await page.screenshot({ path: values.out });
      console.log(`saved ${values.out}`);
    } finally {
      await browser.close();
      edge.stop();
      await edge.exited;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
