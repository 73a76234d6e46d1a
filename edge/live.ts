/**
 * The live artifact version of this isolate. One module-level state per artifact prefix: the
 * parsed `ServingModel` every request reads, swapped in one assignment once a new version is fully
 * loaded and verified, so a request never sees half a version. A version that fails to load is
 * refused (logged, kept for /v1/health) and the previous one keeps serving.
 */
import { type ArtifactVersion, openVersion, readPointer } from '../shared/artifacts/loader.ts';
import type { Pointer } from '../shared/artifacts/manifest.ts';
import { isReelrankError, ReelrankError } from '../shared/errors.ts';
import type { EventsWatermark } from '../shared/events.ts';
import { loadServingModel } from '../shared/serving/from-artifacts.ts';
import type { ServingModel } from '../shared/serving/model.ts';
import { type TitleIndex, titleIndexOf } from '../shared/serving/titles.ts';
import {
  type Arm,
  armOf,
  type CanarySpec,
  DEFAULT_CANARY_MEMORY_MB,
  servedBytesOf,
} from '../shared/rollout.ts';
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
  /** Title keys for search and resolution (shared/serving/titles.ts), built once per version on first use. */
  readonly titleIndex: TitleIndex;
  /** Bytes of the version's files the serving model holds (servedBytesOf), for the canary budget. */
  servedBytes: number;
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
  /** The canary version the pointer names, once loaded and verified (null: none, or refused). */
  candidate: LiveVersion | null;
  /** Date.now() of the last pointer read that completed. */
  checkedAt: number;
  inflight: Promise<void> | null;
  refused: RefusedVersion[];
  /** Served-file budget (MB) for live + canary together (CANARY_MEMORY_MB). */
  canaryBudgetMB: number;
  /** Last failure to read the pointer itself (store unreachable, no pointer yet). */
  pointerError: { code: string; message: string; at: string } | null;
}

const states = new Map<string, LiveState>();

function stateFor(prefix: string): LiveState {
  let state = states.get(prefix);
  if (!state) {
    state = {
      live: null,
      candidate: null,
      canaryBudgetMB: DEFAULT_CANARY_MEMORY_MB,
      checkedAt: 0,
      inflight: null,
      refused: [],
      pointerError: null,
    };
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
  // Refusals are about versions the pointer named; once it names another (live or canary), they
  // are history (health would otherwise stay 'degraded' after the operator fixed things).
  state.refused = state.refused.filter(
    (r) =>
      (r.version === pointer.version && r.manifestSha256 === pointer.manifestSha256) ||
      (r.version === pointer.canary?.version && r.manifestSha256 === pointer.canary.manifestSha256),
  );
  await loadLive(state, store, pointer, started);
  await loadCandidate(state, store, pointer);
}

function isVersion(
  loaded: LiveVersion | null,
  version: string,
  manifestSha256: string,
): loaded is LiveVersion {
  return loaded !== null && loaded.model.version === version && loaded.manifestSha256 === manifestSha256;
}

function recentlyRefused(state: LiveState, version: string, manifestSha256: string): boolean {
  const refused = state.refused.find((r) => r.version === version && r.manifestSha256 === manifestSha256);
  return refused !== undefined && Date.now() - Date.parse(refused.at) < REFUSAL_RETRY_MS;
}

function refuse(
  state: LiveState,
  version: string,
  manifestSha256: string,
  error: ReelrankError,
  role: string,
): void {
  const entry: RefusedVersion = {
    version,
    manifestSha256,
    code: error.code,
    message: error.message,
    at: new Date().toISOString(),
  };
  state.refused = [entry, ...state.refused.filter((r) => r.version !== version)].slice(0, 10);
  console.error(
    `reelrank: refused ${role} version ${version} (${error.code}): ${error.message}; still serving ${state.live?.model.version ?? 'nothing'}${role === 'canary' ? ' to everyone' : ''}`,
  );
}

/** Open a version named by the pointer (live or canary); its manifest must be the one the pointer pins. */
async function openPinned(
  store: ObjectStore,
  version: string,
  manifestSha256: string,
): Promise<ArtifactVersion> {
  const opened = await openVersion(store, { version });
  if (opened.manifestSha256 !== manifestSha256) {
    throw new ReelrankError(
      'artifact_corrupt',
      `Manifest of version ${version} in ${store.description} has sha256 ${opened.manifestSha256}, the pointer expects ${manifestSha256}.`,
    );
  }
  return opened;
}

/** Decode and verify an opened version (every file it serves) into what requests read. */
async function loadVersion(opened: ArtifactVersion, pointer: Pointer, started: number): Promise<LiveVersion> {
  const model = await loadServingModel(opened, { simd: simdKernel });
  return {
    model,
    pointer,
    manifestSha256: opened.manifestSha256,
    createdAt: opened.manifest.createdAt,
    formatVersion: opened.manifest.formatVersion,
    metrics: opened.manifest.metrics,
    datasetFingerprint: opened.manifest.datasetFingerprint,
    loadedAt: new Date().toISOString(),
    loadMs: Date.now() - started,
    // Built on first use (a search or a title): recommendations in a fresh isolate do not wait
    // for it, and an isolate that never resolves titles never holds it. Cached per model.
    get titleIndex() {
      return titleIndexOf(model);
    },
    servedBytes: servedBytesOf(opened.manifest),
    eventsWatermark: watermarkOf(opened.manifest.trainingConfig),
  };
}

async function loadLive(
  state: LiveState,
  store: ObjectStore,
  pointer: Pointer,
  started: number,
): Promise<void> {
  const current = state.live;
  if (isVersion(current, pointer.version, pointer.manifestSha256)) {
    current.pointer = pointer;
    return;
  }
  const promoted = state.candidate;
  if (isVersion(promoted, pointer.version, pointer.manifestSha256)) {
    // `reelrank promote`: the canary already in memory becomes live, no reload, no gap.
    promoted.pointer = pointer;
    state.live = promoted;
    state.candidate = null;
    console.log(`reelrank: canary ${pointer.version} promoted: serving everyone`);
    return;
  }
  if (recentlyRefused(state, pointer.version, pointer.manifestSha256)) return;
  try {
    const opened = await openPinned(store, pointer.version, pointer.manifestSha256);
    const next = await loadVersion(opened, pointer, started);
    state.live = next; // the one atomic swap
    state.refused = state.refused.filter((r) => r.version !== pointer.version);
    const { model } = next;
    console.log(
      `reelrank: serving version ${model.version} (${model.itemCount} movies, ${model.userCount} users, ${model.kernel} kernel) loaded in ${next.loadMs} ms`,
    );
  } catch (error) {
    if (!isReelrankError(error)) throw error;
    refuse(state, pointer.version, pointer.manifestSha256, error, 'live');
  }
}

async function loadCandidate(state: LiveState, store: ObjectStore, pointer: Pointer): Promise<void> {
  const canary: CanarySpec | null = pointer.canary ?? null;
  if (canary === null) {
    if (state.candidate) console.log(`reelrank: canary ${state.candidate.model.version} ended`);
    state.candidate = null;
    return;
  }
  if (isVersion(state.candidate, canary.version, canary.manifestSha256)) {
    state.candidate.pointer = pointer;
    return;
  }
  state.candidate = null; // another canary, or none loaded yet: never serve a stale one
  if (state.live === null || recentlyRefused(state, canary.version, canary.manifestSha256)) return;
  try {
    const started = Date.now();
    const opened = await openPinned(store, canary.version, canary.manifestSha256);
    const budgetMB = state.canaryBudgetMB;
    const totalMB = (servedBytesOf(opened.manifest) + state.live.servedBytes) / 2 ** 20;
    if (totalMB > budgetMB) {
      throw new ReelrankError(
        'canary_too_large',
        `live ${state.live.model.version} and canary ${canary.version} need ${totalMB.toFixed(1)} MB of served files together, above this isolate's canary budget of ${budgetMB} MB (CANARY_MEMORY_MB); the canary is not loaded`,
      );
    }
    state.candidate = await loadVersion(opened, pointer, started);
    state.refused = state.refused.filter((r) => r.version !== canary.version);
    console.log(
      `reelrank: canary ${canary.version} loaded in ${state.candidate.loadMs} ms: serving ${canary.percent}% of people`,
    );
  } catch (error) {
    if (!isReelrankError(error)) throw error;
    refuse(state, canary.version, canary.manifestSha256, error, 'canary');
  }
}

function canaryBudgetOf(env: Env): number {
  const mb = Number(env.CANARY_MEMORY_MB ?? Number.NaN);
  return Number.isFinite(mb) && mb >= 0 ? mb : DEFAULT_CANARY_MEMORY_MB;
}

/** Re-reads the pointer now (the cron handler), sharing an in-flight check. */
export function refresh(env: Env): Promise<void> {
  const state = stateFor(env.ARTIFACT_PREFIX);
  state.canaryBudgetMB = canaryBudgetOf(env);
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
  subject: string | null = null,
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
  return servingArm(state, subject).version;
}

/**
 * The version that answers `subject` (a userSubject / sessionSubject key): the canary for the
 * people the pointer's salted hash puts in its share, once it is loaded; the live version for
 * everyone else, for requests that name nobody, and whenever the canary is absent or refused.
 */
function servingArm(state: LiveState, subject: string | null): { version: LiveVersion; arm: Arm } {
  const live = state.live!;
  const candidate = state.candidate;
  if (candidate && armOf(subject, live.pointer.canary) === 'candidate')
    return { version: candidate, arm: 'candidate' };
  return { version: live, arm: 'live' };
}

/** Which arm a version answered as ('candidate' while it is the loaded canary). */
export function armOfVersion(env: Env, version: LiveVersion): Arm {
  return stateFor(env.ARTIFACT_PREFIX).candidate === version ? 'candidate' : 'live';
}

/**
 * What /v1/health reports. `status`: 'ok' serving what the pointer names; 'degraded' serving, but
 * the version the pointer names was refused or the pointer itself cannot be read (e.g. garbage
 * in current.json); 'unavailable' nothing to serve.
 */
export function healthOf(env: Env): {
  status: 'ok' | 'degraded' | 'unavailable';
  live: LiveVersion | null;
  candidate: LiveVersion | null;
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
    candidate: state.candidate,
    refused: state.refused,
    checkedAt: state.checkedAt,
    pointerError: state.pointerError,
  };
}
