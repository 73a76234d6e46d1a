import { isAbsolute, resolve } from 'node:path';
import { ReelrankError } from '../../shared/errors.ts';
import type { ObjectStore } from '../../shared/store.ts';
import { FsStore } from '../store/fs.ts';
import { closeStore, type OpenStoreOptions, openStore } from '../store/open.ts';

/** The `--store` argument of the commands that manage a published store. */
export const STORE_ARG = {
  store: {
    type: 'string',
    required: true,
    description: "Store: 's3://bucket/prefix', 'file://dir' or a path.",
  },
} as const;

/** citty argument definitions shared by every command that opens an s3:// store. */
export const S3_ARGS = {
  endpoint: {
    type: 'string',
    description:
      'S3-compatible endpoint (R2: https://<account>.r2.cloudflarestorage.com). Default: $AWS_ENDPOINT_URL.',
  },
  region: { type: 'string', description: "Region (R2: 'auto'). Default: $AWS_REGION, else us-east-1." },
  'access-key-id': {
    type: 'string',
    description: 'Default: $AWS_ACCESS_KEY_ID (prefer the environment for secrets).',
  },
  'secret-access-key': { type: 'string', description: 'Default: $AWS_SECRET_ACCESS_KEY.' },
} as const;

export interface S3Flags {
  endpoint?: string | undefined;
  region?: string | undefined;
  'access-key-id'?: string | undefined;
  'secret-access-key'?: string | undefined;
}

const MB = 1024 * 1024;

/** Human size: '812 B', '3.4 KB', '12.0 MB'. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MB) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** Open the store a command's --store/--to names, with S3 settings from flags or the environment. */
export function storeFromFlags(url: string, flags: S3Flags, extra: OpenStoreOptions = {}): ObjectStore {
  const options: OpenStoreOptions = { ...extra };
  if (flags.endpoint) options.endpoint = flags.endpoint;
  if (flags.region) options.region = flags.region;
  if (flags['access-key-id']) options.accessKeyId = flags['access-key-id'];
  if (flags['secret-access-key']) options.secretAccessKey = flags['secret-access-key'];
  return openStore(url, options);
}

/** Run `body` with a store and always release its sockets afterwards. */
export async function withStore<T>(store: ObjectStore, body: (store: ObjectStore) => Promise<T>): Promise<T> {
  try {
    return await body(store);
  } finally {
    closeStore(store);
  }
}

/** The local version folder `--from` names (a path or file:// URL). */
export function versionFolder(from: string): FsStore {
  if (from.startsWith('s3://')) {
    throw new ReelrankError(
      'bad_input',
      `--from must be a local version folder (artifacts/<version>), got ${from}.`,
    );
  }
  const path = from.startsWith('file://') ? decodeURIComponent(from.slice('file://'.length)) : from;
  return new FsStore(isAbsolute(path) ? path : resolve(path));
}
