import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { TEST_READ_KEYS, TEST_WRITE_KEYS } from './test/support/edge-keys.ts';

// Two projects: Node (train/, shared/, bench helpers) and the Workers runtime (edge/), the latter
// running inside real workerd through @cloudflare/vitest-pool-workers.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // The secrets of wrangler.toml's [secrets] (in production: wrangler secret put).
            miniflare: {
              bindings: {
                READ_API_KEYS: TEST_READ_KEYS.join(','),
                WRITE_API_KEYS: TEST_WRITE_KEYS.join(','),
              },
              // A tight limiter the rate-limit test swaps in for KEY_RATE_LIMIT (wrangler.toml's stay).
              ratelimits: { TEST_TIGHT_RATE_LIMIT: { simple: { limit: 5, period: 60 } } },
            },
          }),
        ],
        test: {
          name: 'edge',
          include: ['test/edge/**/*.test.ts'],
          // Trains and writes the real small versions the workerd tests seed R2 with (Node side).
          globalSetup: ['test/node/kernels/edge-global-setup.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
