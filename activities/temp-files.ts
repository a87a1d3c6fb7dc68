import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ObjectStore } from './storage/object-store.js';

/** Runs `fn` with a private temporary directory that is always removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fabrica-step-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Uploads a local file to the lake (streamed), unless an object of the same size already holds it. */
export async function uploadFile(lake: ObjectStore, key: string, file: string, immutable = false): Promise<number> {
  const { size } = await stat(file);
  if (immutable) {
    const existing = await lake.head(key);
    if (existing?.size === size) return size;
  }
  await lake.put(key, createReadStream(file));
  return size;
}
