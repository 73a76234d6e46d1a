import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../train/cli/main.ts';
import { loadDataset } from '../../../train/data/index.ts';

const root = mkdtempSync(join(tmpdir(), 'reelrank-malformed-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Write a dataset folder with the given files; returns its path. */
function folder(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

const MOVIES =
  'movieId,title,genres\r\n1,Toy Story (1995),Comedy\r\n2,"City of Lost Children, The (1995)",Drama\r\n';

const mlLatest = folder('ml-latest-bad', {
  'movies.csv': `${MOVIES}3,Broken row without genres\r\nx,Bad Id (2000),Drama\r\n`,
  'ratings.csv': [
    'userId,movieId,rating,timestamp',
    '1,1,4.0,964982703', // 2 ok
    '1,2,3.5', // 3 wrong field count
    '2,1,abc,964982703', // 4 non-numeric rating
    '2,2,6.0,964982703', // 5 out of range
    '2,9,3.0,964982703', // 6 unknown movie
    '3,2,0.5,964982703', // 7 ok
  ].join('\r\n'),
});

describe('malformed rows (default: report, skip, count)', () => {
  it('skips each bad row of ratings.csv and movies.csv with file:line and counts it', async () => {
    const ds = await loadDataset(mlLatest);
    expect(ds.ratings.length).toBe(2);
    expect(ds.movies.map((m) => m.title)).toEqual(['Toy Story', 'City of Lost Children, The']);
    expect(ds.summary.skippedRows).toBe(6);
    const where = ds.summary.issues.map((i) => `${i.file.split('/').pop()}:${i.line}`);
    expect(where).toEqual([
      'movies.csv:4',
      'movies.csv:5',
      'ratings.csv:3',
      'ratings.csv:4',
      'ratings.csv:5',
      'ratings.csv:6',
    ]);
    expect(ds.summary.issues[0]!.message).toMatch(/expected 3 fields \(movieId, title, genres\), found 2/);
    expect(ds.summary.issues[1]!.message).toMatch(/movieId is not a positive integer: "x"/);
    expect(ds.summary.issues[5]!.message).toMatch(/unknown movie "9"/);
  });

  it('skips a TMDB row whose JSON column does not parse, naming the column', async () => {
    const header =
      'budget,genres,homepage,id,keywords,original_language,original_title,overview,popularity,production_companies,production_countries,release_date,revenue,runtime,spoken_languages,status,tagline,title,vote_average,vote_count';
    const good = (id: number, title: string) =>
      `0,"[{""id"": 18, ""name"": ""Drama""}]",,${id},"[]",en,${title},An overview.,1.5,[],[],2001-01-01,0,90,[],Released,,${title},6.5,10`;
    const dir = folder('tmdb-bad', {
      'tmdb_5000_movies.csv': [
        header,
        ...Array.from({ length: 30 }, (_, k) => good(k + 1, `Movie ${k + 1}`)),
        `0,"[{""id"": 18, ""name"": ""Drama""",,99,"[]",en,Broken,x,1,[],[],2001-01-01,0,90,[],Released,,Broken,6,1`,
      ].join('\n'),
    });
    const ds = await loadDataset(dir);
    expect(ds.movies).toHaveLength(30);
    expect(ds.summary.skippedRows).toBe(1);
    expect(ds.summary.issues[0]).toMatchObject({ line: 32 });
    expect(ds.summary.issues[0]!.message).toMatch(/column genres is not a JSON array/);
    await expect(loadDataset(dir, { strict: true })).rejects.toThrow(
      /tmdb_5000_movies\.csv:32: column genres is not a JSON array/,
    );
  });

  it('reports a quote that is never closed at the line where its record starts', async () => {
    const dir = folder('ml-latest-quote', {
      'movies.csv': `${MOVIES}3,"Unclosed (1999),Drama\r\n4,Lost (2000),Drama\r\n`,
      'ratings.csv': 'userId,movieId,rating,timestamp\r\n1,1,4.0,1\r\n',
    });
    const ds = await loadDataset(dir);
    expect(ds.movies).toHaveLength(2);
    expect(ds.summary.issues).toEqual([
      {
        file: join(dir, 'movies.csv'),
        line: 4,
        message: expect.stringMatching(/quoted field .* never closed/),
      },
    ]);
    await expect(loadDataset(dir, { strict: true })).rejects.toThrow(/movies\.csv:4: a quoted field/);
  });

  it('names what was expected for a missing or unrecognised folder', async () => {
    await expect(loadDataset(join(root, 'nope'))).rejects.toThrow(
      /does not exist: expected a folder with ml-100k \(u\.data \+ u\.item\)/,
    );
    const other = folder('other', { 'notes.txt': 'hello' });
    await expect(loadDataset(other)).rejects.toThrow(
      /is not a dataset reelrank knows: expected .*tmdb_5000_movies\.csv.*; found notes\.txt/,
    );
  });
});

describe('--strict through the CLI', () => {
  const errors: string[] = [];
  const logs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    errors.length = 0;
    logs.length = 0;
  });

  it('fails with exit code 1 and one clear line naming file:line', async () => {
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(args.join(' ')));
    const code = await runCli(['ingest', '--data', mlLatest, '--strict']);
    expect(code).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBe(
      `reelrank: ${join(mlLatest, 'movies.csv')}:4: expected 3 fields (movieId, title, genres), found 2 [bad_input]`,
    );
    expect(logs).toEqual([]);
  });

  it('without --strict prints the summary with the skipped rows and exit code 0', async () => {
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(args.join(' ')));
    expect(await runCli(['ingest', '--data', mlLatest])).toBe(0);
    const text = logs.join('\n');
    expect(text).toMatch(/2 ratings by 2 users of 2 movies/);
    expect(text).toMatch(/skipped rows: 6/);
    expect(text).toContain(`${join(mlLatest, 'ratings.csv')}:3: expected 4 fields`);
    expect(text).toMatch(/\.\.\. and 1 more/);
  });

  it('reports a latin-1 movies.dat with a bad row and a u.data with a bad rating', async () => {
    const ml1m = folder('ml-1m-bad', {
      'movies.dat': Buffer.from('1::Mis\xe9rables, Les (1995)::Drama\n2::Missing genres\n', 'latin1'),
      'ratings.dat': '1::1::5::978300760\n1::1::9::978300761\n',
    });
    const ds = await loadDataset(ml1m);
    expect(ds.movies[0]!.title).toBe('Misérables, Les');
    expect(ds.summary.issues.map((i) => `${i.file.split('/').pop()}:${i.line}`)).toEqual([
      'movies.dat:2',
      'ratings.dat:2',
    ]);
    expect(ds.ratings.length).toBe(1);
  });
});
