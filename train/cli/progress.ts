import cliProgress from 'cli-progress';

/** A progress bar for one long step. All methods are no-ops when the bar is quiet. */
export interface Progress {
  /** Set the current value (and optionally a new total). */
  update(done: number, total?: number): void;
  /** Finish the bar (leaves the final state on screen). Safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  /** Never draw (e.g. with --json, whose stdout must be only the JSON object). */
  quiet?: boolean;
  /** 'bytes' shows MB, 'items' plain counts. */
  unit?: 'bytes' | 'items';
}

const QUIET: Progress = { update() {}, stop() {} };

function formatValue(value: number, unit: 'bytes' | 'items'): string {
  if (unit === 'bytes') return `${(value / 1e6).toFixed(1)} MB`;
  return value.toLocaleString('en-US');
}

/**
 * A progress bar on stderr for a long step (ingesting a 32M-row file, training epochs, uploads).
 * It draws only for a person at a terminal: quiet when stdout or stderr is not a TTY (pipes, CI,
 * tests) or when `quiet` is set, so machine-readable output is never mixed with bar frames.
 *
 * @example const bar = createProgress('ratings.csv', { unit: 'bytes' }); bar.update(n, size); bar.stop();
 */
export function createProgress(
  label: string,
  { quiet = false, unit = 'items' }: ProgressOptions = {},
): Progress {
  if (quiet || !process.stdout.isTTY || !process.stderr.isTTY) return QUIET;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {done} / {all} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(done, total) {
      if (stopped) return;
      const payload = { done: formatValue(done, unit), all: formatValue(total ?? bar.getTotal(), unit) };
      if (!started) {
        started = true;
        bar.start(total ?? 0, done, payload);
        return;
      }
      if (total !== undefined) bar.setTotal(total);
      bar.update(done, payload);
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
