import { expect, it } from 'vitest';
import { runCli } from '../../train/cli/main.ts';

it('prints usage', async () => {
  expect(await runCli(['--help'])).toBe(0);
  expect(await runCli(['nope'])).toBe(1);
});
