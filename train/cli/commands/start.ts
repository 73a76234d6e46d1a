import { type CommandDef, defineCommand } from 'citty';
import { CLIError } from '../errors.ts';
import { applyThreads, threadsArg } from '../threads.ts';

/**
 * `reelrank start` (what `npm start` runs): train the default model on the embedded
 * ml-latest-small data, write the version to artifacts/, publish it into wrangler dev's local R2
 * (pointer last, as in production), and serve the edge API on localhost in workerd.
 */
const startCommand = defineCommand({
  meta: {
    name: 'start',
    description:
      'Train the default model on the embedded data, publish it locally and serve the API on localhost (wrangler dev).',
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
    port: { type: 'string', default: '8787', description: 'Port of the local API.' },
    serve: {
      type: 'boolean',
      default: true,
      description: 'Serve the API after publishing (--no-serve: train and publish only).',
    },
  },
  async run({ args }) {
    applyThreads(args.threads);
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new CLIError(`--port must be an integer from 1 to 65535, got '${args.port}'`);
    const { runTraining } = await import('../../pipeline/train.ts');
    const { publishVersion } = await import('../../publish/publish.ts');
    const { FsStore } = await import('../../store/fs.ts');
    const { openLocalR2, startLocalEdge } = await import('../local-edge.ts');

    console.log('reelrank start: 1/3 training the default model');
    const result = await runTraining({
      out: args.out,
      ...(args.data ? { data: args.data } : {}),
      ...(args.tmdb ? { tmdb: args.tmdb } : {}),
      ...(args.posters ? { posters: args.posters } : {}),
      log: (line) => console.log(`  ${line}`),
    });

    console.log("reelrank start: 2/3 publishing into wrangler dev's local R2 (.wrangler/state)");
    const local = await openLocalR2();
    try {
      const published = await publishVersion(new FsStore(result.dir), local.store);
      console.log(`  live version: ${published.version} (${published.files} files, verified)`);
    } finally {
      await local.close();
    }

    if (args.serve === false) return;
    console.log(`reelrank start: 3/3 serving the edge API on http://127.0.0.1:${port} (Ctrl-C to stop)`);
    const edge = startLocalEdge({ port });
    const stop = () => edge.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await edge.ready;
    const base = edge.baseUrl;
    console.log(
      [
        '',
        'Try:',
        `  open ${base}/                                       (web page)`,
        `  curl '${base}/v1/health'`,
        `  curl '${base}/v1/users/1/recommendations?k=10'`,
        `  curl '${base}/v1/movies?q=heat'`,
        `  curl '${base}/v1/movies/6/similar?by=hybrid&k=5'`,
        `  curl '${base}/v1/users/1/predictions/6'`,
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
