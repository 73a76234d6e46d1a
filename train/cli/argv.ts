import { CLIError } from './errors.ts';

/** What the checker needs of a citty argument definition. */
export interface DeclaredArg {
  type?: string;
  alias?: string | string[];
}

/**
 * String options where an explicitly empty value means something (`retrain --gate ''`: no gate).
 * Every other string option needs a non-empty value.
 */
const EMPTY_ALLOWED = new Set(['gate']);

const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Edit distance (insert, delete, substitute, swap of neighbours), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The declared option closest to `name` (a prefix of it, or at most 2 edits away), if any. */
export function suggestOption(name: string, declared: readonly string[]): string | undefined {
  const prefixed = declared.filter((d) => d.startsWith(name) || name.startsWith(d));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.max(1, Math.floor(name.length / 3)));
  for (const candidate of declared) {
    const distance = editDistance(name, candidate);
    if (distance <= bestDistance && (best === undefined || distance < bestDistance)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ?? prefixed[0];
}

/**
 * Check a command's argv (after the command name) against its declared citty arguments, before
 * citty parses it. citty (node's parseArgs with `strict: false`) accepts anything: a misspelled
 * `--dat DIR` becomes an ignored flag plus an ignored positional, `--data` with no value becomes
 * an empty string, `--data --model x` makes '--model' the folder. Here each of those is a
 * CLIError (exit 1) naming the option, with the closest declared option as a suggestion.
 *
 * @example checkArgv('retrain', ['--dat', 'x'], { data: { type: 'string' } }) // throws "unknown option --dat ... did you mean --data?"
 */
export function checkArgv(
  command: string,
  argv: readonly string[],
  declared: Record<string, DeclaredArg>,
): void {
  const byName = new Map<string, { name: string; type: string }>();
  for (const [name, def] of Object.entries(declared)) {
    const entry = { name, type: def.type ?? 'string' };
    for (const spelling of [name, camel(name), kebab(name)]) byName.set(spelling, entry);
    const aliases = def.alias === undefined ? [] : Array.isArray(def.alias) ? def.alias : [def.alias];
    for (const alias of aliases) byName.set(alias, entry);
  }
  const positionals = Object.values(declared).some((d) => d.type === 'positional');
  const help = `run 'reelrank ${command} --help' for its options`;
  const options = Object.entries(declared)
    .filter(([, d]) => d.type !== 'positional')
    .map(([name]) => name);
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) {
      if (positionals) continue;
      throw new CLIError(
        `'reelrank ${command}' takes no argument '${token}' (options start with --); ${help}`,
      );
    }
    if (token === '--') throw new CLIError(`'reelrank ${command}' takes nothing after '--'; ${help}`);
    const body = token.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const rawName = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    let option = byName.get(rawName);
    let negated = false;
    if (option === undefined && rawName.startsWith('no-')) {
      const positive = byName.get(rawName.slice(3));
      if (positive?.type === 'boolean') {
        option = positive;
        negated = true;
      }
    }
    if (option === undefined) {
      const guess = suggestOption(kebab(rawName.replace(/^no-/, '')), options);
      throw new CLIError(
        `unknown option '${token.split('=')[0]}' for 'reelrank ${command}'${guess ? `; did you mean --${guess}?` : ''} (${help})`,
      );
    }
    if (seen.has(option.name))
      throw new CLIError(`option --${option.name} is given twice; give it once (${help})`);
    seen.add(option.name);
    if (option.type === 'boolean') {
      if (inline !== undefined && (negated || (inline !== 'true' && inline !== 'false')))
        throw new CLIError(
          `option --${option.name} is a switch: give --${option.name} or --no-${option.name}, not '${token}'`,
        );
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // An option name where the value should be is a forgotten value, not a value.
      if (next !== undefined && !(next.startsWith('--') && next.length > 2)) {
        value = next;
        i++;
      }
    }
    if (value === undefined || (value === '' && !EMPTY_ALLOWED.has(option.name)))
      throw new CLIError(`option --${option.name} needs a value (--${option.name} <value>); ${help}`);
  }
}
