import { resolve } from 'node:path';
import { ReelrankError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/store.ts';
import { FsStore } from './fs.ts';
import { S3Store, type S3StoreOptions } from './s3.ts';

/** Settings for s3:// stores; each falls back to the standard AWS_* environment variable. */
export interface OpenStoreOptions {
  /** AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, e.g. https://<account>.r2.cloudflarestorage.com */
  endpoint?: string;
  /** AWS_REGION or AWS_DEFAULT_REGION (default us-east-1; R2 uses 'auto'). */
  region?: string;
  /** AWS_ACCESS_KEY_ID */
  accessKeyId?: string;
  /** AWS_SECRET_ACCESS_KEY */
  secretAccessKey?: string;
  /** AWS_SESSION_TOKEN */
  sessionToken?: string;
  forcePathStyle?: boolean;
  multipartThreshold?: number;
  partSize?: number;
  onUploadProgress?: S3StoreOptions['onUploadProgress'];
}

export const STORE_URL_FORMS = "'s3://bucket/prefix', 'file:///abs/dir', 'file://rel/dir' or a plain path";

/** Split 's3://bucket/some/prefix' into bucket and prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+/, '');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ReelrankError(
      'bad_input',
      `Store URL ${url}: bucket ${JSON.stringify(bucket)} is not a valid bucket name (3-63 of a-z 0-9 . -).`,
    );
  }
  return { bucket, prefix };
}

/**
 * Open a store from a URL: `s3://bucket/prefix` (S3, R2 or any S3-compatible endpoint; settings
 * from `options` or the AWS_* environment), `file://dir` or a plain local path.
 * @example const store = openStore('s3://reelrank/prod', { endpoint: 'http://127.0.0.1:4568' })
 */
export function openStore(
  url: string,
  options: OpenStoreOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ObjectStore {
  if (url.length === 0) throw new ReelrankError('bad_input', `Empty store URL. Use ${STORE_URL_FORMS}.`);
  if (url.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(url);
    const s3: S3StoreOptions = { bucket, prefix };
    const endpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    const accessKeyId = options.accessKeyId ?? env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = options.secretAccessKey ?? env.AWS_SECRET_ACCESS_KEY;
    const sessionToken = options.sessionToken ?? env.AWS_SESSION_TOKEN;
    if (endpoint !== undefined && endpoint !== '') s3.endpoint = endpoint;
    if (region !== undefined && region !== '') s3.region = region;
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw new ReelrankError(
        'bad_input',
        `Store ${url}: give both an access key id and a secret access key (flags or AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY), or neither to use the AWS default credential chain.`,
      );
    }
    if (accessKeyId !== undefined && secretAccessKey !== undefined) {
      s3.credentials = sessionToken
        ? { accessKeyId, secretAccessKey, sessionToken }
        : { accessKeyId, secretAccessKey };
    }
    if (options.forcePathStyle !== undefined) s3.forcePathStyle = options.forcePathStyle;
    if (options.multipartThreshold !== undefined) s3.multipartThreshold = options.multipartThreshold;
    if (options.partSize !== undefined) s3.partSize = options.partSize;
    if (options.onUploadProgress !== undefined) s3.onUploadProgress = options.onUploadProgress;
    return new S3Store(s3);
  }
  if (url.startsWith('file://')) {
    // file:///abs/dir is absolute; file://rel/dir is taken relative to the working directory.
    const path = decodeURIComponent(url.slice('file://'.length));
    if (path.length === 0)
      throw new ReelrankError('bad_input', `Store URL ${url} names no folder. Use ${STORE_URL_FORMS}.`);
    return new FsStore(resolve(path));
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new ReelrankError(
      'bad_input',
      `Store URL ${url} has an unsupported scheme. Use ${STORE_URL_FORMS}.`,
    );
  }
  return new FsStore(resolve(url));
}

/** Release network resources of a store opened by openStore (no-op for local stores). */
export function closeStore(store: ObjectStore): void {
  if (store instanceof S3Store) store.destroy();
}
