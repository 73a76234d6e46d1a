import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { decodeNeighbors, NO_NEIGHBOR } from '../../../shared/artifacts/codecs.ts';
import { parseTextModel } from '../../../shared/content/text-model.ts';
import { runCli } from '../../../train/cli/main.ts';
import { describeWithData, sharedData } from '../../support/data.ts';

/** A 6-movie ml-100k-format catalog with 4 real posters (ids 1, 2, 3, 50), the others without. */
function tinyCatalog(): { data: string; posters: string; out: string } {
  const root = mkdtempSync(join(tmpdir(), 'embed-'));
  const data = join(root, 'data');
  const posters = join(root, 'posters');
  mkdirSync(data);
  mkdirSync(posters);
  const flags = (on: number[]) => Array.from({ length: 19 }, (_, g) => (on.includes(g) ? 1 : 0)).join('|');
  const items = [
    [1, 'Toy Story (1995)', [3, 4, 5]],
    [2, 'GoldenEye (1995)', [1, 2, 16]],
    [3, 'Four Rooms (1995)', [16]],
    [4, 'Get Shorty (1995)', [1, 5, 8]],
    [5, 'Copycat (1995)', [6, 8, 16]],
    [50, 'Star Wars (1977)', [1, 2, 14, 15, 17]],
  ] as const;
  writeFileSync(
    join(data, 'u.item'),
    items.map(([id, t, g]) => `${id}|${t}|01-Jan-1995||http://x|${flags([...g])}`).join('\n') + '\n',
  );
  const ratings: string[] = [];
  for (let u = 1; u <= 4; u++)
    for (const [id] of items) ratings.push(`${u}\t${id}\t${1 + ((u + id) % 5)}\t88125${u}${id}`);
  writeFileSync(join(data, 'u.data'), ratings.join('\n') + '\n');
  for (const id of [1, 2, 3, 50])
    copyFileSync(join(sharedData('ml-100k-posters'), `${id}.jpg`), join(posters, `${id}.jpg`));
  return { data, posters, out: join(root, 'out') };
}

describeWithData('ml-100k-posters', 'reelrank embed', () => {
  it('writes text model, embeddings, poster mask, neighbour tables and maps for a tiny catalog', async () => {
    const { data, posters, out } = tinyCatalog();
    const code = await runCli([
      'embed',
      '--data',
      data,
      '--posters',
      posters,
      '--out',
      out,
      '--k',
      '3',
      '--backend',
      'cpu',
      '--text-dim',
      '4',
    ]);
    expect(code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'embed.json'), 'utf8'));
    expect(summary.movies).toBe(6);
    expect(summary.posters).toBe(4);
    expect(summary.synthetic).toBe(false);
    const mask = Array.from(readFileSync(join(out, 'visual_mask.u8')));
    expect(mask).toEqual([1, 1, 1, 0, 0, 1]);
    // Visual neighbours: only movies with posters, never the poster-less ones.
    const visual = decodeNeighbors(
      new Uint8Array(readFileSync(join(out, 'neighbors_visual.bin'))),
      6,
      3,
      'float32',
    );
    expect(Array.from(visual.ids.subarray(0, 3)).sort()).toEqual([1, 2, 5]);
    expect(Array.from(visual.ids.subarray(3 * 3, 4 * 3))).toEqual([NO_NEIGHBOR, NO_NEIGHBOR, NO_NEIGHBOR]);
    const model = parseTextModel(readFileSync(join(out, 'text_model.json'), 'utf8'));
    expect(model.dim).toBeLessThanOrEqual(4);
    expect(readFileSync(join(out, 'content_embeddings.bin')).length).toBe(6 * model.dim * 4);
    expect(existsSync(join(out, 'map-content.svg'))).toBe(true);
    expect(existsSync(join(out, 'map-visual.svg'))).toBe(true);
    expect(existsSync(join(out, 'neighbors_hybrid.bin'))).toBe(true);
  });

  it('refuses to mix real and synthetic posters', async () => {
    const { data, posters, out } = tinyCatalog();
    const code = await runCli([
      'embed',
      '--data',
      data,
      '--posters',
      posters,
      '--synthetic-posters',
      '--out',
      out,
    ]);
    expect(code).toBe(1);
  });
});
