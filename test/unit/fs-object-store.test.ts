import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FsObjectStore } from '../../activities/storage/fs-object-store.js';
import { describeObjectStoreContract } from '../support/object-store-contract.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fabrica-fs-store-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// The root does not exist yet: check() must create it.
describeObjectStoreContract('FsObjectStore', async () => new FsObjectStore(path.join(await tempDir(), 'lake')));

describe('FsObjectStore', () => {
  it('check() on an unwritable path names the path', async () => {
    const dir = await tempDir();
    // A path under a regular file cannot be created, even by root (who ignores permission bits).
    await writeFile(path.join(dir, 'a-file'), 'x');
    const root = path.join(dir, 'a-file', 'lake');
    await expect(new FsObjectStore(root).check()).rejects.toThrow(
      `object store directory "${root}" is not writable: ENOTDIR`,
    );
  });

  it('a write that crashes mid-stream leaves neither an object nor a temp file', async () => {
    const root = await tempDir();
    const store = new FsObjectStore(root);
    const body = new Readable({ read: () => undefined });
    body.push(Buffer.alloc(100_000, 1));
    const pending = store.put('out/data.bin', body);
    setTimeout(() => body.destroy(new Error('producer crashed')), 50);
    await expect(pending).rejects.toThrow('producer crashed');
    expect(await store.head('out/data.bin')).toBeUndefined();
    expect(await readdir(path.join(root, '.tmp'))).toEqual([]);
    expect(await readdir(root)).toEqual(['.tmp']);
  });

  it('reserves the temp folder name as a first key segment', async () => {
    const store = new FsObjectStore(await tempDir());
    await expect(store.put('.tmp/x', 'x')).rejects.toThrow(/invalid object key/);
    await store.put('a/.tmp/x', 'x');
    expect(await store.head('a/.tmp/x')).toMatchObject({ size: 1 });
  });

  it('location is a file:// URL of the absolute root', () => {
    expect(new FsObjectStore('/srv/lake').location).toBe('file:///srv/lake');
  });
});
