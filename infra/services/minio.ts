import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdirSync } from 'node:fs';
import { startProcess, waitUntilReady, type ManagedProcess } from './process.js';

/** Options for {@link startMinio}. */
export interface MinioOptions {
  binary: string;
  dataDir: string;
  port: number;
  consolePort: number;
  accessKeyId: string;
  secretAccessKey: string;
  logFile: string;
}

/** Starts a MinIO server on loopback and waits for its liveness endpoint. */
export async function startMinio(o: MinioOptions, timeoutMs = 60_000): Promise<ManagedProcess> {
  mkdirSync(o.dataDir, { recursive: true });
  const proc = startProcess({
    name: 'minio',
    command: o.binary,
    args: [
      'server',
      o.dataDir,
      '--address',
      `127.0.0.1:${o.port}`,
      '--console-address',
      `127.0.0.1:${o.consolePort}`,
      '--quiet',
    ],
    env: {
      ...process.env,
      MINIO_ROOT_USER: o.accessKeyId,
      MINIO_ROOT_PASSWORD: o.secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      MINIO_CALLHOME_ENABLE: 'off',
    },
    logFile: o.logFile,
  });
  const live = async () => (await fetch(`http://127.0.0.1:${o.port}/minio/health/live`)).ok;
  await waitUntilReady(proc, live, timeoutMs);
  return proc;
}

/** Creates a bucket on an S3 endpoint (idempotent). */
export async function ensureBucket(
  endpoint: string,
  bucket: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  } finally {
    s3.destroy();
  }
}
