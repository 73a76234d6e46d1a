/**
 * Online metrics of a canary from the event stream: per arm (the version named in each event's
 * recommendationId, shared/rollout.ts), the people reached, impressions, clicks, watches and
 * ratings attributed within a window after the list was shown, click-through rate, mean rating of
 * recommended movies and nDCG of the clicked positions, with 95 % confidence intervals and a
 * two-sided test of the click-through rates.
 *
 * People, not impressions, are the independent units: one person sees many lists and their clicks
 * are correlated, so the click-through rate (a ratio of sums) gets its variance from the
 * per-person sums (the delta method, as in cluster-randomised trials). Treating each impression as
 * independent would make an A/A test "significant" far more often than its nominal 5 %.
 */
import { parseRecommendationId } from '../../shared/rollout.ts';

/** The fields of a stored event the analysis reads (shared/events.ts has the full record). */
export interface AttributableEvent {
  userId?: number | string | null;
  sessionId?: string | null;
  movieId: number;
  type: string;
  value?: number | null;
  /** Seconds since the epoch. */
  timestamp: number;
  recommendationId?: string | null;
}

export interface ArmStats {
  version: string;
  arm: 'live' | 'candidate';
  people: number;
  lists: number;
  impressions: number;
  clicks: number;
  watches: number;
  ratings: number;
  /** clicks / impressions, with its 95 % interval (people as clusters). */
  ctr: number;
  ctrInterval: [number, number];
  /** Mean rating given to recommended movies (null without ratings). */
  meanRating: number | null;
  meanRatingInterval: [number, number] | null;
  /** Mean nDCG of the clicked positions over lists with at least one click (null without). */
  clickNdcg: number | null;
  /** Clicks by position (index 0 = position 1). */
  clicksByPosition: number[];
}

export interface ExperimentReport {
  windowSeconds: number;
  arms: ArmStats[];
  /** Candidate vs live on click-through rate (null unless both arms have impressions). */
  comparison: {
    metric: 'ctr';
    live: string;
    candidate: string;
    difference: number;
    relativeLift: number;
    interval: [number, number];
    z: number;
    pValue: number;
    significant: boolean;
  } | null;
  verdict: string;
  /** Events that quote no recommendationId of ours, or come outside the window. */
  unattributed: number;
}

const Z95 = 1.959963984540054;

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 through erf; |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

interface PersonSums {
  impressions: number;
  clicks: number;
}

interface ArmAccumulator {
  version: string;
  arm: 'live' | 'candidate';
  people: Map<string, PersonSums>;
  lists: Map<string, { clicked: Set<number>; shown: number }>;
  impressions: number;
  clicks: number;
  watches: number;
  ratingValues: number[];
  clicksByPosition: number[];
}

/**
 * Ratio-of-sums estimate sum(y)/sum(x) over clusters with its delta-method variance.
 * @example ratioEstimate([{x: 10, y: 1}, {x: 10, y: 3}]) // { ratio: 0.2, variance: 0.01 }
 */
export function ratioEstimate(clusters: readonly { x: number; y: number }[]): {
  ratio: number;
  variance: number;
} {
  const n = clusters.length;
  let sx = 0;
  let sy = 0;
  for (const c of clusters) {
    sx += c.x;
    sy += c.y;
  }
  if (n === 0 || sx === 0) return { ratio: 0, variance: Number.POSITIVE_INFINITY };
  const ratio = sy / sx;
  const meanX = sx / n;
  let ss = 0;
  for (const c of clusters) {
    const r = c.y - ratio * c.x;
    ss += r * r;
  }
  // Var(R) ≈ Σ (y_i − R x_i)² / (n (n − 1) x̄²)
  const variance = n > 1 ? ss / (n * (n - 1) * meanX * meanX) : Number.POSITIVE_INFINITY;
  return { ratio, variance };
}

function subjectOf(e: AttributableEvent): string | null {
  if (e.userId !== undefined && e.userId !== null) return `user:${e.userId}`;
  if (e.sessionId) return `session:${e.sessionId}`;
  return null;
}

/**
 * Attribute events to the arm and position that produced them and summarise each arm.
 * Impressions carry their 1-based position in `value`; clicks, watches and ratings count when
 * they quote a recommendationId and come at most `windowSeconds` after it was issued.
 */
export function analyzeExperiment(
  events: Iterable<AttributableEvent>,
  {
    windowSeconds = 24 * 3600,
    alpha = 0.05,
    since = 0,
    versions,
  }: {
    windowSeconds?: number;
    alpha?: number;
    /** Only lists issued at or after this time (seconds; e.g. when the canary started). */
    since?: number;
    /** Compare these two versions (default: the first of each arm with impressions). */
    versions?: { live: string; candidate: string };
  } = {},
): ExperimentReport {
  const arms = new Map<string, ArmAccumulator>();
  // Positions of each list's movies, from its impressions (clicks name a movie, not a position).
  const positions = new Map<string, Map<number, number>>();
  const pending: { e: AttributableEvent; recId: string }[] = [];
  let unattributed = 0;
  const armOfId = (recId: string) => {
    const parts = parseRecommendationId(recId);
    if (parts === null || parts.issuedAt < since) return null;
    // Keyed by arm and version: an A/A test runs the same version in both arms.
    const key = `${parts.arm}:${parts.version}`;
    let acc = arms.get(key);
    if (!acc) {
      acc = {
        version: parts.version,
        arm: parts.arm,
        people: new Map(),
        lists: new Map(),
        impressions: 0,
        clicks: 0,
        watches: 0,
        ratingValues: [],
        clicksByPosition: [],
      };
      arms.set(key, acc);
    }
    return { acc, issuedAt: parts.issuedAt };
  };
  for (const e of events) {
    const recId = e.recommendationId;
    const subject = subjectOf(e);
    const found = recId ? armOfId(recId) : null;
    if (!recId || !found || subject === null) {
      unattributed++;
      continue;
    }
    if (e.type === 'impression') {
      const { acc } = found;
      const position = Number.isInteger(e.value) && (e.value as number) >= 1 ? (e.value as number) : 0;
      let list = positions.get(recId);
      if (!list) {
        list = new Map();
        positions.set(recId, list);
      }
      if (list.has(e.movieId)) continue; // a repeated impression of the same slot counts once
      list.set(e.movieId, position);
      acc.impressions++;
      const person = acc.people.get(subject) ?? { impressions: 0, clicks: 0 };
      person.impressions++;
      acc.people.set(subject, person);
      const shown = acc.lists.get(recId) ?? { clicked: new Set<number>(), shown: 0 };
      shown.shown++;
      acc.lists.set(recId, shown);
    } else {
      pending.push({ e, recId });
    }
  }
  for (const { e, recId } of pending) {
    const found = armOfId(recId)!;
    const { acc, issuedAt } = found;
    if (e.timestamp < issuedAt - 60 || e.timestamp > issuedAt + windowSeconds) {
      unattributed++;
      continue;
    }
    const subject = subjectOf(e)!;
    if (e.type === 'click') {
      const list = acc.lists.get(recId);
      const position = positions.get(recId)?.get(e.movieId);
      if (list === undefined || position === undefined || list.clicked.has(e.movieId)) {
        // A click on a movie the list never showed (or a second click on it) is not the list's.
        unattributed++;
        continue;
      }
      list.clicked.add(e.movieId);
      acc.clicks++;
      const person = acc.people.get(subject);
      if (person) person.clicks++;
      if (position >= 1) acc.clicksByPosition[position - 1] = (acc.clicksByPosition[position - 1] ?? 0) + 1;
    } else if (e.type === 'watch') {
      acc.watches++;
    } else if (e.type === 'rating' && typeof e.value === 'number') {
      acc.ratingValues.push(e.value);
    } else {
      unattributed++;
    }
  }

  const ctrVariance = new Map<string, number>();
  const stats: ArmStats[] = [...arms.values()].map((acc) => {
    const { ratio, variance } = ratioEstimate(
      [...acc.people.values()].map((p) => ({ x: p.impressions, y: p.clicks })),
    );
    ctrVariance.set(`${acc.arm}:${acc.version}`, variance);
    const half = Z95 * Math.sqrt(variance);
    const ratings = acc.ratingValues;
    let meanRating: number | null = null;
    let meanRatingInterval: [number, number] | null = null;
    if (ratings.length > 0) {
      const mean = ratings.reduce((a, b) => a + b, 0) / ratings.length;
      const sd =
        ratings.length > 1
          ? Math.sqrt(ratings.reduce((a, b) => a + (b - mean) ** 2, 0) / (ratings.length - 1))
          : Number.NaN;
      const h = Z95 * (sd / Math.sqrt(ratings.length));
      meanRating = mean;
      meanRatingInterval = Number.isFinite(h) ? [mean - h, mean + h] : null;
    }
    let ndcgSum = 0;
    let ndcgLists = 0;
    for (const [recId, list] of acc.lists) {
      if (list.clicked.size === 0) continue;
      const pos = positions.get(recId)!;
      let dcg = 0;
      for (const movieId of list.clicked) {
        const p = pos.get(movieId) ?? 0;
        if (p >= 1) dcg += 1 / Math.log2(p + 1);
      }
      let idcg = 0;
      for (let p = 1; p <= list.clicked.size; p++) idcg += 1 / Math.log2(p + 1);
      ndcgSum += dcg / idcg;
      ndcgLists++;
    }
    return {
      version: acc.version,
      arm: acc.arm,
      people: acc.people.size,
      lists: acc.lists.size,
      impressions: acc.impressions,
      clicks: acc.clicks,
      watches: acc.watches,
      ratings: ratings.length,
      ctr: ratio,
      ctrInterval: [Math.max(0, ratio - half), Math.min(1, ratio + half)],
      meanRating,
      meanRatingInterval,
      clickNdcg: ndcgLists > 0 ? ndcgSum / ndcgLists : null,
      clicksByPosition: Array.from(
        { length: acc.clicksByPosition.length },
        (_, i) => acc.clicksByPosition[i] ?? 0,
      ),
    };
  });
  stats.sort((a, b) => (a.arm === b.arm ? a.version.localeCompare(b.version) : a.arm === 'live' ? -1 : 1));

  const live = stats.find(
    (s) => s.arm === 'live' && s.impressions > 0 && (!versions || s.version === versions.live),
  );
  const candidate = stats.find(
    (s) => s.arm === 'candidate' && s.impressions > 0 && (!versions || s.version === versions.candidate),
  );
  let comparison: ExperimentReport['comparison'] = null;
  let verdict: string;
  if (live && candidate) {
    // The two arms hold different people, so their estimates are independent.
    const se = Math.sqrt(
      ctrVariance.get(`live:${live.version}`)! + ctrVariance.get(`candidate:${candidate.version}`)!,
    );
    const difference = candidate.ctr - live.ctr;
    const z = se > 0 && Number.isFinite(se) ? difference / se : 0;
    const pValue = 2 * (1 - normalCdf(Math.abs(z)));
    const significant = pValue < alpha;
    comparison = {
      metric: 'ctr',
      live: live.version,
      candidate: candidate.version,
      difference,
      relativeLift: live.ctr > 0 ? difference / live.ctr : 0,
      interval: [difference - Z95 * se, difference + Z95 * se],
      z,
      pValue,
      significant,
    };
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    verdict = significant
      ? `candidate ${candidate.version} is ${difference > 0 ? 'better' : 'worse'}: click-through ${pct(candidate.ctr)} vs ${pct(live.ctr)} (${difference > 0 ? '+' : ''}${(100 * comparison.relativeLift).toFixed(1)}%, p = ${pValue.toPrecision(2)}); ${difference > 0 ? 'promote it' : 'abort it'}`
      : `no significant difference yet: click-through ${pct(candidate.ctr)} (candidate) vs ${pct(live.ctr)} (live), p = ${pValue.toPrecision(2)}; keep collecting`;
  } else {
    verdict = 'not enough data: both arms need attributed impressions (is impression logging on?)';
  }
  return { windowSeconds, arms: stats, comparison, verdict, unattributed };
}
