/**
 * The one storage interface every artifact store implements: local filesystem and S3 (train/),
 * the R2 binding (edge/). Keys are '/'-separated and relative to the store's root/prefix.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
}

export interface ObjectStore {
  /** A URL-like description for messages, e.g. `s3://bucket/prefix` or `file:///tmp/x`. */
  readonly description: string;
  /** The whole object, or null when it does not exist. */
  get(key: string): Promise<Uint8Array | null>;
  /** Streaming read for large objects; null when it does not exist. */
  getStream?(key: string): Promise<ReadableStream<Uint8Array> | null>;
  put(key: string, body: Uint8Array, options?: { contentType?: string }): Promise<void>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
}
