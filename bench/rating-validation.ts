/**
 * `npm run bench -- rating-validation [model...]` — how the u1 rating models' settings were
 * chosen: every candidate is fitted on u1.base MINUS a per-user 10 % validation carve
 * (`carveValidation`, seed 0) and scored by RMSE on that carve. u1.test is never read here.
 * With `--latest`, the same on the training rows of ml-latest-small's random 90/10 split.
 *
 * Writes bench/results/rating-validation.json: {candidate, validationRmse, trainSeconds} rows,
 * merged with earlier runs by candidate name.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../train/data/index.ts';
import { carveValidation, randomSplit } from '../train/eval/protocols.ts';
import { IAutoRec } from '../train/models/autorec.ts';
import { rowsRmse } from '../train/models/baselines.ts';
import { BayesianFm } from '../train/models/bayesian-fm.ts';
import { RidgeBlend } from '../train/models/blend.ts';
import { createModel, ratingBlendMembers } from '../train/models/registry.ts';
import type { Recommender } from '../train/models/types.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedData = process.env.REELRANK_SHARED_DATA ?? resolve(repoRoot, '../shared/data');
const resultsFile = join(repoRoot, 'bench/results/rating-validation.json');
const SEED = 0;

/**
 * Candidates by name. `bfm:k=64,it=400,burn=100,thin=2,feat=uipm` is a Bayesian FM with those
 * settings; `feat` letters switch on user-implicit (u), item-implicit (i), user profile (p) and
 * item metadata (m). `autorec:h=500,it=200,reg=1,lr=0.01` is a full-batch (iRprop−) I-AutoRec.
 * `blend:folds=5` is the registry blend stacked by K-fold; `blend:plus=uipm` adds a second
 * Bayesian FM (32 factors, 400 sweeps) with those features. Other names are registry models (`svdpp`, ...).
 */
function candidate(name: string): Recommender {
  const [kind, spec = ''] = name.split(':') as [string, string?];
  if (kind !== 'bfm' && kind !== 'autorec' && kind !== 'blend') return createModel(name);
  const settings = new Map(
    spec
      .split(',')
      .filter((kv) => kv.length > 0)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const number = (key: string, fallback: number) => Number(settings.get(key) ?? fallback);
  if (kind === 'blend') {
    // `plus=uipm` appends a second Bayesian FM with those feature letters to the members.
    const plus = settings.get('plus');
    const members = plus
      ? () => [
          ...ratingBlendMembers(),
          new BayesianFm({
            factors: 32,
            iterations: 400,
            burnIn: 100,
            thin: 2,
            features: {
              userImplicit: plus.includes('u'),
              itemImplicit: plus.includes('i'),
              userProfile: plus.includes('p'),
              itemMetadata: plus.includes('m'),
            },
          }),
        ]
      : ratingBlendMembers;
    return new RidgeBlend(members, { folds: number('folds', 1) });
  }
  if (kind === 'autorec') {
    return new IAutoRec({
      optimizer: 'rprop',
      hidden: number('h', 500),
      epochs: number('it', 200),
      reg: number('reg', 1),
      learningRate: number('lr', 0.01),
    });
  }
  const feat = settings.get('feat') ?? 'uipm';
  return new BayesianFm({
    factors: number('k', 32),
    iterations: number('it', 200),
    burnIn: number('burn', 50),
    thin: number('thin', 2),
    features: {
      userImplicit: feat.includes('u'),
      itemImplicit: feat.includes('i'),
      userProfile: feat.includes('p'),
      itemMetadata: feat.includes('m'),
    },
  });
}

interface Row {
  candidate: string;
  validationRmse: number;
  trainSeconds: number;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (wanted.length === 0) throw new Error('name the candidates, e.g. bfm:k=32,it=200,feat=uipm svdpp');
  const names = wanted;
  // --latest: the training rows of ml-latest-small's random 90/10 split (the quality bench's
  // `latest` protocol) instead of u1.base; the carve is taken from them the same way.
  const latest = process.argv.includes('--latest');
  const dataset = await loadDataset(join(sharedData, latest ? 'ml-latest-small' : 'ml-100k'));
  const train = latest ? randomSplit(dataset, 0.1, SEED).train : dataset.officialSplits.u1?.train;
  if (!train) throw new Error('ml-100k has no official split u1');
  const carve = carveValidation(dataset, train, 0.1, SEED);
  const rows: Row[] = [];
  for (const name of names) {
    const model = candidate(name);
    const started = performance.now();
    await model.fit({
      dataset,
      train: carve.train,
      seed: SEED,
      onEpoch: (e) => {
        if (e.epoch % 25 === 0)
          console.log(
            `  ${name} epoch ${e.epoch}: train MSE ${e.trainLoss.toFixed(4)} (${e.seconds.toFixed(2)} s)`,
          );
      },
    });
    const trainSeconds = (performance.now() - started) / 1000;
    const validationRmse = rowsRmse(model, dataset, carve.test);
    console.log(`${name}: validation RMSE ${validationRmse.toFixed(4)} (${trainSeconds.toFixed(1)} s)`);
    rows.push({ candidate: latest ? `latest ${name}` : name, validationRmse, trainSeconds });
  }
  mkdirSync(dirname(resultsFile), { recursive: true });
  const previous: Row[] = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { rows: Row[] }).rows
    : [];
  const fresh = new Set(rows.map((r) => r.candidate));
  const merged = [...previous.filter((r) => !fresh.has(r.candidate)), ...rows];
  writeFileSync(
    resultsFile,
    JSON.stringify({ generatedAt: new Date().toISOString(), rows: merged }, null, 2),
  );
}

await main();
