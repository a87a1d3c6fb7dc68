import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { S3ObjectStore } from '../../activities/storage/s3-object-store.js';
import { describeObjectStoreContract } from '../support/object-store-contract.js';
import { testServices } from '../support/services.js';

function storeFor(overrides: { bucket?: string; endpoint?: string; prefix?: string } = {}): S3ObjectStore {
  const { s3 } = testServices();
  return new S3ObjectStore({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...overrides,
  });
}

// A unique store prefix too, so list('') only sees this run's objects and prefix stripping is exercised.
describeObjectStoreContract('S3ObjectStore (MinIO)', () =>
  Promise.resolve(storeFor({ prefix: `object-store-contract/${randomUUID()}` })),
);

describe('S3ObjectStore', () => {
  it('check() against a closed port names the bucket and endpoint, never the credentials', async () => {
    const { s3 } = testServices();
    const error = await storeFor({ endpoint: 'http://127.0.0.1:1' })
      .check()
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.message).toBe(`S3 bucket "${s3.bucket}" at http://127.0.0.1:1 is not reachable: ECONNREFUSED`);
    expect(error?.message).not.toContain(s3.accessKeyId);
    expect(error?.message).not.toContain(s3.secretAccessKey);
  });

  it('check() of a missing bucket says so', async () => {
    await expect(storeFor({ bucket: `missing-${Date.now()}` }).check()).rejects.toThrow(/does not exist/);
  });

  it('location is s3://bucket/prefix', () => {
    expect(storeFor({ bucket: 'lake', prefix: '/raw/' }).location).toBe('s3://lake/raw');
    expect(storeFor({ bucket: 'lake', prefix: '' }).location).toBe('s3://lake');
  });
});
