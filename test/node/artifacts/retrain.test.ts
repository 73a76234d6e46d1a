/**
 * The scheduled retraining job: the quality gate on hand-computed cases, and `retrain` end to end
 * against an in-process S3 server (s3rver) with real training on a sample of the embedded
 * ml-latest-small: first publish, "nothing changed" on the same data, and a candidate trained on
 * a broken (much smaller) delivery of the data refused by the gate while the live version stays.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPointer } from '../../../shared/artifacts/loader.ts';
import { cli } from '../../support/cli.ts';
import { qualityGate, retrain } from '../../../train/publish/retrain.ts';
import { S3Store } from '../../../train/store/s3.ts';
import { REPO_ROOT } from '../../support/data.ts';
import { S3RVER_CREDENTIALS, startS3 } from './s3-server.ts';

describe('qualityGate', () => {
  const live = { holdoutRating: { rmse: 0.9 }, holdoutRanking: { 'ndcg@10': 0.2 } };
  const gate = ['holdoutRating.rmse', 'holdoutRanking.ndcg@10'];

  it('lets each metric be up to `tolerance` worse in its own direction', () => {
    // rmse limit 0.9 * 1.02 = 0.918 (lower is better); ndcg limit 0.2 * 0.98 = 0.196 (higher is better)
    const ok = qualityGate(
      live,
      { holdoutRating: { rmse: 0.917 }, holdoutRanking: { 'ndcg@10': 0.197 } },
      gate,
      0.02,
    );
    expect(ok.pass).toBe(true);
    expect(ok.checks.map((c) => Number(c.limit.toFixed(6)))).toEqual([0.918, 0.196]);
    const worseRmse = qualityGate(
      live,
      { holdoutRating: { rmse: 0.919 }, holdoutRanking: { 'ndcg@10': 0.3 } },
      gate,
      0.02,
    );
    expect(worseRmse.checks.map((c) => c.pass)).toEqual([false, true]);
    expect(worseRmse.pass).toBe(false);
    const worseNdcg = qualityGate(
      live,
      { holdoutRating: { rmse: 0.5 }, holdoutRanking: { 'ndcg@10': 0.195 } },
      gate,
      0.02,
    );
    expect(worseNdcg.checks.map((c) => c.pass)).toEqual([true, false]);
    expect(
      qualityGate(live, { holdoutRating: { rmse: 0.9 }, holdoutRanking: { 'ndcg@10': 0.2 } }, gate, 0).pass,
    ).toBe(true);
  });

  it('skips metrics one side lacks, and passes when there is no live version', () => {
    const result = qualityGate(
      { holdoutRating: { rmse: 0.9 } },
      { holdoutRanking: { 'ndcg@10': 0.1 } },
      gate,
      0.02,
    );
    expect(result.checks).toEqual([]);
    expect(result.skipped).toEqual(gate);
    expect(result.pass).toBe(true);
    expect(qualityGate(null, { holdoutRating: { rmse: 2 } }, gate, 0.02).pass).toBe(true);
  });

  it('rejects a malformed metric name or tolerance, naming the allowed form', () => {
    expect(() => qualityGate(live, {}, ['rmse'], 0.02)).toThrow(/'rmse' is not 'section.metric'/);
    expect(() => qualityGate(live, {}, gate, -1)).toThrow(/--tolerance must be a number >= 0, got -1/);
  });
});

describe('what can be trained into a served version', () => {
  it('refuses evaluate-only and tower models before any training, naming the factor models', async () => {
    const { versionKind } = await import('../../../train/pipeline/train.ts');
    expect(await versionKind('svdpp')).toBe('factors');
    expect(await versionKind('two-stage')).toBe('factors');
    expect(await versionKind('ncf-gmf')).toBe('neural');
    expect(await versionKind('ease')).toBeNull();
    const { runTraining } = await import('../../../train/pipeline/train.ts');
    const started = performance.now();
    await expect(runTraining({ model: 'ease', out: join(tmpdir(), 'reelrank-never') })).rejects.toThrow(
      /model 'ease' has neither a factor form nor an exportable TF.js tower.*svdpp, mf-sgd, mf-als, two-stage/,
    );
    expect(performance.now() - started).toBeLessThan(5_000); // no dataset load, no fit
    const { FsStore } = await import('../../../train/store/fs.ts');
    const store = new FsStore(mkdtempSync(join(tmpdir(), 'reelrank-retrain-neural-')));
    await expect(retrain({ store, training: { model: 'ncf-gmf' } })).rejects.toThrow(
      /model 'ncf-gmf' writes a neural version without factors, which the edge refuses/,
    );
    expect(await readPointer(store)).toBeNull();
  });
});

describe('reelrank retrain against S3 (s3rver)', () => {
  const work = mkdtempSync(join(tmpdir(), 'reelrank-retrain-'));
  let s3: Awaited<ReturnType<typeof startS3>>;
  let store: S3Store;
  /**
   * The first `ratings` ratings of the embedded ml-latest-small, with its full catalog, in
   * `<name>/<dataset>`: one dataset (folder name) for every delivery unless a test changes it.
   */
  const sample = (name: string, ratings: number, datasetName = 'ml-latest-sample'): string => {
    const source = join(REPO_ROOT, 'data/ml-latest-small');
    const dir = join(work, name, datasetName);
    mkdirSync(dir, { recursive: true });
    const lines = readFileSync(join(source, 'ratings.csv'), 'utf8')
      .split('\r\n')
      .slice(0, ratings + 1);
    writeFileSync(join(dir, 'ratings.csv'), `${lines.join('\r\n')}\r\n`);
    writeFileSync(join(dir, 'movies.csv'), readFileSync(join(source, 'movies.csv')));
    return dir;
  };
  beforeAll(async () => {
    s3 = await startS3();
    store = new S3Store({
      bucket: s3.bucket,
      prefix: 'prod',
      endpoint: s3.endpoint,
      region: 'us-east-1',
      credentials: S3RVER_CREDENTIALS,
    });
  });
  afterAll(async () => {
    store.destroy();
    await s3.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('publishes the first version, then does nothing while the data is unchanged', async () => {
    const data = sample('full', 6000);
    const training = {
      data,
      out: join(work, 'artifacts'),
      model: 'mf-sgd',
      content: false,
      quickReport: true,
    };
    const first = await retrain({ store, training });
    expect(first.outcome).toBe('published');
    expect(first.gate).toBeNull();
    expect((await readPointer(store))?.version).toBe(first.candidate);

    const again = await retrain({ store, training });
    expect(again.outcome).toBe('unchanged');
    expect(again.candidate).toBeNull();
    expect((await readPointer(store))?.version).toBe(first.candidate);
  });

  it('refuses (exit 3) a candidate trained on a broken, much smaller delivery; the live version stays', async () => {
    const liveBefore = (await readPointer(store))?.version;
    expect(liveBefore).toBeDefined();
    const data = sample('broken', 600);
    const { code, out, err } = await cli(
      'retrain',
      '--to',
      `s3://${s3.bucket}/prod`,
      '--endpoint',
      s3.endpoint,
      '--region',
      'us-east-1',
      '--access-key-id',
      S3RVER_CREDENTIALS.accessKeyId,
      '--secret-access-key',
      S3RVER_CREDENTIALS.secretAccessKey,
      '--data',
      data,
      '--model',
      'mf-sgd',
      '--no-content',
      '--out',
      join(work, 'artifacts'),
      '--json',
    );
    const result = JSON.parse(out.split('\n').at(-1)!) as {
      outcome: string;
      candidateDir: string;
      gate: { checks: { metric: string; live: number; candidate: number; pass: boolean }[] };
    };
    expect(result.outcome).toBe('refused');
    expect(code).toBe(3);
    expect(err).toMatch(/refused by the quality gate: .* stays live/);
    expect(result.gate.checks.some((c) => !c.pass)).toBe(true);
    expect((await readPointer(store))?.version).toBe(liveBefore);
    expect(readFileSync(join(result.candidateDir, 'manifest.json'), 'utf8')).toContain('"formatVersion"');
  });

  it('refuses (exit 3) data of another dataset than live before training, unless --allow-dataset-change', async () => {
    const liveBefore = (await readPointer(store))?.version;
    const other = sample('other', 5000, 'another-dataset');
    const argv = [
      'retrain',
      '--to',
      `s3://${s3.bucket}/prod`,
      '--endpoint',
      s3.endpoint,
      '--region',
      'us-east-1',
      '--access-key-id',
      S3RVER_CREDENTIALS.accessKeyId,
      '--secret-access-key',
      S3RVER_CREDENTIALS.secretAccessKey,
      '--data',
      other,
      '--model',
      'mf-sgd',
      '--no-content',
      '--out',
      join(work, 'artifacts-other'),
      '--json',
    ];
    const refused = await cli(...argv);
    expect(refused.code).toBe(3);
    expect(refused.err).toMatch(
      /refused: the data is 'another-dataset', the live version .* was trained on 'ml-latest-sample'.*--allow-dataset-change/,
    );
    const result = JSON.parse(refused.out.split('\n').at(-1)!);
    expect(result).toMatchObject({
      outcome: 'refused',
      candidate: null,
      datasetChange: { live: 'ml-latest-sample', candidate: 'another-dataset' },
    });
    expect(() => readdirSync(join(work, 'artifacts-other'))).toThrow(); // nothing was trained
    expect((await readPointer(store))?.version).toBe(liveBefore);

    const allowed = await cli(...argv, '--allow-dataset-change', '--dry-run', '--gate', '');
    expect(allowed.code, allowed.err).toBe(0);
    expect(JSON.parse(allowed.out.split('\n').at(-1)!)).toMatchObject({
      outcome: 'dry-run',
      datasetChange: null,
    });
    expect((await readPointer(store))?.version).toBe(liveBefore);
  });

  it('--canary 10 publishes a passing candidate beside the live version instead of replacing it', async () => {
    const liveBefore = (await readPointer(store))!.version;
    const bad = await cli('retrain', '--to', `s3://${s3.bucket}/prod`, '--canary', '100');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--canary takes a percent above 0 and below 100');
    const result = await retrain({
      store,
      training: {
        data: sample('more', 6500),
        out: join(work, 'artifacts-canary'),
        model: 'mf-sgd',
        content: false,
        quickReport: true,
      },
      gate: [],
      canaryPercent: 10,
    });
    expect(result.outcome).toBe('published');
    const pointer = (await readPointer(store))!;
    expect(pointer.version).toBe(liveBefore);
    expect(pointer.canary).toMatchObject({ version: result.candidate, percent: 10 });
  });
});
