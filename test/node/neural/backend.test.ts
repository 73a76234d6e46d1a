import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { type BackendName, loadBackend, parseBackendChoice, selectBackend } from '../../../train/backend.ts';
import { isReelrankError } from '../../../shared/errors.ts';

describe('selectBackend', () => {
  afterAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  it('names the missing package and the alternatives when gpu is requested here', async () => {
    // tfjs-node-gpu is an optional dependency that cannot install offline: the real error path.
    const error = await selectBackend({ backend: 'gpu' }).catch((e: unknown) => e);
    expect(isReelrankError(error)).toBe(true);
    expect((error as Error).message).toBe(
      "backend 'gpu' could not load: @tensorflow/tfjs-node-gpu is not installed (needs CUDA 11.2 + cuDNN 8.1 and a downloaded libtensorflow) — use --backend node|wasm|cpu",
    );
  });

  it('reports a missing tfjs-node the same way', async () => {
    await expect(selectBackend({ backend: 'node' })).rejects.toThrow(
      /^backend 'node' could not load: @tensorflow\/tfjs-node is not installed .* use --backend gpu\|wasm\|cpu$/,
    );
  });

  it('falls back under auto to wasm, recording why gpu and node were skipped', async () => {
    const selection = await selectBackend();
    expect(selection.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.skipped.map((s) => s.backend)).toEqual(['gpu', 'node']);
    expect(selection.skipped[0]?.error).toContain('@tensorflow/tfjs-node-gpu is not installed');
    // The wasm backend really computes: [1,2]·[3,4] = 11.
    const dot = tf.tidy(() => tf.dot(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])));
    expect(dot.dataSync()[0]).toBe(11);
    dot.dispose();
  });

  it('falls back past a backend that is installed but fails to initialise', async () => {
    const loader = async (name: BackendName) => {
      if (name === 'wasm') throw new Error('CompileError: WebAssembly.instantiate(): simulated');
      await loadBackend(name);
    };
    const selection = await selectBackend({ loader });
    expect(selection.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(selection.skipped.at(-1)).toEqual({
      backend: 'wasm',
      error:
        '@tensorflow/tfjs-backend-wasm failed to initialise (ships its .wasm files inside the npm package): CompileError: WebAssembly.instantiate(): simulated',
    });
  });

  it('selects an explicitly requested backend', async () => {
    expect((await selectBackend({ backend: 'cpu' })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('rejects an unknown --backend value with the allowed list', () => {
    expect(() => parseBackendChoice('tpu')).toThrow(
      "--backend 'tpu' is not a backend. Allowed: auto, gpu, node, wasm, cpu.",
    );
    expect(parseBackendChoice('wasm')).toBe('wasm');
  });
});
