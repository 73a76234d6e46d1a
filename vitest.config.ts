import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

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
