import { ReelrankError } from '../../shared/errors.ts';
import { IAutoRec } from './autorec.ts';
import { BiasModel, PopularityModel } from './baselines.ts';
import { BayesianFm } from './bayesian-fm.ts';
import { RidgeBlend } from './blend.ts';
import { Bpr } from './bpr.ts';
import { Ease } from './ease.ts';
import type { ItemFeatures } from './features.ts';
import { Ials } from './ials.ts';
import { ItemKnnBaseline, UserKnnBaseline } from './knn.ts';
import { BiasedMf } from './mf.ts';
import { Svdpp } from './svdpp.ts';
import { TimeBiasModel } from './time-biases.ts';
import type { Recommender } from './types.ts';

/**
 * The Bayesian FM the benchmark measured (bench/rating-validation.ts, training rows minus a 10 %
 * carve): the implicit sets help most (u1 carve: ids only 0.907 → 0.886); 64 factors did worse
 * than 32 at the same sweeps; 400 sweeps beat 200 (0.8846 vs 0.8863); keeping every 2nd sample
 * beat every 4th by 0.0007. Side features (demographics, genres, year) tie on the u1 carve
 * (0.8843 with vs 0.8846 without) and win on the ml-latest-small carve (0.8018 vs 0.8234).
 */
const BAYESIAN_FM_DEFAULTS = {
  factors: 32,
  iterations: 400,
  burnIn: 100,
  thin: 2,
  features: { userImplicit: true, itemImplicit: true, userProfile: true, itemMetadata: true },
} as const;

/** The blend's members (fresh, unfitted): rating models with different error patterns. */
export function ratingBlendMembers(): Recommender[] {
  return [
    new BiasModel({ userReg: 5, itemReg: 5 }),
    new TimeBiasModel(),
    new BiasedMf({ factors: 100, epochs: 40 }),
    new BiasedMf({ factors: 50, epochs: 60, reg: 0.06, learningRate: 0.01, decay: 0.95 }),
    new BiasedMf({ solver: 'als', factors: 32, epochs: 10, reg: 0.1 }),
    new Svdpp({ factors: 50, epochs: 40, reg: 0.08, implicitReg: 0.1 }),
    new ItemKnnBaseline({ neighbors: 60 }),
    new UserKnnBaseline(),
    new IAutoRec(),
    // Two chains: without and with side features. Alone they tie on the u1 carve, but the second
    // took the blend's carve RMSE from 0.8788 to 0.8762.
    new BayesianFm({
      ...BAYESIAN_FM_DEFAULTS,
      features: { userImplicit: true, itemImplicit: true, userProfile: false, itemMetadata: false },
      name: 'bayesian-fm-implicit',
    }),
    new BayesianFm(BAYESIAN_FM_DEFAULTS),
  ];
}

/** What a model factory may use beyond its name. */
export interface ModelSetup {
  /** Item side features, for models with a metadata projection. */
  itemFeatures?: ItemFeatures;
}

export interface ModelEntry {
  about: string;
  /** True when the model predicts ratings (rating-error metrics apply). */
  ratings: boolean;
  create: (setup: ModelSetup) => Recommender;
}

/**
 * iALS settings chosen on validation carves (10% of the training rows of the stratified 75/25
 * split, NDCG@10; never the test rows): ml-100k λ=30, α=3 gave 0.1811 at 32 factors, 0.1800 at
 * 64 (EASE λ=300 0.1721 on the same carve). Of 25 other settings (λ 0.03..300, α 1..30,
 * ν 0/0.5/1, 'rating' confidence, 15 iterations, 6 CG steps, 128 factors) one was higher:
 * ν=1, λ=0.3, α=3 at 64 factors, 0.1824 (+0.0013, within seed noise); ml-latest-small:
 * 0.1377 at 32 factors, 0.1374 at 64 (EASE 0.1423). 32 factors tie 64 at a third of the cost.
 * bench/quality.ts (stratified, ranking-latest) reruns a λ × α grid per dataset.
 */
export const IALS_DEFAULTS = Object.freeze({
  factors: 32,
  iterations: 10,
  alpha: 3,
  lambda: 30,
  confidence: 'binary',
  regExponent: 0,
} as const);

/**
 * Every classic model by CLI name, with the defaults the quality benchmark measured. The neural
 * models (train/models/neural) register themselves through `registerModel`.
 */
const MODELS: Record<string, ModelEntry> = {
  popularity: {
    about: 'most-interacted items (ranking baseline)',
    ratings: false,
    create: () => new PopularityModel(),
  },
  biases: {
    about: 'global mean + regularised user and item biases',
    ratings: true,
    create: () => new BiasModel(),
  },
  'mf-sgd': {
    about: 'biased MF, SGD, 100 factors, metadata projection for unrated items',
    ratings: true,
    create: ({ itemFeatures }) =>
      new BiasedMf({ factors: 100, epochs: 40, ...(itemFeatures ? { itemFeatures } : {}) }),
  },
  'mf-als': {
    about: 'biased MF, ALS (weighted-λ), 32 factors',
    ratings: true,
    create: ({ itemFeatures }) =>
      new BiasedMf({
        solver: 'als',
        factors: 32,
        epochs: 10,
        reg: 0.1,
        ...(itemFeatures ? { itemFeatures } : {}),
      }),
  },
  'time-biases': {
    about: 'time-aware biases: item bias per time bin + user drift (Koren 2009)',
    ratings: true,
    create: () => new TimeBiasModel(),
  },
  svdpp: {
    about: 'SVD++ (implicit feedback), 50 factors',
    ratings: true,
    create: () => new Svdpp({ factors: 50, epochs: 40, reg: 0.08, implicitReg: 0.1 }),
  },
  'i-autorec': {
    about: 'I-AutoRec: item autoencoder over users (sparse, Adam), 200 hidden sigmoid units',
    ratings: true,
    create: () => new IAutoRec(),
  },
  'bayesian-fm': {
    about:
      'Bayesian factorization machine by Gibbs sampling (libFM MCMC): user id + rated items + demographics × item id + raters + genres/year, 32 factors, 400 sweeps; settings chosen on validation carves',
    ratings: true,
    create: () => new BayesianFm(BAYESIAN_FM_DEFAULTS),
  },
  'item-knn': {
    about: 'item-kNN with baselines (pearson-baseline, k=40)',
    ratings: true,
    create: () => new ItemKnnBaseline(),
  },
  'user-knn': {
    about: 'user-kNN with baselines (pearson-baseline, k=40)',
    ratings: true,
    create: () => new UserKnnBaseline(),
  },
  bpr: {
    about: 'BPR matrix factorisation, 64 factors (ranking; settings chosen on a validation carve)',
    ratings: false,
    create: () => new Bpr({ factors: 64, epochs: 100, reg: 0.005 }),
  },
  ease: {
    about: 'EASE^R item-item closed form (ranking)',
    ratings: false,
    create: () => new Ease({ lambda: 300 }),
  },
  ials: {
    about:
      'implicit ALS (Hu/Koren/Volinsky; CG solves), 32 factors (ranking; settings chosen on a validation carve); exported as the ranking factor set',
    ratings: false,
    create: () => new Ials(IALS_DEFAULTS),
  },
  blend: {
    about:
      'ridge blend of biases, MF (SGD and ALS), SVD++, item- and user-kNN, I-AutoRec and two Bayesian FMs (with and without side features), weights fitted on a validation carve',
    ratings: true,
    create: () => new RidgeBlend(ratingBlendMembers),
  },
};

/** The model `reelrank train` uses without `--model`: exportable factors, fast, good RMSE. */
export const DEFAULT_MODEL = 'svdpp';

/** The ranking model `reelrank train` exports beside it (the rank_* files, the collaborative channel). */
export const DEFAULT_RANK_MODEL = 'ials';

/** Add a model (e.g. a neural one) to the registry under `name`. */
export function registerModel(name: string, entry: ModelEntry): void {
  MODELS[name] = entry;
}

/** Names of all registered models. */
export function modelNames(): string[] {
  return Object.keys(MODELS);
}

/** The registry entry for `name`; the error lists the known names. */
export function modelEntry(name: string): ModelEntry {
  const entry = MODELS[name];
  if (!entry)
    throw new ReelrankError(
      'bad_option',
      `model '${name}' is unknown. Available: ${modelNames().join(', ')}`,
    );
  return entry;
}

/** A fresh, unfitted model by name. */
export function createModel(name: string, setup: ModelSetup = {}): Recommender {
  return modelEntry(name).create(setup);
}
