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
  /** Address it listens on (default `127.0.0.1`). */
  host?: string;
  /** A network namespace (`ip netns`) to run it in, as a separate host (tests; needs root). */
  netns?: string;
}

/** Starts a MinIO server on loopback and waits for its liveness endpoint. */
export async function startMinio(o: MinioOptions, timeoutMs = 60_000): Promise<ManagedProcess> {
  mkdirSync(o.dataDir, { recursive: true });
  const host = o.host ?? '127.0.0.1';
  const args = ['server', o.dataDir, '--address', `${host}:${o.port}`, '--console-address', `${host}:${o.consolePort}`];
  const proc = startProcess({
    name: 'minio',
    command: o.netns ? 'ip' : o.binary,
    args: [...(o.netns ? ['netns', 'exec', o.netns, o.binary] : []), ...args, '--quiet'],
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
  const live = async () => (await fetch(`http://${host}:${o.port}/minio/health/live`)).ok;
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
