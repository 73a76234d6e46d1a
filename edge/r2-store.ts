/**
 * Read-only ObjectStore over the R2 binding, used until edge/store/r2.ts (the artifact engineer's
 * full store) lands; then this file re-exports that one.
 */
import type { ObjectInfo, ObjectStore } from '../shared/store.ts';

function join(prefix: string, key: string): string {
  if (prefix === '') return key;
  return prefix.endsWith('/') ? `${prefix}${key}` : `${prefix}/${key}`;
}

/** An ObjectStore over `bucket` under `prefix` ("" = bucket root). */
export function r2Store(bucket: R2Bucket, prefix: string): ObjectStore {
  return {
    description: `r2://${prefix}`,
    async get(key) {
      const object = await bucket.get(join(prefix, key));
      return object === null ? null : new Uint8Array(await object.arrayBuffer());
    },
    async head(key): Promise<ObjectInfo | null> {
      const object = await bucket.head(join(prefix, key));
      return object === null ? null : { key, size: object.size, etag: object.etag };
    },
    async put(key, body, options) {
      await bucket.put(
        join(prefix, key),
        body,
        options?.contentType ? { httpMetadata: { contentType: options.contentType } } : undefined,
      );
    },
    async list(listPrefix) {
      const out: ObjectInfo[] = [];
      let cursor: string | undefined;
      do {
        const page = await bucket.list({ prefix: join(prefix, listPrefix), cursor });
        for (const o of page.objects)
          out.push({ key: o.key.slice(join(prefix, '').length), size: o.size, etag: o.etag });
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor);
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async delete(key) {
      await bucket.delete(join(prefix, key));
    },
  };
}
