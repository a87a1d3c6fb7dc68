import { FsObjectStore } from './fs-object-store.js';
import { type ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

export { FsObjectStore } from './fs-object-store.js';
export { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.js';
export * from './object-store.js';

/** Configuration of the lake's {@link ObjectStore}: a local directory or an S3 bucket. */
export type ObjectStoreConfig =
  | {
      kind: 'fs';
      /** Directory holding the objects; created by `check()` when missing. */
      root: string;
    }
  | {
      kind: 's3';
      /** Existing bucket. */
      bucket: string;
      /** Key prefix inside the bucket; store keys are relative to it. */
      prefix?: string;
      /** Endpoint of an S3-compatible server (MinIO); AWS when omitted. */
      endpoint?: string;
      /** Region; `us-east-1` when omitted. */
      region?: string;
      /** Path-style addressing; defaults to `true` when `endpoint` is set, `false` otherwise. */
      forcePathStyle?: boolean;
      /** Static access key id; give both keys or neither (then the AWS default provider chain is used). */
      accessKeyId?: string;
      /** Static secret access key; never logged. */
      secretAccessKey?: string;
    };

/**
 * Builds the {@link ObjectStore} adapter that `config` names. Connects nothing: call `check()` to verify the
 * backend is usable.
 */
export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  if (config.kind === 'fs') return new FsObjectStore(config.root);
  const { accessKeyId, secretAccessKey } = config;
  if (!accessKeyId !== !secretAccessKey) {
    throw new Error('S3 object store: give both accessKeyId and secretAccessKey, or neither');
  }
  return new S3ObjectStore({
    bucket: config.bucket,
    prefix: config.prefix,
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle ?? config.endpoint !== undefined,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
  });
}
