/**
 * Simulated people for the canary experiment: each is assigned an arm by the same salted hash the
 * edge uses, sees a few recommendation lists of 10 movies, and clicks each position with a known
 * probability (a per-person propensity, a position discount and an arm multiplier), then may watch
 * and rate. Used by `npm run bench -- experiment` and the analysis tests: the truth is known, so
 * the analysis can be checked for power (B truly better) and for false positives (A/A).
 */
import { createRng } from '../../shared/random.ts';
import { armOf, makeRecommendationId, userSubject } from '../../shared/rollout.ts';
import type { AttributableEvent } from './analyze.ts';

export interface SimulationOptions {
  seed: number;
  people: number;
  /** Canary share in percent. */
  percent: number;
  liveVersion: string;
  candidateVersion: string;
  /** Click-probability multiplier of the candidate (1 = A/A). */
  candidateLift: number;
  /** Mean click probability at position 1 for an average person (live arm). */
  baseCtr?: number;
  listsPerPerson?: [number, number];
  /** Added to the candidate's mean rating of clicked-then-watched movies. */
  candidateRatingShift?: number;
  startSeconds?: number;
}

/** Standard normal draw (Box–Muller). */
function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Events of a simulated canary, in time order per person. */
export function simulateExperiment(options: SimulationOptions): AttributableEvent[] {
  const {
    seed,
    people,
    percent,
    liveVersion,
    candidateVersion,
    candidateLift,
    baseCtr = 0.08,
    listsPerPerson = [1, 6],
    candidateRatingShift = 0,
    startSeconds = 1_764_000_000,
  } = options;
  const random = createRng(seed);
  const rng = () => random.next();
  const salt = `sim-${seed}`;
  const events: AttributableEvent[] = [];
  let nonce = 0;
  for (let person = 1; person <= people; person++) {
    const arm = armOf(userSubject(person), { percent, salt });
    const version = arm === 'candidate' ? candidateVersion : liveVersion;
    const lift = arm === 'candidate' ? candidateLift : 1;
    // Heavy-tailed propensity: some people click much more than others (clustering).
    const propensity = Math.exp(0.6 * gaussian(rng) - 0.18);
    const lists = listsPerPerson[0] + Math.floor(rng() * (listsPerPerson[1] - listsPerPerson[0] + 1));
    for (let l = 0; l < lists; l++) {
      const issuedAt = startSeconds + Math.floor(rng() * 7 * 86400);
      const recommendationId = makeRecommendationId({
        version,
        arm,
        issuedAt,
        nonce: (nonce++).toString(36).padStart(6, '0'),
      });
      for (let position = 1; position <= 10; position++) {
        const movieId = 1 + Math.floor(rng() * 5000);
        events.push({
          userId: person,
          movieId,
          type: 'impression',
          value: position,
          timestamp: issuedAt,
          recommendationId,
        });
        const p = Math.min(0.95, (baseCtr * propensity * lift) / Math.log2(position + 1));
        if (rng() < p) {
          const t = issuedAt + 5 + Math.floor(rng() * 600);
          events.push({ userId: person, movieId, type: 'click', timestamp: t, recommendationId });
          if (rng() < 0.5) {
            events.push({ userId: person, movieId, type: 'watch', timestamp: t + 60, recommendationId });
            const rating = Math.min(
              5,
              Math.max(
                0.5,
                Math.round((3.5 + (arm === 'candidate' ? candidateRatingShift : 0) + gaussian(rng)) * 2) / 2,
              ),
            );
            events.push({
              userId: person,
              movieId,
              type: 'rating',
              value: rating,
              timestamp: t + 7200,
              recommendationId,
            });
          }
        }
      }
    }
  }
  return events;
}
