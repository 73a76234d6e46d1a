import { defineCommand } from 'citty';
import { formatBytes, S3_ARGS, STORE_ARG, storeFromFlags, withStore } from '../../publish/cli-support.ts';
import { prune } from '../../publish/versions.ts';
import { CLIError } from '../errors.ts';

/** `reelrank prune --store <url> --keep N`: never deletes the live version or the one before it. */
export default defineCommand({
  meta: {
    name: 'prune',
    description:
      'Delete all but the newest N versions; the live version and the one before it are always kept.',
  },
  args: {
    ...STORE_ARG,
    keep: { type: 'string', required: true, description: 'How many of the newest versions to keep (>= 1).' },
    'dry-run': { type: 'boolean', default: false, description: 'Only print what would be deleted.' },
    ...S3_ARGS,
  },
  async run({ args }) {
    const keep = Number(args.keep);
    if (!/^\d+$/.test(args.keep) || keep < 1) {
      throw new CLIError(`--keep must be a whole number >= 1, got ${JSON.stringify(args.keep)}.`);
    }
    const dryRun = args['dry-run'] === true;
    const store = storeFromFlags(args.store, args);
    const result = await withStore(store, () => prune(store, keep, { dryRun }));
    for (const version of result.deleted) console.log(`${dryRun ? 'would delete' : 'deleted'} ${version}`);
    console.log(
      `${dryRun ? 'Would delete' : 'Deleted'} ${result.deleted.length} version(s) (${result.deletedObjects} objects, ${formatBytes(result.deletedBytes)}); kept ${result.kept.length}: ${result.kept.join(', ') || 'none'}.`,
    );
  },
});
