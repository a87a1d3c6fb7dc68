import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import {
  assertValidKey,
  assertValidRange,
  ObjectNotFoundError,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
} from './object-store.js';

/** Part size of multipart uploads: memory per streamed upload is bounded by about `PART_SIZE * QUEUE_SIZE`. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
const CHECK_TIMEOUT_MS = 15_000;
const NETWORK_CODE = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE)\b/;

/** Options of {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  /** Bucket holding the objects; must already exist. */
  bucket: string;
  /** Key prefix inside the bucket (e.g. `lake`); keys of the store are relative to it. */
  prefix?: string;
  /** Endpoint of an S3-compatible server (e.g. `http://127.0.0.1:9000` for MinIO); AWS when omitted. */
  endpoint?: string;
  /** Region; `us-east-1` when omitted. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), needed by most S3-compatible servers. */
  forcePathStyle?: boolean;
  /** Static credentials; the AWS default provider chain when omitted. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** A ready client (tests, custom middleware); the connection options above are then ignored. */
  client?: S3Client;
}

/**
 * {@link ObjectStore} on an S3 bucket (AWS or any S3-compatible server such as MinIO).
 *
 * Single PUTs and completed multipart uploads are atomic in S3, and a failed multipart upload is aborted, so
 * readers never see a partial object.
 */
export class S3ObjectStore implements ObjectStore {
  /** `s3://bucket/prefix`. */
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  /** Normalized prefix: empty or ending with `/`. */
  private readonly prefix: string;
  private readonly endpoint: string;
  private readonly secrets: string[];

  /** @param options bucket, prefix and connection; see {@link S3ObjectStoreOptions}. */
  constructor(options: S3ObjectStoreOptions) {
    const trimmed = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.bucket = options.bucket;
    this.prefix = trimmed === '' ? '' : `${trimmed}/`;
    this.location = `s3://${options.bucket}${trimmed === '' ? '' : `/${trimmed}`}`;
    const region = options.region ?? 'us-east-1';
    this.endpoint = options.endpoint ?? `AWS S3 (${region})`;
    this.secrets = [options.credentials?.secretAccessKey, options.credentials?.sessionToken].filter(
      (s): s is string => !!s,
    );
    this.client = options.client ?? createClient(options, region);
  }

  /**
   * Buffers and strings go in one PutObject; streams go through a multipart {@link Upload} of bounded memory. A
   * failed upload is aborted, but when the server itself is gone (killed, unreachable) the abort fails too and the
   * unfinished upload stays, its parts stored (and billed) forever: so once a streamed put of a key succeeds, the
   * unfinished uploads of that key begun before it (an earlier attempt's) are aborted, best effort.
   */
  async put(key: string, body: ObjectBody, options?: { contentType?: string }): Promise<{ size: number }> {
    const params = { Bucket: this.bucket, Key: this.keyOf(key), ContentType: options?.contentType };
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      await this.client.send(new PutObjectCommand({ ...params, Body: bytes, ContentLength: bytes.length }));
      return { size: bytes.length };
    }
    const counter = { size: 0 };
    const began = new Date();
    const upload = new Upload({
      client: this.client,
      params: { ...params, Body: Readable.from(countBytes(body, counter)) },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
    });
    await upload.done();
    await this.abortUnfinishedUploads(params.Key, began);
    return { size: counter.size };
  }

  /** GetObject; the body is the HTTP response stream. */
  async get(key: string): Promise<Readable> {
    const { Body } = await this.getObject(key);
    if (!(Body instanceof Readable)) throw new Error(`S3 returned no readable body for ${JSON.stringify(key)}`);
    return Body;
  }

  /** GetObject with `Range: bytes=start-(end-1)`; S3 clamps the end, and a range past the end is empty. */
  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    assertValidRange(start, end);
    if (end === start) {
      if (!(await this.head(key))) throw new ObjectNotFoundError(key);
      return Buffer.alloc(0);
    }
    try {
      const { Body } = await this.getObject(key, `bytes=${start}-${end - 1}`);
      return Buffer.from((await Body?.transformToByteArray()) ?? []);
    } catch (error) {
      // 416: the range starts at or after the end of the object (every range of an empty object does).
      if (statusOf(error) === 416) return Buffer.alloc(0);
      throw error;
    }
  }

  /** HeadObject; 404 is `undefined`. */
  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
      return {
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        etag: unquote(out.ETag),
      };
    } catch (error) {
      if (statusOf(error) === 404 || nameOf(error) === 'NotFound' || nameOf(error) === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  /** Pages through ListObjectsV2 (which lists in UTF-8 byte order) and strips the store's prefix. */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const pages = paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.prefix + prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(this.prefix)) continue;
        yield {
          key: object.Key.slice(this.prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified ?? new Date(0),
          etag: unquote(object.ETag),
        };
      }
    }
  }

  /** DeleteObject, which S3 already treats as idempotent. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key) }));
  }

  /** HeadBucket; any failure becomes one message naming the bucket and endpoint, never the credentials. */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
    } catch (error) {
      const reason = this.redact(describeFailure(error));
      throw new Error(`S3 bucket "${this.bucket}" at ${this.endpoint} is not reachable: ${reason}`, { cause: error });
    }
  }

  private keyOf(key: string): string {
    assertValidKey(key);
    return this.prefix + key;
  }

  private async getObject(key: string, range?: string): Promise<GetObjectCommandOutput> {
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(key), Range: range }));
    } catch (error) {
      if (nameOf(error) === 'NoSuchKey' || statusOf(error) === 404) throw new ObjectNotFoundError(key);
      throw error;
    }
  }

  /**
   * Aborts the unfinished multipart uploads of exactly `fullKey` begun before `before`. Best effort: a failure here
   * (no `s3:ListBucketMultipartUploads` permission, a blip) never fails the put that already succeeded.
   */
  private async abortUnfinishedUploads(fullKey: string, before: Date): Promise<void> {
    try {
      const out = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: fullKey }));
      for (const u of out.Uploads ?? []) {
        if (u.Key !== fullKey || !u.UploadId || (u.Initiated && u.Initiated >= before)) continue;
        await this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: fullKey, UploadId: u.UploadId }),
        );
      }
    } catch {
      // Left for the bucket's lifecycle rule (AbortIncompleteMultipartUpload).
    }
  }

  private redact(text: string): string {
    return this.secrets.reduce((out, secret) => out.split(secret).join('***'), text);
  }
}

function createClient(options: S3ObjectStoreOptions, region: string): S3Client {
  return new S3Client({
    region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    // S3-compatible servers do not all accept the SDK's default request checksums; only send them when required.
    ...(options.endpoint
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
  });
}

async function* countBytes(body: Readable, counter: { size: number }): AsyncGenerator<Buffer> {
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    counter.size += bytes.length;
    yield bytes;
  }
}

/** The most telling short reason of an SDK failure: a network code, an HTTP status, or the error's name. */
function describeFailure(error: unknown): string {
  const status = statusOf(error);
  if (status === 404) return 'the bucket does not exist (404)';
  if (status === 403) return 'access denied (403): check the credentials and the bucket policy';
  if (status === 301) return 'the bucket is in another region (301)';
  const name = nameOf(error);
  if (name === 'AbortError' || name === 'TimeoutError') return `no answer within ${CHECK_TIMEOUT_MS / 1000} s`;
  const code = codeOf(error);
  if (code) return code;
  const message = String((error as { message?: unknown } | null)?.message ?? error);
  if (status !== undefined) return `${name ?? 'error'} (HTTP ${status})`;
  return name && name !== 'Error' && !message.includes(name) ? `${name}: ${message}` : message;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  // Connecting to a name with several addresses fails with an AggregateError of one error per address.
  const errors = (error as { errors?: unknown } | null)?.errors;
  if (Array.isArray(errors)) return errors.map(codeOf).find((c) => c !== undefined);
  // The SDK's retry layer flattens errors it does not recognize (e.g. from another realm) into their message.
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? NETWORK_CODE.exec(message)?.[1] : undefined;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** Read structurally: errors may come from another realm (Jest's VM contexts), where `instanceof Error` fails. */
function nameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
