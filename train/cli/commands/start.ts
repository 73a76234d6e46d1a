import { resolve } from 'node:path';
import { type CommandDef, defineCommand } from 'citty';
import { CLIError } from '../errors.ts';
import { applyThreads, threadsArg } from '../threads.ts';

/**
 * `reelrank start` (what `npm start` runs): train the default model on the embedded
 * ml-latest-small data (or reuse the newest local version trained on the same data, model and
 * seed), write the version to artifacts/, publish it into wrangler dev's local R2 (pointer last,
 * as in production), and serve the edge API on localhost in workerd with API keys.
 */
const startCommand = defineCommand({
  meta: {
    name: 'start',
    description:
      'Train the default model on the embedded data (or reuse an identical local version), publish it locally and serve the API on localhost (wrangler dev) with API keys from REELRANK_READ_KEY / REELRANK_WRITE_KEY or generated ones.',
  },
  args: {
    threads: threadsArg,
    data: { type: 'string', description: 'Dataset folder. Default: the embedded data/ml-latest-small.' },
    tmdb: { type: 'string', description: 'A tmdb-5000 folder to join for richer content features.' },
    posters: {
      type: 'string',
      description:
        'A folder of <movieId>.jpg|png posters: adds poster embeddings and by=visual similar movies.',
    },
    out: { type: 'string', default: 'artifacts', description: 'Folder that receives the version.' },
    port: {
      type: 'string',
      default: '8787',
      description: 'Port of the local API (checked before training).',
    },
    serve: {
      type: 'boolean',
      default: true,
      description: 'Serve the API after publishing (--no-serve: train and publish only).',
    },
    retrain: {
      type: 'boolean',
      default: false,
      description:
        'Train even when the newest local version was trained on the same data, model and seed (it is reused otherwise).',
    },
    content: {
      type: 'boolean',
      default: true,
      description: 'Fit text embeddings for content features (--no-content: faster, no content channel).',
    },
    'persist-to': {
      type: 'string',
      description: "wrangler dev's local state (its R2). Default: .wrangler/state of the repository.",
    },
  },
  async run({ args }) {
    applyThreads(args.threads);
    const port = Number(args.port);
    if (!/^\d+$/.test(args.port) || port < 1 || port > 65535)
      throw new CLIError(`--port must be an integer from 1 to 65535, got '${args.port}'`);
    const serve = args.serve !== false;
    const { assertPortFree, reusableVersion, startKeys, writeSecretsFile } = await import(
      '../start-support.ts'
    );
    // Before minutes of training: a busy port or a malformed key fails now.
    if (serve) await assertPortFree(port);
    const keys = serve ? startKeys() : null;
    const { DEFAULT_PERSIST_DIR, REPO_ROOT, openLocalR2, startLocalEdge } = await import('../local-edge.ts');
    const persistTo = args['persist-to'] ? resolve(args['persist-to']) : DEFAULT_PERSIST_DIR;
    const { loadDataset } = await import('../../data/index.ts');
    const { DEFAULT_MODEL, DEFAULT_RANK_MODEL } = await import('../../models/registry.ts');
    const { datasetFingerprint, runTraining, skippedRowsLine } = await import('../../pipeline/train.ts');
    const content = args.content !== false;
    const seed = 0;

    const dataset = await loadDataset(args.data || undefined, {
      ...(args.tmdb ? { tmdb: args.tmdb } : {}),
      ...(args.posters ? { posters: args.posters } : {}),
    });
    const what = `${DEFAULT_MODEL} (ratings) + ${DEFAULT_RANK_MODEL} (ranking)${content ? ' + LSA content' : ''} on ${dataset.name}, ${dataset.ratings.length.toLocaleString('en-US')} ratings, seed ${seed}`;
    const reuse = args.retrain
      ? null
      : await reusableVersion(args.out, {
          datasetFingerprint: await datasetFingerprint(dataset),
          model: DEFAULT_MODEL,
          rankModel: DEFAULT_RANK_MODEL,
          seed,
          content,
          tmdb: Boolean(args.tmdb),
          posters: Boolean(args.posters),
        });
    let versionDir: string;
    if (reuse !== null) {
      console.log(`reelrank start: 1/3 reusing ${reuse.version}: ${what} (--retrain to train anew)`);
      console.log(`  ${skippedRowsLine(dataset)}`);
      versionDir = reuse.dir;
    } else {
      console.log(`reelrank start: 1/3 training ${what}`);
      const result = await runTraining({
        out: args.out,
        dataset,
        seed,
        content,
        ...(args.posters ? { posters: args.posters } : {}),
        log: (line) => console.log(`  ${line}`),
      });
      versionDir = result.dir;
    }

    console.log(`reelrank start: 2/3 publishing into wrangler dev's local R2 (${persistTo})`);
    const { publishVersion } = await import('../../publish/publish.ts');
    const { FsStore } = await import('../../store/fs.ts');
    const local = await openLocalR2(persistTo);
    try {
      const published = await publishVersion(new FsStore(versionDir), local.store);
      console.log(
        published.alreadyLive
          ? `  live version: ${published.version} (already live)`
          : `  live version: ${published.version} (${published.files} files, verified)`,
      );
    } finally {
      await local.close();
    }

    if (!serve || keys === null) return;
    console.log(`reelrank start: 3/3 serving the edge API on http://127.0.0.1:${port} (Ctrl-C to stop)`);
    const envFiles = await writeSecretsFile(keys, { repoRoot: REPO_ROOT, persistTo });
    const edge = startLocalEdge({ port, persistTo, envFiles });
    const stop = () => edge.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await edge.ready;
    const base = edge.baseUrl;
    const auth = `-H 'Authorization: Bearer ${keys.read}'`;
    const origin = (generated: boolean, name: string) =>
      generated ? 'generated for this run' : `from ${name}`;
    console.log(
      [
        '',
        'API keys of the local Worker (its secrets READ_API_KEYS / WRITE_API_KEYS):',
        `  read:  ${keys.read}  (${origin(keys.readGenerated, 'REELRANK_READ_KEY')})`,
        `  write: ${keys.write}  (${origin(keys.writeGenerated, 'REELRANK_WRITE_KEY')})`,
        '',
        'Try:',
        `  open ${base}/                                       (web page)`,
        `  curl '${base}/v1/health'`,
        `  curl ${auth} '${base}/v1/users/1/recommendations?k=10'`,
        `  curl ${auth} '${base}/v1/users/1/predictions/6'`,
        `  curl '${base}/v1/movies?q=heat'`,
        `  curl '${base}/v1/movies/6/similar?by=hybrid&k=5'`,
        `  curl -X POST '${base}/v1/recommendations' -H 'content-type: application/json' \\`,
        `       -d '{"ratings":[{"movieId":1,"rating":5},{"movieId":260,"rating":4.5}]}'`,
        '',
      ].join('\n'),
    );
    const code = await edge.exited;
    if (code !== 0) throw new CLIError(`wrangler dev exited with code ${code}`);
  },
});

export default startCommand as unknown as CommandDef;
