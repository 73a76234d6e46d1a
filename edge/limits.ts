/**
 * Rate limits with the Workers Rate Limiting bindings of wrangler.toml (`[[ratelimits]]`, simulated
 * by miniflare locally): every request counts against its client IP (`CF-Connecting-IP`, set by
 * Cloudflare's edge and not forgeable there), and an authenticated one also against its API key.
 * Over the limit: 429 with the error envelope and `Retry-After`. The limits themselves
 * (`simple = { limit, period }`) are configured in wrangler.toml.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';
import { errorBody } from './errors.ts';

/** `Retry-After` in seconds: the period of the bindings (var RATE_LIMIT_PERIOD_SECONDS, default 60). */
function retryAfterSeconds(env: Env): number {
  const seconds = Number(env.RATE_LIMIT_PERIOD_SECONDS);
  return Number.isInteger(seconds) && seconds > 0 ? seconds : 60;
}

function bindingOf(env: Env, name: 'IP_RATE_LIMIT' | 'KEY_RATE_LIMIT'): RateLimit | null {
  const binding: RateLimit | undefined = env[name];
  return binding && typeof binding.limit === 'function' ? binding : null;
}

/** A 429 when `key` is over the limit of `binding`, else null. A failing limiter lets the request through. */
async function check(
  c: Context<AppEnv>,
  binding: RateLimit | null,
  key: string,
  what: string,
): Promise<Response | null> {
  if (!binding) return null;
  let success: boolean;
  try {
    ({ success } = await binding.limit({ key }));
  } catch (error) {
    console.error(`reelrank: rate limiter for ${what} failed, letting the request through`, error);
    return null;
  }
  if (success) return null;
  const retryAfter = retryAfterSeconds(c.env);
  return c.json(
    errorBody('rate_limited', `too many requests from this ${what}; retry in ${retryAfter} s`),
    429,
    { 'Retry-After': String(retryAfter) },
  );
}

/**
 * Middleware: counts the request against its client IP. A request without `CF-Connecting-IP`
 * cannot come through Cloudflare's edge (only in-process tests and direct calls lack it) and is
 * limited by key only.
 */
export function limitByIp(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ip = c.req.header('cf-connecting-ip');
    if (ip) {
      const limited = await check(c, bindingOf(c.env, 'IP_RATE_LIMIT'), `ip:${ip}`, 'client IP');
      if (limited) return limited;
    }
    await next();
  };
}

/** Counts an authenticated request against its key (`read:0`, ...): a 429 response, or null. */
export function limitByKey(c: Context<AppEnv>, keyId: string): Promise<Response | null> {
  return check(c, bindingOf(c.env, 'KEY_RATE_LIMIT'), `key:${keyId}`, 'API key');
}
