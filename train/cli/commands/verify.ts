import { defineCommand } from 'citty';
import type { FileProblem } from '../../../shared/artifacts/loader.ts';
import { MANIFEST_FILE, POINTER_KEY } from '../../../shared/artifacts/spec.ts';
import { verifyVersion, verifyVersionFolder } from '../../publish/verify.ts';
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
      description:
        "Store: 's3://bucket/prefix', 'file://dir' or a path; or a local version folder (artifacts/<version>).",
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
    const onFile = (path: string, index: number, total: number, problem: FileProblem | null) => {
      if (!json) console.log(`${problem === null ? 'ok ' : 'BAD'} ${index}/${total} ${path}`);
    };
    const report = await withStore(store, async () => {
      // A local version folder (artifacts/<version>: manifest.json at its root, no pointer) is
      // checked as it is, before publishing.
      const isFolder =
        !args.version &&
        (await store.head(MANIFEST_FILE)) !== null &&
        (await store.head(POINTER_KEY)) === null;
      if (isFolder) return verifyVersionFolder(store, onFile);
      return verifyVersion(store, { ...(args.version ? { version: args.version } : {}), onFile });
    });
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
