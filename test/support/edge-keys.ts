/**
 * The API keys the workerd tests run with (vitest.config.ts hands them to miniflare as the secrets
 * READ_API_KEYS / WRITE_API_KEYS): two of each kind, as during a rotation.
 */
export const TEST_READ_KEYS = ['test-read-key-old-5f3a', 'test-read-key-new-9c1e'] as const;
export const TEST_WRITE_KEYS = ['test-write-key-old-27b4', 'test-write-key-new-d80f'] as const;
