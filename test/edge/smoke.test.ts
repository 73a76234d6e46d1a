import { env, SELF } from 'cloudflare:test';
import { expect, it } from 'vitest';

it('answers health in workerd', async () => {
  const res = await SELF.fetch('https://example.com/v1/health');
  expect(res.status).toBe(200);
  expect(env.ARTIFACTS).toBeDefined();
});
