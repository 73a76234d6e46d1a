/**
 * The live artifact version of this isolate. One module-level state per artifact prefix: the
 * parsed `ServingModel` every request reads, swapped in one assignment once a new version is fully
 * loaded and verified, so a request never sees half a version. A version that fails to load is
 * refused (logged, kept for /v1/health) and the previous one keeps serving.
 */
import { openVersion, readPointer } from '../shared/artifacts/loader.ts';
import type { Pointer } from '../shared/artifacts/manifest.ts';
import { isReelrankError, ReelrankError } from '../shared/errors.ts';
import type { EventsWatermark } from '../shared/events.ts';
import { loadServingModel } from '../shared/serving/from-artifacts.ts';
import type { ServingModel } from '../shared/serving/model.ts';
import { type TitleIndex, titleIndexOf } from '../shared/serving/titles.ts';
import type { ObjectStore } from '../shared/store.ts';
import { R2Store } from './store/r2.ts';
import { simdKernel } from './simd.ts';

export interface LiveVersion {
  model: ServingModel;
  pointer: Pointer;
  manifestSha256: string;
  createdAt: string;
  formatVersion: number;
  metrics: Record<string, unknown>;
  datasetFingerprint: string;
  loadedAt: string;
  /** Milliseconds from reading the pointer to the model being ready. */
  loadMs: number;
  /** Title keys for search and resolution (shared/serving/titles.ts), built once per version. */
  titleIndex: TitleIndex;
  /** The feedback this version was trained on (trainingConfig.events.watermark), or null. */
  eventsWatermark: EventsWatermark | null;
}

/** trainingConfig.events.watermark of a manifest, when well-formed. */
function watermarkOf(trainingConfig: Record<string, unknown>): EventsWatermark | null {
  const events = trainingConfig.events as { watermark?: Partial<EventsWatermark> } | null | undefined;
  const w = events?.watermark;
  return w && typeof w.objectKey === 'string' && typeof w.receivedAt === 'number'
    ? { objectKey: w.objectKey, receivedAt: w.receivedAt }
    : null;
}

export interface RefusedVersion {
  version: string;
  manifestSha256: string;
  code: string;
  message: string;
  at: string;
}

interface LiveState {
  live: LiveVersion | null;
  /** Date.now() of the last pointer read that completed. */
  checkedAt: number;
  inflight: Promise<void> | null;
  refused: RefusedVersion[];
  /** Last failure to read the pointer itself (store unreachable, no pointer yet). */
  pointerError: { code: string; message: string; at: string } | null;
}

const states = new Map<string, LiveState>();

function stateFor(prefix: string): LiveState {
  let state = states.get(prefix);
  if (!state) {
    state = { live: null, checkedAt: 0, inflight: null, refused: [], pointerError: null };
    states.set(prefix, state);
  }
  return state;
}

/** Forgets every loaded version (tests start each file from a cold isolate state). */
export function resetLiveState(): void {
  states.clear();
}

function storeOf(env: Env): ObjectStore {
  return new R2Store(env.ARTIFACTS, env.ARTIFACT_PREFIX);
}

function checkIntervalMs(env: Env): number {
  const seconds = Number(env.POINTER_CHECK_SECONDS);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 30_000;
}

/** How long a refused version is not retried (it is immutable; a fixed upload gets a new id). */
const REFUSAL_RETRY_MS = 10 * 60 * 1000;

async function loadPointer(state: LiveState, store: ObjectStore): Promise<void> {
  const started = Date.now();
  let pointer: Pointer | null;
  try {
    pointer = await readPointer(store);
  } catch (error) {
    if (!isReelrankError(error)) throw error;
    state.pointerError = { code: error.code, message: error.message, at: new Date().toISOString() };
    console.error(`reelrank: cannot read the pointer of ${store.description}: ${error.message}`);
    return;
  } finally {
    state.checkedAt = Date.now();
  }
  if (pointer === null) {
    state.pointerError = {
      code: 'no_pointer',
      message: `no version is published in ${store.description} (current.json is absent)`,
      at: new Date().toISOString(),
    };
    return;
  }
  state.pointerError = null;
  // Refusals are about versions the pointer named; once it names another, they are history
  // (health would otherwise stay 'degraded' after the operator fixed things).
  state.refused = state.refused.filter(
    (r) => r.version === pointer.version && r.manifestSha256 === pointer.manifestSha256,
  );
  const current = state.live;
  if (
    current &&
    current.pointer.version === pointer.version &&
    current.manifestSha256 === pointer.manifestSha256
  ) {
    current.pointer = pointer;
    return;
  }
  const refused = state.refused.find(
    (r) => r.version === pointer.version && r.manifestSha256 === pointer.manifestSha256,
  );
  if (refused && Date.now() - Date.parse(refused.at) < REFUSAL_RETRY_MS) return;
  try {
    const version = await openVersion(store);
    const model = await loadServingModel(version, { simd: simdKernel });
    const next: LiveVersion = {
      model,
      pointer,
      manifestSha256: version.manifestSha256,
      createdAt: version.manifest.createdAt,
      formatVersion: version.manifest.formatVersion,
      metrics: version.manifest.metrics,
      datasetFingerprint: version.manifest.datasetFingerprint,
      loadedAt: new Date().toISOString(),
      loadMs: Date.now() - started,
      titleIndex: titleIndexOf(model),
      eventsWatermark: watermarkOf(version.manifest.trainingConfig),
    };
    state.live = next; // the one atomic swap
    state.refused = state.refused.filter((r) => r.version !== pointer.version);
    console.log(
      `reelrank: serving version ${model.version} (${model.itemCount} movies, ${model.userCount} users, ${model.kernel} kernel) loaded in ${next.loadMs} ms`,
    );
  } catch (error) {
    if (!isReelrankError(error)) throw error;
    const entry: RefusedVersion = {
      version: pointer.version,
      manifestSha256: pointer.manifestSha256,
      code: error.code,
      message: error.message,
      at: new Date().toISOString(),
    };
    state.refused = [entry, ...state.refused.filter((r) => r.version !== pointer.version)].slice(0, 10);
    console.error(
      `reelrank: refused version ${pointer.version} (${error.code}): ${error.message}; still serving ${current?.model.version ?? 'nothing'}`,
    );
  }
}

/** Re-reads the pointer now (the cron handler), sharing an in-flight check. */
export function refresh(env: Env): Promise<void> {
  const state = stateFor(env.ARTIFACT_PREFIX);
  if (!state.inflight) {
    state.inflight = loadPointer(state, storeOf(env)).finally(() => {
      state.inflight = null;
    });
  }
  return state.inflight;
}

/**
 * The version to answer a request with. Without one, waits for the load; with one, re-checks the
 * pointer in the background at most every POINTER_CHECK_SECONDS (via waitUntil), never blocking.
 * Throws `no_live_version` (503) when nothing could be loaded.
 */
export async function liveVersion(
  env: Env,
  waitUntil: (promise: Promise<unknown>) => void,
): Promise<LiveVersion> {
  const state = stateFor(env.ARTIFACT_PREFIX);
  if (!state.live) {
    if (Date.now() - state.checkedAt >= Math.min(checkIntervalMs(env), 1000) || state.inflight)
      await refresh(env);
  } else if (Date.now() - state.checkedAt >= checkIntervalMs(env)) {
    waitUntil(refresh(env));
  }
  if (!state.live) {
    const why = state.refused[0]
      ? `version ${state.refused[0].version} was refused: ${state.refused[0].message}`
      : (state.pointerError?.message ?? 'no version has been loaded yet');
    throw new ReelrankError('no_live_version', `No live version to serve: ${why}`);
  }
  return state.live;
}

/**
 * What /v1/health reports. `status`: 'ok' serving what the pointer names; 'degraded' serving, but
 * the version the pointer names was refused or the pointer itself cannot be read (e.g. garbage
 * in current.json); 'unavailable' nothing to serve.
 */
export function healthOf(env: Env): {
  status: 'ok' | 'degraded' | 'unavailable';
  live: LiveVersion | null;
  refused: RefusedVersion[];
  checkedAt: number;
  pointerError: LiveState['pointerError'];
} {
  const state = stateFor(env.ARTIFACT_PREFIX);
  return {
    status: !state.live
      ? 'unavailable'
      : state.refused.length > 0 || state.pointerError !== null
        ? 'degraded'
        : 'ok',
    live: state.live,
    refused: state.refused,
    checkedAt: state.checkedAt,
    pointerError: state.pointerError,
  };
}
