#!/usr/bin/env node
// `npm run bench -- <name> [args...]`: runs bench/<name>.ts through tsx (so benchmarks are plain
// TypeScript like the rest of the code), passing the extra arguments on. Each benchmark writes
// bench/results/<name>.json itself.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(benchDir)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
  .map((file) => file.slice(0, -3))
  .sort();
const [name, ...rest] = process.argv.slice(2);

if (!name || name.startsWith('-')) {
  console.error(`usage: npm run bench -- <name> [args...]. Benchmarks: ${available.join(', ') || '(none)'}.`);
  process.exit(1);
}
const file = join(benchDir, `${name}.ts`);
if (!/^[\w.-]+$/.test(name) || !existsSync(file)) {
  console.error(`bench: unknown benchmark '${name}'. Benchmarks: ${available.join(', ') || '(none)'}.`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', file, ...rest], {
  stdio: 'inherit',
  cwd: join(benchDir, '..'),
});
if (result.error) {
  console.error(`bench: could not run ${file}: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
