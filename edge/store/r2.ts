/**
 * The artifact ObjectStore over the Workers R2 binding (`env.ARTIFACTS`). The implementation lives
 * in shared/ (typed structurally), so the CLI uses the very same code over Miniflare's bucket when
 * `reelrank start` seeds wrangler dev's local R2.
 *
 * @example const live = await openVersion(new R2Store(env.ARTIFACTS, env.ARTIFACT_PREFIX));
 */
export { R2Store } from '../../shared/stores/r2.ts';
