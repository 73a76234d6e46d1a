import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  type ListObjectsV2CommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ReelrankError } from '../../shared/errors.ts';
import type { ConditionalStore, VersionedObject } from '../../shared/artifacts/conditional.ts';
import type { ObjectInfo } from '../../shared/store.ts';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ('' = bucket root); a trailing '/' is added when missing. */
  prefix?: string;
  /** S3-compatible endpoint, e.g. https://<account>.r2.cloudflarestorage.com or http://127.0.0.1:4568. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style addressing (bucket in the path): needed by most S3-compatible servers. Default: true when an endpoint is given. */
  forcePathStyle?: boolean;
  /** Objects at least this large are uploaded with multipart (lib-storage Upload). Default 8 MB. */
  multipartThreshold?: number;
  /** Part size of multipart uploads (S3 minimum 5 MB). Default 8 MB. */
  partSize?: number;
  /** Progress of multipart uploads, bytes sent so far. */
  onUploadProgress?: (key: string, loaded: number, total: number) => void;
  /** A ready client (tests, custom middleware); the other client settings are then ignored. */
  client?: S3Client;
}

const MB = 1024 * 1024;
const BODY_READ_ATTEMPTS = 3;

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * An ObjectStore over S3 or any S3-compatible API (R2, MinIO, s3rver). Checksums are computed only
 * when an operation requires them: with the SDK's default ('WHEN_SUPPORTED') streamed uploads use
 * aws-chunked framing that some S3-compatible servers store verbatim inside the object.
 */
export class S3Store implements ConditionalStore {
  readonly description: string;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly onUploadProgress: S3StoreOptions['onUploadProgress'];

  constructor(options: S3StoreOptions) {
    const { bucket, endpoint, region, credentials } = options;
    if (bucket.length === 0)
      throw new ReelrankError('bad_input', 'An S3 store needs a bucket name, got an empty one.');
    const prefix = options.prefix ?? '';
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.bucket = bucket;
    this.description = `s3://${bucket}${this.prefix === '' ? '' : `/${this.prefix.slice(0, -1)}`}`;
    this.multipartThreshold = options.multipartThreshold ?? 8 * MB;
    this.partSize = Math.max(5 * MB, options.partSize ?? 8 * MB);
    this.onUploadProgress = options.onUploadProgress;
    if (options.client !== undefined) {
      this.client = options.client;
      return;
    }
    const config: S3ClientConfig = {
      forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // R2 and most S3-compatible servers accept any region name; 'auto' is R2's.
      region: region ?? 'us-east-1',
    };
    if (endpoint !== undefined) config.endpoint = endpoint;
    if (credentials !== undefined) config.credentials = credentials;
    this.client = new S3Client(config);
  }

  private key(key: string): string {
    return this.prefix + key;
  }

  async get(key: string): Promise<Uint8Array | null> {
    // The SDK retries failed requests, but not a body stream that breaks after the headers
    // arrived (socket reset, 'aborted'): re-issue the GET for those, a bounded number of times.
    for (let attempt = 1; ; attempt++) {
      let response: GetObjectCommandOutput;
      try {
        response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      } catch (error) {
        if (isNotFound(error)) return null;
        throw this.failure('GET', key, error);
      }
      if (response.Body === undefined) return new Uint8Array(0);
      try {
        return await response.Body.transformToByteArray();
      } catch (error) {
        if (attempt >= BODY_READ_ATTEMPTS) throw this.failure('GET (body)', key, error);
      }
    }
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | null> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
      );
      if (response.Body === undefined) return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      return response.Body.transformToWebStream() as ReadableStream<Uint8Array>;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.failure('GET', key, error);
    }
  }

  async put(key: string, body: Uint8Array, options: { contentType?: string } = {}): Promise<void> {
    const params = {
      Bucket: this.bucket,
      Key: this.key(key),
      Body: body,
      ContentType:
        options.contentType ?? (key.endsWith('.json') ? 'application/json' : 'application/octet-stream'),
    };
    if (body.length < this.multipartThreshold) {
      try {
        await this.client.send(new PutObjectCommand(params));
      } catch (error) {
        throw this.failure('PUT', key, error);
      }
      return;
    }
    const upload = new Upload({
      client: this.client,
      params,
      partSize: this.partSize,
      queueSize: 4,
      leavePartsOnError: false,
    });
    const onProgress = this.onUploadProgress;
    if (onProgress !== undefined) {
      upload.on('httpUploadProgress', (p) => onProgress(key, p.loaded ?? 0, p.total ?? body.length));
    }
    try {
      await upload.done();
    } catch (error) {
      throw this.failure('multipart PUT', key, error);
    }
  }

  /** The object and its ETag from one GET. */
  async getVersioned(key: string): Promise<VersionedObject | null> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
      );
      const bytes =
        response.Body === undefined ? new Uint8Array(0) : await response.Body.transformToByteArray();
      return { bytes, etag: response.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.failure('GET', key, error);
    }
  }

  /**
   * PUT with If-Match (or If-None-Match: * when the object must not exist yet): AWS S3 and R2
   * answer 412 when the condition fails. Servers that ignore the headers (s3rver) simply write,
   * which degrades to read-then-write.
   */
  async putIf(
    key: string,
    body: Uint8Array,
    expectedEtag: string | null,
    options: { contentType?: string } = {},
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(key),
          Body: body,
          ContentType: options.contentType ?? 'application/octet-stream',
          ...(expectedEtag === null ? { IfNoneMatch: '*' } : { IfMatch: expectedEtag }),
        }),
      );
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // 412 Precondition Failed; 409 ConditionalRequestConflict (a concurrent conditional write).
      if (status === 412 || status === 409) return false;
      throw this.failure('conditional PUT', key, error);
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
      );
      const info: ObjectInfo = { key, size: response.ContentLength ?? 0 };
      if (response.ETag !== undefined) info.etag = response.ETag;
      return info;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw this.failure('HEAD', key, error);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      let response: ListObjectsV2CommandOutput;
      try {
        response = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.key(prefix),
            ContinuationToken: token,
          }),
        );
      } catch (error) {
        throw this.failure('LIST', prefix, error);
      }
      for (const object of response.Contents ?? []) {
        if (object.Key === undefined) continue;
        const info: ObjectInfo = { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0 };
        if (object.ETag !== undefined) info.etag = object.ETag;
        out.push(info);
      }
      token = response.IsTruncated ? response.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    } catch (error) {
      throw this.failure('DELETE', key, error);
    }
  }

  /**
   * An S3 failure as a ReelrankError naming the operation, the object and what the server said:
   * 'store_denied' for credential and permission errors, 'store_error' for the rest.
   */
  private failure(operation: string, key: string, error: unknown): ReelrankError {
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const name = e.name ?? 'Error';
    const status = e.$metadata?.httpStatusCode;
    const denied =
      status === 401 ||
      status === 403 ||
      /AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|CredentialsProviderError|ExpiredToken/.test(
        name,
      );
    return new ReelrankError(
      denied ? 'store_denied' : 'store_error',
      `S3 ${operation} of ${this.description}/${key} failed: ${name}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(error)}${denied ? '. Check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or --access-key-id) and the bucket permissions.' : ''}`,
      { operation, key, name, status, cause: error },
    );
  }

  /** Close the client's sockets (tests, short-lived CLI runs). */
  destroy(): void {
    this.client.destroy();
  }
}
