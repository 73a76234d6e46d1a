/**
 * The CLI refuses the mistakes that used to pass silently (issue 10, item 6): a misspelled
 * option, an option without its value, a stray argument, a ratings file that yields nothing or
 * has the wrong header, an `evaluate` that would print an empty table; it prints and records the
 * rows it skipped, draws no colour codes into a pipe, documents exactly the backends it accepts,
 * and keeps the AWS SDK's Node-version warning off every command.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTO_ORDER } from '../../../train/backend.ts';
import { checkArgv, suggestOption } from '../../../train/cli/argv.ts';
import { commands, useColor } from '../../../train/cli/main.ts';
import { cli } from '../../support/cli.ts';
import { REPO_ROOT } from '../../support/data.ts';

const work = mkdtempSync(join(tmpdir(), 'reelrank-mistakes-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const EMBEDDED = join(REPO_ROOT, 'data/ml-latest-small');
const RATINGS_HEADER = 'userId,movieId,rating,timestamp';

/** A MovieLens-latest folder with the embedded catalog and the given ratings.csv text. */
function dataset(name: string, ratingsCsv: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'movies.csv'), readFileSync(join(EMBEDDED, 'movies.csv')));
  writeFileSync(join(dir, 'ratings.csv'), ratingsCsv);
  return dir;
}

/** The first `n` ratings of the embedded data, CRLF as in the original. */
function firstRatings(n: number): string[] {
  return readFileSync(join(EMBEDDED, 'ratings.csv'), 'utf8')
    .split('\r\n')
    .slice(1, n + 1);
}

describe('options are checked against each command’s declared ones', () => {
  it('a misspelled option is an error with a suggestion, for every command, before anything runs', async () => {
    for (const [name, load] of Object.entries(commands)) {
      const declared = Object.keys((await load()).args ?? {}).filter((o) => o.length >= 4);
      const option = declared[0]!;
      // Drop the last letter: '--dat' for '--data', '--jso' for '--json'.
      const typo = `--${option.slice(0, -1)}`;
      const started = performance.now();
      const { code, err } = await cli(name, typo, 'x');
      expect(code, `${name} ${typo}`).toBe(1);
      expect(err).toContain(`unknown option '${typo}' for 'reelrank ${name}'; did you mean --${option}?`);
      expect(err.split('\n')).toHaveLength(1);
      expect(performance.now() - started).toBeLessThan(5_000); // refused before loading or training
    }
  });

  it('retrain --dat DIR no longer trains the embedded data: exit 1 and nothing is published', async () => {
    const store = join(work, 'store-typo');
    const { code, err } = await cli('retrain', '--to', `file://${store}`, '--dat', join(work, 'x'));
    expect(code).toBe(1);
    expect(err).toMatch(/unknown option '--dat' for 'reelrank retrain'; did you mean --data\?/);
    expect(() => readdirSync(store)).toThrow(); // the store was never even created
  });

  it('an option that needs a value and has none is an error', async () => {
    for (const argv of [
      ['train', '--data'],
      ['train', '--data', '--model', 'svdpp'],
      ['train', '--data='],
      ['evaluate', '--models', ''],
      ['publish', '--from', 'artifacts/v', '--to'],
    ]) {
      const { code, err } = await cli(...argv);
      expect(code, argv.join(' ')).toBe(1);
      expect(err).toMatch(/^reelrank: option --(data|models|to) needs a value/);
    }
  });

  it('stray arguments, repeated options and values given to switches are errors', async () => {
    expect((await cli('train', 'ml-100k')).err).toMatch(/'reelrank train' takes no argument 'ml-100k'/);
    expect((await cli('train', '--seed', '1', '--seed', '2')).err).toMatch(/--seed is given twice/);
    expect((await cli('train', '--no-content=yes')).err).toMatch(/--content is a switch/);
    const unknownCommand = await cli('trian', '--data', 'x');
    expect(unknownCommand.code).toBe(1);
    expect(unknownCommand.err).toMatch(/unknown command 'trian' \(did you mean 'train'\?\)/);
  });

  it('accepts every spelling citty accepts: --no-x, --x=v, camelCase, an explicitly empty --gate', () => {
    const declared = {
      data: { type: 'string' },
      'dry-run': { type: 'boolean' },
      content: { type: 'boolean' },
      gate: { type: 'string' },
      tolerance: { type: 'string' },
    };
    expect(() =>
      checkArgv(
        'retrain',
        ['--data=x', '--dryRun', '--no-content', '--gate', '', '--tolerance', '-0.5'],
        declared,
      ),
    ).not.toThrow();
    expect(() => checkArgv('retrain', ['--dry-run=false'], declared)).not.toThrow();
    expect(suggestOption('dta', ['data', 'tmdb'])).toBe('data');
    expect(suggestOption('zzzzzz', ['data', 'tmdb'])).toBeUndefined();
  });
});

describe('ratings files that yield nothing', () => {
  it.each([
    ['a header-only file', `${RATINGS_HEADER}\r\n`, /ratings\.csv holds no ratings \(only a header line\)/],
    ['an empty file', '', /ratings\.csv holds no ratings \(the file is empty\)/],
    [
      'a wrong header (columns swapped)',
      `movieId,userId,rating,timestamp\r\n${firstRatings(5).join('\r\n')}\r\n`,
      /ratings\.csv:1: header 'movieId,userId,rating,timestamp' is not 'userId,movieId,rating,timestamp'/,
    ],
    [
      'a file where no row parses',
      `${RATINGS_HEADER}\r\n1;1;4.0;964982703\r\n2;3;5.0;964982703\r\n`,
      /no row of .*ratings\.csv parses: all 2 rows were malformed, the first at line 2: expected 4 fields/,
    ],
  ])('%s is one line and exit 1, for train and ingest', async (label, text, message) => {
    const dir = dataset(label.replace(/\W+/g, '-'), text);
    for (const command of ['train', 'ingest']) {
      const { code, err } = await cli(
        command,
        '--data',
        dir,
        ...(command === 'train' ? ['--out', work] : []),
      );
      expect(code, `${command}: ${label}`).toBe(1);
      expect(err).toMatch(message);
      expect(err.split('\n')).toHaveLength(1);
    }
  });

  it('an unparsable ratings file exits non-zero through the real bin', () => {
    const dir = dataset('bin-unparsable', `${RATINGS_HEADER}\r\nnot,a,rating,row\r\n`);
    const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/reelrank.mjs'), 'ingest', '--data', dir], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/no row of .*ratings\.csv parses/);
  });
});

describe('train reports what it skipped', () => {
  it('prints the count of skipped rows and records it in the manifest', async () => {
    const bad = ['1,notanid,4.0,964982703', '1,1,9.0,964982703'];
    const dir = dataset(
      'with-bad-rows',
      `${RATINGS_HEADER}\r\n${[...firstRatings(2000), ...bad].join('\r\n')}\r\n`,
    );
    const out = join(work, 'skipped-out');
    const run = await cli(
      'train',
      '--data',
      dir,
      '--model',
      'mf-sgd',
      '--no-content',
      '--no-neighbors',
      '--out',
      out,
    );
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/skipped rows: 2 \(first: .*ratings\.csv:2002: movieId is not a number/);
    const [version] = readdirSync(out);
    const manifest = JSON.parse(readFileSync(join(out, version!, 'manifest.json'), 'utf8'));
    expect(manifest.trainingConfig.skippedRows).toBe(2);
    expect(manifest.trainingConfig.ratings).toBe(2000);
  });
});

describe('evaluate', () => {
  it('says a model cannot run on the protocol instead of printing an empty table', async () => {
    const { code, out, err } = await cli('evaluate', '--models', 'ials,bpr', '--protocol', 'official');
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/--protocol official measures rating predictions, and ials, bpr predict no ratings/);
  });

  it('refuses --models or --protocol beside --versions instead of ignoring them', async () => {
    const { code, err } = await cli('evaluate', '--versions', join(work, 'v'), '--protocol', 'ncf');
    expect(code).toBe(1);
    expect(err).toMatch(
      /--versions compares the metrics\.json of trained versions; --protocol would be ignored/,
    );
  });
});

describe('output for people and for pipes', () => {
  it('no colour codes when stdout is not a terminal, or with NO_COLOR', async () => {
    expect(useColor({}, true)).toBe(true);
    expect(useColor({}, false)).toBe(false);
    expect(useColor({ NO_COLOR: '1' }, true)).toBe(false);
    expect(useColor({ NO_COLOR: 'yes' }, true)).toBe(false);
    expect(useColor({ TERM: 'dumb' }, true)).toBe(false);
    // Through the real bin into a pipe (citty colours unconditionally unless stripped).
    const help = execFileSync(process.execPath, [join(REPO_ROOT, 'bin/reelrank.mjs'), 'train', '--help'], {
      encoding: 'utf8',
      env: { ...process.env, CI: '', TEST: '', NO_COLOR: '' },
    });
    expect(help).toContain('--backend');
    expect(help).not.toContain('\u001b[');
    const { err } = await cli('trian');
    expect(err).not.toContain('\u001b[');
  });

  it('train --help lists exactly the backends --backend accepts', async () => {
    const { out } = await cli('train', '--help');
    const line = out.split('\n').find((l) => l.includes('--backend'))!;
    const listed = line
      .match(/: (.*?);/)![1]!
      .replace(/\([^)]*\)/g, '')
      .split(/,\s*|\s+or\s+/);
    expect(listed.map((b) => b.trim())).toEqual(['auto', ...AUTO_ORDER]);
    const { parseBackendChoice } = await import('../../../train/backend.ts');
    for (const backend of listed) expect(parseBackendChoice(backend.trim())).toBe(backend.trim());
  });

  it('the AWS SDK Node-version warning is not printed by a command that opens an S3 store', () => {
    // The child must not inherit the switch from this process (the CLI sets it when imported).
    delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const run = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, 'bin/reelrank.mjs'),
        'versions',
        '--store',
        's3://bucket/prefix',
        '--endpoint',
        'http://127.0.0.1:9', // nothing listens: the command fails, after creating the client
        '--region',
        'us-east-1',
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_MAX_ATTEMPTS: '1',
        },
        timeout: 60_000,
      },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).not.toMatch(/NodeVersionSupportWarning|will require node/);
  });
});
