import { defineCommand } from 'citty';
import { CLIError } from '../errors.ts';
import { formatBytes, S3_ARGS, storeFromFlags, versionFolder, withStore } from '../../publish/cli-support.ts';
import { publishVersion } from '../../publish/publish.ts';

function parsePercent(text: string): number {
  const percent = Number(text.endsWith('%') ? text.slice(0, -1) : text);
  if (text.trim() === '' || !Number.isFinite(percent) || percent <= 0 || percent >= 100) {
    throw new CLIError(`--canary takes a percent above 0 and below 100 (e.g. --canary 10), got '${text}'.`);
  }
  return percent;
}

/** `reelrank publish --from artifacts/<version> --to s3://bucket/prefix | file://dir` */
export default defineCommand({
  meta: {
    name: 'publish',
    description:
      'Upload a finished version folder, re-read and verify every file, then point current.json at it (written last).',
  },
  args: {
    from: {
      type: 'string',
      required: true,
      description: 'Local version folder, e.g. artifacts/2026-11-21T06-30-00Z-ab12cd34.',
    },
    to: {
      type: 'string',
      required: true,
      description: "Target store: 's3://bucket/prefix', 'file://dir' or a path.",
    },
    canary: {
      type: 'string',
      description:
        'Publish as a canary serving this percent of people (e.g. 10) beside the live version; end it with `reelrank promote` or `reelrank abort`.',
    },
    ...S3_ARGS,
    json: {
      type: 'boolean',
      default: false,
      description: 'Print one JSON result instead of progress lines.',
    },
  },
  async run({ args }) {
    const quiet = args.json === true;
    const log = (line: string) => {
      if (!quiet) console.error(line);
    };
    const canary = args.canary === undefined ? undefined : { percent: parsePercent(args.canary) };
    const source = versionFolder(args.from);
    const target = storeFromFlags(args.to, args, {
      onUploadProgress: (key, loaded, total) =>
        log(`  ${key}: ${formatBytes(loaded)} / ${formatBytes(total)}`),
    });
    const started = performance.now();
    const result = await withStore(target, () =>
      publishVersion(source, target, {
        canary,
        onProgress: (event) => {
          if (event.phase === 'upload') {
            log(`upload ${event.index}/${event.total} ${event.path} (${formatBytes(event.bytes)})`);
          } else if (event.phase === 'verify') {
            log(`verify ${event.index}/${event.total} ${event.path} ${event.ok ? 'ok' : 'BAD'}`);
          } else if (event.phase === 'pointer' && canary) {
            log(`pointer: canary -> ${event.version} at ${canary.percent}% (live unchanged)`);
          } else if (event.phase === 'pointer') {
            log(`pointer -> ${event.version} (previous: ${event.previous ?? 'none'})`);
          }
        },
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    if (quiet) {
      console.log(JSON.stringify({ ...result, seconds: Number(seconds.toFixed(3)) }));
    } else if (canary) {
      console.log(
        `Published ${result.version} to ${target.description} as a canary: ${canary.percent}% of people, ${result.pointer.version} keeps ${100 - canary.percent}%; ${result.files} files, verified, in ${seconds.toFixed(1)} s. End it with \`reelrank promote\` or \`reelrank abort\`.`,
      );
    } else if (result.alreadyLive) {
      console.log(`${result.version} is already live in ${target.description}; nothing uploaded.`);
    } else {
      if (result.repairedPointer !== null)
        console.log(`Replaced the unreadable pointer of ${target.description} (${result.repairedPointer}).`);
      console.log(
        `Published ${result.version} to ${target.description}: ${result.files} files, ${formatBytes(result.bytes)}, verified, in ${seconds.toFixed(1)} s.`,
      );
    }
  },
});
