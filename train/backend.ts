import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ReelrankError } from '../shared/errors.ts';
// The pure-JS backend is always present: it is the last resort and the reference for tests.
import '@tensorflow/tfjs-backend-cpu';

/**
 * The ONE module of train/ that touches the TensorFlow.js runtime. Everything else imports
 * `@tensorflow/tfjs-core` / `-layers` and calls `selectBackend()` first.
 *
 * Order for `auto`: tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1), tfjs-node (libtensorflow), wasm (its
 * .wasm files ship inside the npm package), cpu (pure JS). The native packages are optional
 * dependencies whose install step downloads libtensorflow, so on an offline machine they are simply
 * absent: they are loaded by dynamic import at run time, never statically.
 */
export const BACKENDS = Object.freeze({
  gpu: {
    package: '@tensorflow/tfjs-node-gpu',
    tfjsName: 'tensorflow',
    needs: 'needs CUDA 11.2 + cuDNN 8.1 and a downloaded libtensorflow',
  },
  node: {
    package: '@tensorflow/tfjs-node',
    tfjsName: 'tensorflow',
    needs: 'needs libtensorflow, downloaded when the package installs',
  },
  wasm: {
    package: '@tensorflow/tfjs-backend-wasm',
    tfjsName: 'wasm',
    needs: 'ships its .wasm files inside the npm package',
  },
  cpu: {
    package: '@tensorflow/tfjs-backend-cpu',
    tfjsName: 'cpu',
    needs: 'pure JavaScript, always available',
  },
});

export type BackendName = keyof typeof BACKENDS;
export type BackendChoice = BackendName | 'auto';

/** Fallback order for `auto`, fastest first. */
export const AUTO_ORDER: readonly BackendName[] = Object.freeze(['gpu', 'node', 'wasm', 'cpu']);
const CHOICES: readonly BackendChoice[] = Object.freeze(['auto', ...AUTO_ORDER]);

export interface BackendAttempt {
  backend: BackendName;
  /** Why it could not be used. */
  error: string;
}

export interface BackendSelection {
  /** The backend actually in use: record this in the manifest. */
  name: BackendName;
  /** tfjs' own name for it (`tf.getBackend()`): 'tensorflow', 'wasm' or 'cpu'. */
  tfjsName: string;
  /** Backends tried before this one under `auto`, with the reason each was skipped. */
  skipped: BackendAttempt[];
}

/**
 * Loads the JavaScript side of one backend and registers it with tfjs. Injected in tests to
 * simulate a backend whose package is present but whose native library fails.
 */
export type BackendLoader = (backend: BackendName) => Promise<void>;

export interface SelectBackendOptions {
  /** `auto` (default) or one backend; an explicit backend that cannot load is an error, not a fallback. */
  backend?: BackendChoice;
  loader?: BackendLoader;
}

/** Validates a `--backend` value. */
export function parseBackendChoice(value: string): BackendChoice {
  if ((CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new ReelrankError(
    'bad_input',
    `--backend '${value}' is not a backend. Allowed: ${CHOICES.join(', ')}.`,
  );
}

/**
 * Select the tfjs backend and make it current. Returns the name actually used.
 *
 * @example const { name } = await selectBackend({ backend: 'auto' }); // 'wasm' on a machine without libtensorflow
 */
export async function selectBackend({
  backend = 'auto',
  loader = loadBackend,
}: SelectBackendOptions = {}): Promise<BackendSelection> {
  if (backend !== 'auto') {
    const name = parseBackendChoice(backend) as BackendName;
    try {
      await activate(name, loader);
    } catch (error) {
      const others = AUTO_ORDER.filter((b) => b !== name).join('|');
      throw new ReelrankError(
        'backend_unavailable',
        `backend '${name}' could not load: ${describeFailure(name, error)} — use --backend ${others}`,
        { backend: name },
      );
    }
    return { name, tfjsName: BACKENDS[name].tfjsName, skipped: [] };
  }
  const skipped: BackendAttempt[] = [];
  for (const name of AUTO_ORDER) {
    try {
      await activate(name, loader);
      return { name, tfjsName: BACKENDS[name].tfjsName, skipped };
    } catch (error) {
      skipped.push({ backend: name, error: describeFailure(name, error) });
    }
  }
  // Unreachable while cpu is statically imported, but say what happened if it ever is.
  throw new ReelrankError(
    'backend_unavailable',
    `no tfjs backend could load: ${skipped.map((s) => `${s.backend}: ${s.error}`).join('; ')}`,
  );
}

async function activate(name: BackendName, loader: BackendLoader): Promise<void> {
  await loader(name);
  const tfjsName = BACKENDS[name].tfjsName;
  const ok = await tf.setBackend(tfjsName);
  if (!ok || tf.getBackend() !== tfjsName) {
    throw new Error(`tf.setBackend('${tfjsName}') failed to initialise`);
  }
  await tf.ready();
}

/** The default loader: dynamic import of the backend's package, wasm paths from node_modules. */
export async function loadBackend(name: BackendName): Promise<void> {
  switch (name) {
    case 'gpu':
    case 'node': {
      // A variable specifier keeps bundlers and tsc from resolving a package that may be absent.
      const specifier: string = BACKENDS[name].package;
      await import(specifier);
      return;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the .wasm binaries are read from the package's own dist/ folder (no network).
      const require = createRequire(import.meta.url);
      const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      wasm.setWasmPaths(`${dist}/`);
      return;
    }
    case 'cpu':
      return;
  }
}

function describeFailure(name: BackendName, error: unknown): string {
  const { package: pkg, needs } = BACKENDS[name];
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(pkg)) {
    return `${pkg} is not installed (${needs})`;
  }
  return `${pkg} failed to initialise (${needs}): ${message.split('\n')[0]}`;
}
