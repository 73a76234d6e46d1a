import { defineCommand } from 'citty';
import { verifyVersion } from '../../publish/verify.ts';
import { formatBytes, S3_ARGS, storeFromFlags, withStore } from '../../publish/cli-support.ts';
import { CLIError } from '../errors.ts';

/** `reelrank verify --store <url> [--version <v>]`: exits 1 naming every bad file. */
export default defineCommand({
  meta: {
    name: 'verify',
    description:
      'Check size and sha256 of every file of the live (or a named) version; exit 1 naming each bad file.',
  },
  args: {
    store: {
      type: 'string',
      required: true,
      description: "Store: 's3://bucket/prefix', 'file://dir' or a path.",
    },
    version: {
      type: 'string',
      description: 'Version to check (default: the live one, as current.json names it).',
    },
    ...S3_ARGS,
    json: { type: 'boolean', default: false, description: 'Print one JSON report.' },
  },
  async run({ args }) {
    const store = storeFromFlags(args.store, args);
    const json = args.json === true;
    const report = await withStore(store, () =>
      verifyVersion(store, {
        ...(args.version ? { version: args.version } : {}),
        onFile: (path, index, total, problem) => {
          if (!json) console.log(`${problem === null ? 'ok ' : 'BAD'} ${index}/${total} ${path}`);
        },
      }),
    );
    if (json) console.log(JSON.stringify(report));
    if (report.problems.length > 0) {
      throw new CLIError(
        `version ${report.version} in ${store.description} has ${report.problems.length} bad file(s):\n${report.problems
          .map((p) => `  ${p.path}: ${p.message} [${p.code}]`)
          .join('\n')}`,
      );
    }
    if (!json) {
      console.log(
        `Version ${report.version} in ${store.description} is intact: ${report.checkedFiles} files, ${formatBytes(report.checkedBytes)}.`,
      );
    }
  },
});
