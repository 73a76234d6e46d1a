/**
 * Worker entry: the Hono app for requests, the cron trigger (wrangler.toml) re-reading the
 * pointer so a newly published version goes live without a redeploy, the feedback events queue
 * consumer, and the Durable Object class holding each user's / session's recent events.
 */
import { createApp } from './app.ts';
import { consumeEvents } from './events-consumer.ts';
import { refresh } from './live.ts';

export { FeedbackStore } from './feedback-store.ts';

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(refresh(env));
  },
  async queue(batch, env, _ctx) {
    await consumeEvents(batch, env.EVENTS);
  },
} satisfies ExportedHandler<Env>;
