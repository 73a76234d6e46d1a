/**
 * `--name N` from the benchmark's command line: a positive number, else `fallback` when absent;
 * anything else stops the bench with a message naming the option.
 * @example numberArg('requests', 2000) // 500 with `npm run bench -- latency --requests 500`
 */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} must be a positive number, got ${JSON.stringify(process.argv[i + 1])}`);
  return value;
}
