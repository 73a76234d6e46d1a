import { type CommandDef, defineCommand, renderUsage, runCommand } from 'citty';
import { isReelrankError } from '../../shared/errors.ts';
import { checkArgv, type DeclaredArg, suggestOption } from './argv.ts';
import { CLIError } from './errors.ts';

/**
 * The AWS SDK warns on every process under Node < 22 about SDK releases of 2027; this package pins
 * its SDK version and supports Node >= 20.19, so the warning only adds noise to every command.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Colour codes only for a person at a terminal: not when stdout is piped or redirected, and not
 * when NO_COLOR is set to anything (https://no-color.org) or TERM is dumb. citty colours its
 * usage and errors unconditionally (it only checks NO_COLOR=1, CI and TEST), so its text is
 * stripped here.
 */
export function useColor(env: NodeJS.ProcessEnv = process.env, tty = process.stdout.isTTY === true): boolean {
  return tty && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

/** `text` without ANSI colour codes unless colour is wanted (see useColor). */
export function paint(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts every SGR sequence.
  return useColor() ? text : text.replace(/\u001b\[[0-9;]*m/g, '');
}

/**
 * The `reelrank` command line. One file per command under `./commands/`, imported lazily so that
 * `reelrank ingest` never pays for loading TensorFlow.js or the AWS SDK.
 */
// Commands keep their precise argument types inside; the table only needs the untyped CommandDef.
const lazy = (load: () => Promise<{ default: unknown }>) => () => load().then((m) => m.default as CommandDef);

// biome-ignore lint/suspicious/noExplicitAny: citty's sub-command table is untyped by design.
export const commands: Record<string, () => Promise<CommandDef<any>>> = {
  start: lazy(() => import('./commands/start.ts')),
  ingest: lazy(() => import('./commands/ingest.ts')),
  publish: lazy(() => import('./commands/publish.ts')),
  verify: lazy(() => import('./commands/verify.ts')),
  versions: lazy(() => import('./commands/versions.ts')),
  rollback: lazy(() => import('./commands/rollback.ts')),
  promote: lazy(() => import('./commands/promote.ts')),
  abort: lazy(() => import('./commands/abort.ts')),
  experiment: lazy(() => import('./commands/experiment.ts')),
  prune: lazy(() => import('./commands/prune.ts')),
  train: lazy(() => import('./commands/train.ts')),
  evaluate: lazy(() => import('./commands/evaluate.ts')),
  embed: lazy(() => import('./commands/embed.ts')),
  retrain: lazy(() => import('./commands/retrain.ts')),
  predict: lazy(() => import('./commands/predict.ts')),
};

export const main = defineCommand({
  meta: {
    name: 'reelrank',
    version: '0.1.0',
    description: 'Hybrid movie recommender: train, evaluate, export and publish models for the edge API.',
  },
  subCommands: commands,
});

/** Find the (sub)command that argv addresses, for printing its usage next to an error. */
async function resolveCommand(argv: string[]): Promise<{ cmd: CommandDef; parent?: CommandDef }> {
  const name = argv.find((a) => !a.startsWith('-'));
  const load = name ? commands[name] : undefined;
  return load ? { cmd: await load(), parent: main } : { cmd: main };
}

/**
 * Run the CLI with `argv` (without `node` and the script). Returns the exit code instead of
 * exiting, so tests can call it directly.
 */
export async function runCli(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    console.log(paint(await renderUsage(main)));
    return 0;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    const { cmd, parent } = await resolveCommand(argv);
    console.log(paint(await renderUsage(cmd, parent)));
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    console.log('0.1.0');
    return 0;
  }
  const name = argv[0] ?? '';
  if (name.startsWith('-')) {
    console.error(
      `reelrank: unknown option '${name}' before the command; usage: reelrank <command> [options]. Commands: ${Object.keys(commands).join(', ')}.`,
    );
    return 1;
  }
  if (!(name in commands)) {
    const guess = suggestOption(name, Object.keys(commands));
    console.error(
      `reelrank: unknown command '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}. Commands: ${Object.keys(commands).join(', ')}.`,
    );
    return 1;
  }
  try {
    // One check of argv against the command's declared options, for every command.
    const cmd = await commands[name]!();
    checkArgv(name, argv.slice(1), ((await cmd.args) ?? {}) as Record<string, DeclaredArg>);
    await runCommand(main, { rawArgs: argv });
    return 0;
  } catch (error) {
    if (error instanceof CLIError) {
      console.error(paint(`reelrank: ${error.message}`));
      return error.exitCode;
    }
    if (isReelrankError(error)) {
      console.error(`reelrank: ${error.message} [${error.code}]`);
      return 1;
    }
    // citty reports bad arguments with its own error type; show them as user errors too.
    if (
      error instanceof Error &&
      /E_UNKNOWN_COMMAND|E_NO_COMMAND|Missing required/.test(
        `${(error as { code?: string }).code} ${error.message}`,
      )
    ) {
      console.error(paint(`reelrank: ${error.message}`));
      return 1;
    }
    console.error(error);
    return 2;
  } finally {
    const { closeTrainingPool } = await import('../parallel/pool.ts');
    await closeTrainingPool();
  }
}
