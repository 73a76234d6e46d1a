import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { NO_NEIGHBOR } from '../../../shared/artifacts/codecs.ts';
import { ReelrankError } from '../../../shared/errors.ts';
import { runTraining } from '../../../train/pipeline/train.ts';
import { describeWithData, sharedData } from '../../support/data.ts';

// ml-100k movies 1..40 (all have a poster in ml-100k-posters) and 5 that have none.
const WITH_POSTER = Array.from({ length: 40 }, (_, i) => i + 1);
const WITHOUT_POSTER = [330, 387, 563, 767, 868];

describeWithData(['ml-100k', 'ml-100k-posters'], 'reelrank train --posters', () => {
  const work = mkdtempSync(join(tmpdir(), 'reelrank-posters-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('exports poster embeddings, their mask and visual neighbours, serves by=visual and maps them in the report', async () => {
    const source = sharedData('ml-100k');
    const posters = sharedData('ml-100k-posters');
    const hasPoster = (id: number) =>
      existsSync(join(posters, `${id}.jpg`)) || existsSync(join(posters, `${id}.png`));
    expect(WITH_POSTER.every(hasPoster)).toBe(true);
    expect(WITHOUT_POSTER.some(hasPoster)).toBe(false);

    // A small real ml-100k folder: those 45 movies (u.item is Latin-1: keep the bytes) and their ratings.
    const keep = new Set([...WITH_POSTER, ...WITHOUT_POSTER]);
    const data = join(work, 'ml-100k-small');
    mkdirSync(data);
    const items = readFileSync(join(source, 'u.item'), 'latin1')
      .split('\n')
      .filter((line) => keep.has(Number(line.split('|')[0])));
    writeFileSync(join(data, 'u.item'), `${items.join('\n')}\n`, 'latin1');
    const ratings = readFileSync(join(source, 'u.data'), 'utf8')
      .split('\n')
      .filter((line) => keep.has(Number(line.split('\t')[1])));
    writeFileSync(join(data, 'u.data'), `${ratings.join('\n')}\n`);
    for (const file of ['u.genre', 'u.user']) copyFileSync(join(source, file), join(data, file));

    const lines: string[] = [];
    const result = await runTraining({
      data,
      posters,
      out: join(work, 'artifacts'),
      model: 'mf-sgd',
      content: false,
      quickReport: true,
      seed: 5,
      log: (line) => lines.push(line),
    });
    expect(lines.some((l) => /^posters: 40\/40 embedded/.test(l))).toBe(true);

    const manifest = JSON.parse(readFileSync(join(result.dir, 'manifest.json'), 'utf8')) as {
      files: { path: string; dtype: string; shape: number[] }[];
      trainingConfig: { visualEmbeddings: { posters: number; dim: number } | null };
    };
    const file = (path: string) => manifest.files.find((f) => f.path === path);
    expect(file('visual_embeddings.bin')).toMatchObject({ dtype: 'int8', shape: [45, 256] });
    expect(file('visual_mask.u8')).toMatchObject({ dtype: 'uint8', shape: [45] });
    expect(file('neighbors_visual.bin')?.shape).toEqual([45, 50]);
    expect(manifest.trainingConfig.visualEmbeddings).toMatchObject({ posters: 40, dim: 256 });

    const { FsStore } = await import('../../../train/store/fs.ts');
    const { openVersion } = await import('../../../shared/artifacts/loader.ts');
    const { loadServingModel } = await import('../../../shared/serving/from-artifacts.ts');
    const { similar } = await import('../../../shared/serving/scoring.ts');
    const storeRoot = join(work, 'store');
    mkdirSync(join(storeRoot, 'versions'), { recursive: true });
    symlinkSync(result.dir, join(storeRoot, 'versions', result.version));
    const version = await openVersion(new FsStore(storeRoot), { version: result.version });

    // Mask: 1 exactly for the movies with a poster file (catalog order = item indexes).
    const itemIds = await version.ids('itemIds');
    const mask = await version.vector('visualMask');
    expect(mask).toBeInstanceOf(Uint8Array);
    expect(Array.from(mask)).toEqual(Array.from(itemIds, (id) => (hasPoster(id) ? 1 : 0)));
    const embeddings = await version.matrix('visualEmbeddings');
    expect(embeddings).toMatchObject({ dtype: 'int8', rows: 45, cols: 256 });
    // No made-up vector: a movie without a poster has an all-zero row.
    for (let i = 0; i < 45; i++) {
      const row = embeddings.values.subarray(i * 256, (i + 1) * 256);
      expect(row.some((v) => v !== 0)).toBe(mask[i] === 1);
    }

    // Visual lists: rows of movies with a poster hold only movies with a poster (never themselves);
    // rows of movies without one are empty.
    const lists = await version.neighbors('neighborsVisual');
    for (let i = 0; i < lists.rows; i++) {
      const row = Array.from(lists.ids.subarray(i * lists.k, (i + 1) * lists.k)).filter(
        (j) => j !== NO_NEIGHBOR,
      );
      if (mask[i] === 1) {
        expect(row.length).toBe(39);
        expect(row.every((j) => mask[j] === 1 && j !== i)).toBe(true);
      } else {
        expect(row).toEqual([]);
      }
    }

    // Serving (what the edge runs for GET /v1/movies/:id/similar?by=visual).
    const serving = await loadServingModel(version);
    const withPoster = itemIds.indexOf(1);
    const withoutPoster = itemIds.indexOf(330);
    const top = similar(serving, withPoster, 'visual', 5);
    expect(top).toHaveLength(5);
    expect(top.every((s) => mask[s.itemIndex] === 1 && s.itemIndex !== withPoster)).toBe(true);
    expect(top[0]!.score).toBeGreaterThanOrEqual(top[4]!.score);
    // A movie without a poster gets no made-up visual neighbours (an empty list, not an error:
    // the serving code answers from the precomputed list, which is empty for it).
    expect(() => similar(serving, withoutPoster, 'visual', 5)).toThrow(
      expect.objectContaining({ code: 'no_visual_neighbors', message: expect.stringContaining('movie 330') }),
    );
    // A version without visual lists refuses by=visual with a typed error.
    const { visual: _visual, ...otherLists } = serving.neighbors;
    expect(() => similar({ ...serving, neighbors: otherLists }, withPoster, 'visual', 5)).toThrow(
      ReelrankError,
    );

    const html = readFileSync(join(result.dir, 'report.html'), 'utf8');
    expect(html).toContain('40 of 45 movies have a poster');
    expect(html).toContain('poster embeddings (global_average_pooling2d_1): 40 movies');

    // Thumbnails for the web page: one verified file per poster, listed in posters/index.json.
    const index = await version.json<{ movieIds: number[]; width: number; height: number }>(
      'posterThumbnails',
    );
    expect(index).toMatchObject({ width: 92, height: 138, movieIds: WITH_POSTER });
    for (const id of WITH_POSTER) {
      const thumb = await version.bytes(`posters/${id}.jpg`);
      expect(thumb.length).toBeLessThanOrEqual(8 * 1024);
      expect(Array.from(thumb.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff]);
    }
    expect(version.has('posters/330.jpg')).toBe(false);
    expect(lines.some((l) => /^poster thumbnails: 40 /.test(l))).toBe(true);
  }, 60_000);
});
