/**
 * The learned ranking stage's carve and serving choices, on ml-latest-small: anonymous carve users
 * fit none of the channels their sessions are ranked with; session windows end before their
 * labels; where a version's stage is not enabled, 'auto' serves the version's fallback (item-item,
 * collaborative, or the blend when the version names none, as before fallbacks existed); a ranker
 * that reads the 17 features of older versions still ranks, on those columns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createLearnedStage,
  type DenseLayer,
  denseStack,
  featureColumns,
  learnedCandidates,
  RANKER_FEATURE_COUNT,
  RANKER_FEATURES,
} from '../../../shared/serving/ranker.ts';
import { csrRow } from '../../../shared/serving/model.ts';
import { knownUser, recommend, sessionUser, type UserState } from '../../../shared/serving/scoring.ts';
import { createRng } from '../../../shared/random.ts';
import type { Dataset } from '../../../train/data/dataset.ts';
import { loadDataset } from '../../../train/data/index.ts';
import {
  type PreparedCarve,
  prepareCarve,
  sessionWindows,
  stageChoice,
} from '../../../train/models/ranker.ts';

/** A seeded random MLP of `inputs` features (weights in [-0.5, 0.5]). */
function randomLayers(inputs: number, seed: number): DenseLayer[] {
  const rng = createRng(seed);
  const dense = (i: number, units: number, activation: 'relu' | 'linear'): DenseLayer => ({
    inputs: i,
    units,
    kernel: Float32Array.from({ length: i * units }, () => rng.next() - 0.5),
    bias: Float32Array.from({ length: units }, () => rng.next() - 0.5),
    activation,
  });
  return [dense(inputs, 8, 'relu'), dense(8, 1, 'linear')];
}

const ids = (model: PreparedCarve['model'], user: UserState, options: Parameters<typeof recommend>[2]) =>
  recommend(model, user, options).items.map((i) => i.itemIndex);

describe('the learned stage on ml-latest-small', () => {
  let dataset: Dataset;
  let rows: Uint32Array;
  let folds: PreparedCarve;
  beforeAll(async () => {
    dataset = await loadDataset();
    rows = Uint32Array.from({ length: dataset.ratings.length }, (_, j) => j);
    folds = await prepareCarve(dataset, rows, null, {
      anonymousFolds: 2,
      itemItem: { maxItems: 200, width: 30 },
    });
  });

  it('ranks sessions of anonymous carve users with channels that never saw them', async () => {
    // Folds: every carve user is anonymous in exactly one fold and known to the main model.
    expect(folds.excluded.size).toBe(0);
    expect(folds.anonymous.size).toBe(folds.carve.labels.size);
    const foldModels = new Set([...folds.anonymous.values()].map((a) => a.model));
    expect(foldModels.size).toBe(2);
    for (const [u, anon] of folds.anonymous) {
      expect(csrRow(anon.model.seen, u).length).toBe(0);
      expect(csrRow(folds.model.seen, u).length).toBeGreaterThan(0);
      // The history is the user's rows in time order, labels last.
      const labels = folds.carve.labels.get(u)!;
      const tail = Array.from(anon.history.items.subarray(anon.history.items.length - 5));
      for (const item of labels) expect(tail).toContain(item);
    }
    // A share: one fit, whose model does not know the anonymous users.
    const share = await prepareCarve(dataset, rows, null, {
      anonymousShare: 0.25,
      itemItem: { maxItems: 200, width: 30 },
    });
    expect(share.excluded.size).toBe(share.anonymous.size);
    expect(share.anonymous.size / share.carve.labels.size).toBeGreaterThan(0.15);
    expect(share.anonymous.size / share.carve.labels.size).toBeLessThan(0.35);
    for (const u of share.excluded) {
      expect(csrRow(share.model.seen, u).length).toBe(0);
      expect(share.anonymous.get(u)!.model).toBe(share.model);
    }
  });

  it('cuts session windows that end before their labels, latest first', () => {
    const n = 23;
    const history = {
      items: Uint32Array.from({ length: n }, (_, j) => 100 + j),
      ratings: Float32Array.from({ length: n }, (_, j) => 1 + (j % 5)),
    };
    const windows = sessionWindows(history, { count: 10 });
    // Cuts at 18, 13, 8 (a session needs 5 ratings before the cut): three windows.
    expect(windows.map((w) => w.session.map((r) => r.itemIndex - 100))).toEqual([
      [13, 14, 15, 16, 17],
      [8, 9, 10, 11, 12],
      [3, 4, 5, 6, 7],
    ]);
    expect(windows.map((w) => [...w.labels].map((i) => i - 100))).toEqual([
      [18, 19, 20, 21, 22],
      [13, 14, 15, 16, 17],
      [8, 9, 10, 11, 12],
    ]);
    expect(windows[0]!.session[0]!.rating).toBe(history.ratings[13]);
    expect(sessionWindows(history, { count: 2 })).toHaveLength(2);
    // A movie rated again inside its own session is no label of it.
    const repeat = {
      items: Uint32Array.of(1, 2, 3, 4, 5, 5, 6, 7, 8, 9),
      ratings: new Float32Array(10).fill(4),
    };
    expect([...sessionWindows(repeat, { count: 1 })[0]!.labels]).toEqual([6, 7, 8, 9]);
  });

  it("serves the version's fallback where the stage is not enabled, the blend without one", () => {
    const model = folds.model;
    const layers = randomLayers(RANKER_FEATURE_COUNT, 3);
    const u = [...folds.carve.labels.keys()][7]!;
    const session = sessionUser(model, folds.carve.sessions.get(u)!);
    const known = knownUser(model, u);
    const base = { features: RANKER_FEATURES, perChannel: 50, enabled: { users: true, sessions: false } };
    try {
      model.learned = createLearnedStage(layers, {
        ...base,
        fallback: { users: 'blend', sessions: 'itemItem' },
      });
      const itemItem = ids(model, session, { k: 10, stage: 'itemItem' });
      expect(ids(model, session, { k: 10 })).toEqual(itemItem);
      expect(itemItem).not.toEqual(ids(model, session, { k: 10, stage: 'blend' }));
      // The known user still gets the stage.
      expect(ids(model, known, { k: 10 })).toEqual(ids(model, known, { k: 10, stage: 'learned' }));
      // Item-item reasons name a rated movie whose row lists the recommendation.
      const result = recommend(model, session, { k: 10 });
      for (const item of result.items) {
        expect(item.reason.kind).toBe('rated');
        const source = model.itemIndexById.get((item.reason as { movieId: number }).movieId)!;
        expect(session.seen).toContain(source);
        expect(Array.from(csrRow(model.itemItem!, source))).toContain(item.itemIndex);
      }

      model.learned = createLearnedStage(layers, {
        ...base,
        fallback: { users: 'blend', sessions: 'collaborative' },
      });
      const only = { collaborative: 1, content: 0, popularity: 0 };
      expect(ids(model, session, { k: 10 })).toEqual(
        ids(model, session, { k: 10, stage: 'blend', blend: { newUser: only, regular: only } }),
      );

      // A version written before fallbacks: the blend, as it always served.
      model.learned = createLearnedStage(layers, base);
      expect(ids(model, session, { k: 10 })).toEqual(ids(model, session, { k: 10, stage: 'blend' }));
    } finally {
      model.learned = null;
    }
  });

  it('reads the 17 features of older versions, and refuses features it does not compute', () => {
    const model = folds.model;
    const old = RANKER_FEATURES.slice(0, 17);
    expect(featureColumns(RANKER_FEATURES)).toBeNull();
    expect(Array.from(featureColumns(old)!)).toEqual(old.map((_, n) => n));
    const layers = randomLayers(17, 5);
    const u = [...folds.carve.labels.keys()][11]!;
    const user = knownUser(model, u);
    try {
      model.learned = createLearnedStage(layers, {
        features: old,
        perChannel: 50,
        enabled: { users: true, sessions: true },
      });
      const found = learnedCandidates(model, user, { k: 10 }, 50);
      const m = found.ids.length;
      const firstColumns = new Float32Array(m * 17);
      for (let n = 0; n < m; n++)
        firstColumns.set(
          found.features.subarray(n * RANKER_FEATURE_COUNT, n * RANKER_FEATURE_COUNT + 17),
          n * 17,
        );
      const scores = denseStack(layers, firstColumns, m);
      const result = recommend(model, user, { k: 10 });
      result.items.forEach((item) => {
        const p = Array.from(found.ids).indexOf(item.itemIndex);
        expect(item.score).toBeCloseTo(scores[p]!, 5);
      });
    } finally {
      model.learned = null;
    }
    expect(() =>
      createLearnedStage(randomLayers(18, 1), {
        features: [...old, 'tomorrowsFeature'],
        perChannel: 50,
        enabled: { users: true, sessions: true },
      }),
    ).toThrow(/tomorrowsFeature/);
    // Layers that do not take the named features.
    expect(() =>
      createLearnedStage(randomLayers(RANKER_FEATURE_COUNT, 1), {
        features: old,
        perChannel: 50,
        enabled: { users: true, sessions: true },
      }),
    ).toThrow(/17 features/);
  });

  it('enables the stage only where it beats every alternative, else serves the best one', () => {
    const kind = (learned: number, blend: number, ials: number, itemItem: number) => ({
      learned,
      blend,
      ials,
      itemItem,
      lists: 100,
    });
    expect(
      stageChoice({ users: kind(0.08, 0.06, 0.05, 0.055), sessions: kind(0.05, 0.03, 0.04, 0.055) }),
    ).toEqual({
      enabled: { users: true, sessions: false },
      fallback: { users: 'blend', sessions: 'itemItem' },
    });
    expect(
      stageChoice({ users: kind(0.06, 0.06, 0.05, 0.05), sessions: kind(0.05, 0.03, 0.06, 0.055) }),
    ).toEqual({
      enabled: { users: false, sessions: false },
      fallback: { users: 'blend', sessions: 'collaborative' },
    });
  });
});
