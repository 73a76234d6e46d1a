import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IssueLog } from '../../../train/data/issues.ts';
import {
  densifyUserIds,
  movieIndexTable,
  type RatingsFileOptions,
  readRatingsFile,
} from '../../../train/data/ratings-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'reelrank-ratings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Catalog: movies 10, 20, 30 at item indexes 0, 1, 2.
const movieIndexById = movieIndexTable([10, 20, 30]);

function options(file: string, text: string, extra: Partial<RatingsFileOptions> = {}): RatingsFileOptions {
  const path = join(dir, file);
  writeFileSync(path, text);
  return {
    path,
    separator: ',',
    header: true,
    scale: { min: 0.5, max: 5 },
    movieIndexById,
    catalogFile: 'movies.csv',
    ...extra,
  };
}

describe('readRatingsFile (byte kernel)', () => {
  const text =
    'userId,movieId,rating,timestamp\r\n7,20,4.5,964982703\r\n3,10,0.5,1\r\n7,30,5.0,4294967295\r\n';

  it('parses CRLF ratings.csv into typed arrays, movies already mapped to item indexes', async () => {
    const rows = await readRatingsFile(options('a.csv', text), new IssueLog());
    expect(rows.length).toBe(3);
    expect([...rows.userId]).toEqual([7, 3, 7]);
    expect([...rows.itemIndex]).toEqual([1, 0, 2]);
    expect([...rows.rating]).toEqual([4.5, 0.5, 5]);
    expect([...rows.timestamp]).toEqual([964982703, 1, 4294967295]);
  });

  it('gives identical columns for every read size (rows straddling chunk ends) and LF or CRLF', async () => {
    const reference = await readRatingsFile(options('b.csv', text), new IssueLog());
    for (const chunkBytes of [64, 65, 70, 97]) {
      for (const eol of ['\r\n', '\n']) {
        const body = text.replaceAll('\r\n', eol);
        // chunkBytes below one line forces buffer growth; the kernel must still agree.
        const rows = await readRatingsFile(
          options(`c${chunkBytes}.csv`, body, { chunkBytes }),
          new IssueLog(),
        );
        expect([...rows.rating]).toEqual([...reference.rating]);
        expect([...rows.timestamp]).toEqual([...reference.timestamp]);
        expect([...rows.itemIndex]).toEqual([...reference.itemIndex]);
      }
    }
  });

  it('reads u.data (tab) and ratings.dat (::) and a last line without newline', async () => {
    const tab = await readRatingsFile(
      options('u.data', '1\t10\t3\t881250949\n2\t30\t1\t891717742', {
        separator: '\t',
        header: false,
        scale: { min: 1, max: 5 },
      }),
      new IssueLog(),
    );
    expect([...tab.userId, ...tab.itemIndex, ...tab.rating]).toEqual([1, 2, 0, 2, 3, 1]);
    const colons = await readRatingsFile(
      options('ratings.dat', '1::20::5::978300760\n1::10::3::978302109\n', {
        separator: '::',
        header: false,
        scale: { min: 1, max: 5 },
      }),
      new IssueLog(),
    );
    expect([...colons.itemIndex, ...colons.rating, ...colons.timestamp]).toEqual([
      1, 0, 5, 3, 978300760, 978302109,
    ]);
  });

  it('skips the header but keeps a numeric first line of a headerless file', async () => {
    const headerless = await readRatingsFile(
      options('nohead.csv', '1,10,4.0,5\n2,20,3.0,6\n'),
      new IssueLog(),
    );
    expect([...headerless.userId]).toEqual([1, 2]);
    const log = new IssueLog();
    const withHeader = await readRatingsFile(
      options('head.csv', 'userId,movieId,rating,timestamp\n2,20,3.0,6\n'),
      log,
    );
    expect([...withHeader.userId, log.skippedRows]).toEqual([2, 0]);
  });

  it('reports each kind of bad row with file:line, skips and counts it', async () => {
    const bad = [
      'userId,movieId,rating,timestamp',
      '1,10,4.0,100', // line 2: good
      '1,10,4.0', // 3: 3 fields
      '1,20,four,100', // 4: non-numeric
      '1,20,7,100', // 5: out of range
      '1,99,3.0,100', // 6: unknown movie
      '1.5,20,3.0,100', // 7: non-integer user
      '', // 8: blank, not an issue
      '2,30,2.5,200', // 9: good
    ].join('\r\n');
    const log = new IssueLog();
    const opts = options('bad.csv', bad);
    const rows = await readRatingsFile(opts, log);
    expect(rows.length).toBe(2);
    expect(log.skippedRows).toBe(5);
    expect(log.issues.map((i) => [i.file, i.line])).toEqual([
      [opts.path, 3],
      [opts.path, 4],
      [opts.path, 5],
      [opts.path, 6],
      [opts.path, 7],
    ]);
    const messages = log.issues.map((i) => i.message);
    expect(messages[0]).toMatch(/expected 4 fields .* found 3/);
    expect(messages[1]).toMatch(/rating is not a number: "four"/);
    expect(messages[2]).toMatch(/rating "7" is outside the scale 0.5..5/);
    expect(messages[3]).toMatch(/unknown movie "99" \(not in movies.csv\)/);
    expect(messages[4]).toMatch(/userId must be a whole number, got "1.5"/);
  });

  it('with strict, throws bad_input naming file:line on the first bad row', async () => {
    const opts = options('strict.csv', 'userId,movieId,rating,timestamp\n1,10,4.0,1\n1,10,x,1\n');
    await expect(readRatingsFile(opts, new IssueLog(true))).rejects.toMatchObject({
      code: 'bad_input',
      message: `${opts.path}:3: rating is not a number: "x"`,
    });
  });
});

describe('densifyUserIds', () => {
  it('maps ids to dense indexes in ascending id order, in place, including extra users', () => {
    const column = Uint32Array.from([7, 3, 7, 12]);
    const userIds = densifyUserIds(column, [5]);
    expect([...userIds]).toEqual([3, 5, 7, 12]);
    expect([...column]).toEqual([2, 0, 2, 3]);
  });
});
