import type { Readable } from 'node:stream';

/** Metadata of one stored object. */
export interface ObjectInfo {
  /** Key relative to the store's root (always `/`-separated, never starting with `/`). */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modification time as reported by the backend. */
  lastModified: Date;
  /** Backend version tag (S3 ETag, or size+mtime for the filesystem); changes when the content changes. */
  etag: string;
}

/** Body accepted by {@link ObjectStore.put}: streamed bodies are never buffered whole. */
export type ObjectBody = Readable | Buffer | string;

/**
 * The lake's port: a flat key space of immutable-once-written objects.
 *
 * Two first-class adapters implement it (local filesystem and S3); both pass the same contract suite
 * (`test/support/object-store-contract.ts`). Writes are atomic: a reader sees the old object, the new one
 * or none, never a partial write.
 */
export interface ObjectStore {
  /** Human-readable location, e.g. `file:///srv/lake` or `s3://bucket/prefix`; never contains secrets. */
  readonly location: string;
  /** Writes `body` under `key` atomically, replacing any previous object. Resolves with the bytes written. */
  put(key: string, body: ObjectBody, options?: { contentType?: string }): Promise<{ size: number }>;
  /** Streams an object; rejects with {@link ObjectNotFoundError} when absent. */
  get(key: string): Promise<Readable>;
  /** Reads bytes `[start, end)` of an object (clamped to its size); rejects with {@link ObjectNotFoundError} when absent. */
  getRange(key: string, start: number, end: number): Promise<Buffer>;
  /** Metadata of an object, or `undefined` when absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in lexicographic key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deletes an object; deleting an absent key is not an error (idempotent). */
  delete(key: string): Promise<void>;
  /** Checks the backend is reachable and usable (bucket exists, directory writable); rejects with a clear message. */
  check(): Promise<void>;
}

/** Raised when an object does not exist. */
export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** Rejects keys that could escape the store's root or are not portable across adapters. */
export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new Error(`invalid object key (length): ${JSON.stringify(key)}`);
  if (key.startsWith('/') || key.includes('\\') || key.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`invalid object key: ${JSON.stringify(key)}`);
  }
}

/** Rejects a byte range `[start, end)` that is not made of non-negative safe integers with `start <= end`. */
export function assertValidRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range [${start}, ${end})`);
  }
}

/** Orders keys by their UTF-8 bytes, as S3 lists them; {@link ObjectStore.list} yields keys in this order. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
