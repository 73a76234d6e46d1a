/**
 * Reads a request body once, up front: bodies over the limit get 413, and a client that drops its
 * connection mid-body is logged as a client abort (a warning, not an internal error) and answered
 * 400 `client_aborted` (which it will not read). The bytes are put back on the request, so the
 * JSON validators read them as usual.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';
import { errorBody } from './errors.ts';

export function readBody({ maxBytes }: { maxBytes: number }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const stream = c.req.raw.body;
    if (!stream) return next();
    const tooLarge = () =>
      c.json(errorBody('payload_too_large', `request body is larger than ${maxBytes} bytes`), 413);
    const declared = Number(c.req.header('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          reader.cancel().catch(() => undefined);
          return tooLarge();
        }
        chunks.push(value);
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      console.warn(
        `reelrank: client aborted ${c.req.method} ${new URL(c.req.url).pathname} after ${size} bytes of its body (${why})`,
      );
      return c.json(errorBody('client_aborted', 'the request body ended early (connection closed)'), 400);
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  };
}
