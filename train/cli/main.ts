import { type CommandDef, defineCommand, renderUsage, runCommand } from 'citty';
import { isReelrankError } from '../../shared/errors.ts';
import { CLIError } from './errors.ts';

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
    console.log(await renderUsage(main));
    return 0;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    const { cmd, parent } = await resolveCommand(argv);
    console.log(await renderUsage(cmd, parent));
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-v') {
    console.log('0.1.0');
    return 0;
  }
  const name = argv[0] ?? '';
  if (!name.startsWith('-') && !(name in commands)) {
    console.error(`reelrank: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}.`);
    return 1;
  }
  try {
    await runCommand(main, { rawArgs: argv });
    return 0;
  } catch (error) {
    if (error instanceof CLIError) {
      console.error(`reelrank: ${error.message}`);
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
      console.error(`reelrank: ${error.message}`);
      return 1;
    }
    console.error(error);
    return 2;
  } finally {
    const { closeTrainingPool } = await import('../parallel/pool.ts');
    await closeTrainingPool();
  }
}
