#!/usr/bin/env node
// Entry point of the `reelrank` CLI. The CLI is TypeScript; tsx compiles it on the fly so that
// `npx reelrank` works straight after `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../train/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
