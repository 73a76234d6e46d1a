import type { ObjectInfo, ObjectStore } from '../store.ts';

/**
 * The part of the R2 bucket API that R2Store uses, typed structurally so that the same store runs
 * over a Workers binding (`env.ARTIFACTS`, edge) and over Miniflare's bucket in Node (the local
 * `reelrank start` seeding wrangler dev's R2), without either side's platform types in `shared/`.
 */
export interface R2ObjectLike {
  key: string;
  size: number;
  etag: string;
}
export interface R2BucketLike {
  get(key: string): Promise<(R2ObjectLike & { arrayBuffer(): Promise<ArrayBuffer>; body: unknown }) | null>;
  head(key: string): Promise<R2ObjectLike | null>;
  put(
    key: string,
    value: Uint8Array,
    options?: { httpMetadata?: { contentType?: string } },
  ): Promise<unknown>;
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{
    objects: R2ObjectLike[];
    truncated: boolean;
    cursor?: string;
  }>;
  delete(key: string): Promise<void>;
}

/**
 * The artifact ObjectStore over an R2 bucket. Keys are relative to `prefix` ('' = bucket root),
 * exactly as publish wrote them through the S3 API, so the shared loader reads the same layout.
 *
 * @example const store = new R2Store(env.ARTIFACTS, env.ARTIFACT_PREFIX);
 */
export class R2Store implements ObjectStore {
  readonly description: string;
  readonly prefix: string;
  private readonly listLimit: number | undefined;

  constructor(
    private readonly bucket: R2BucketLike,
    prefix = '',
    { name = 'ARTIFACTS', listLimit }: { name?: string; listLimit?: number } = {},
  ) {
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.description = `r2://${name}${this.prefix === '' ? '' : `/${this.prefix.slice(0, -1)}`}`;
    this.listLimit = listLimit;
  }

  async get(key: string): Promise<Uint8Array | null> {
    const object = await this.bucket.get(this.prefix + key);
    return object === null ? null : new Uint8Array(await object.arrayBuffer());
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | null> {
    const object = await this.bucket.get(this.prefix + key);
    return object === null ? null : (object.body as ReadableStream<Uint8Array>);
  }

  async put(key: string, body: Uint8Array, options: { contentType?: string } = {}): Promise<void> {
    const contentType =
      options.contentType ?? (key.endsWith('.json') ? 'application/json' : 'application/octet-stream');
    await this.bucket.put(this.prefix + key, body, { httpMetadata: { contentType } });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const object = await this.bucket.head(this.prefix + key);
    return object === null ? null : { key, size: object.size, etag: object.etag };
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let cursor: string | undefined;
    for (;;) {
      const options: { prefix: string; cursor?: string; limit?: number } = { prefix: this.prefix + prefix };
      if (cursor !== undefined) options.cursor = cursor;
      // R2 pages hold up to 1,000 keys; a smaller limit is only for tests of the paging loop.
      if (this.listLimit !== undefined) options.limit = this.listLimit;
      const page = await this.bucket.list(options);
      for (const object of page.objects) {
        out.push({ key: object.key.slice(this.prefix.length), size: object.size, etag: object.etag });
      }
      if (!page.truncated) break;
      cursor = page.cursor;
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await this.bucket.delete(this.prefix + key);
  }
}
