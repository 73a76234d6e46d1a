/**
 * Worker entry: the Hono app for requests, and the cron trigger (wrangler.toml) re-reading the
 * pointer so a newly published version goes live without a redeploy.
 */
import { createApp } from './app.ts';
import { refresh } from './live.ts';

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(refresh(env));
  },
} satisfies ExportedHandler<Env>;
