import { defineCommand } from 'citty';

/** `reelrank start`: the main job on the embedded default data (grows as training and serving land). */
export default defineCommand({
  meta: { name: 'start', description: 'Run the main job on the embedded ml-latest-small data.' },
  args: {},
  async run() {
    const { default: ingest } = await import('./ingest.ts');
    await ingest.run?.({ rawArgs: [], args: { _: [] } as never, cmd: ingest });
  },
});
