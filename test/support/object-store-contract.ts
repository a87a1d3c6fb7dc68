import { beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ObjectNotFoundError, type ObjectInfo, type ObjectStore } from '../../activities/storage/object-store.js';

/** Size of the streamed object: above the S3 adapter's 8 MiB part size, so it goes multipart. */
const STREAM_SIZE = 12 * 1024 * 1024 + 12_345;
const CHUNK_SIZE = 64 * 1024;

/** Deterministic pseudo-random bytes, produced chunk by chunk and hashed on the way out. */
function* generatedBytes(size: number, hash: ReturnType<typeof createHash>): Generator<Buffer> {
  let state = 0x9e3779b9;
  for (let offset = 0; offset < size; offset += CHUNK_SIZE) {
    const full = Buffer.alloc(CHUNK_SIZE);
    for (let i = 0; i < CHUNK_SIZE; i += 4) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      full.writeUInt32LE(state, i);
    }
    const chunk = full.subarray(0, Math.min(CHUNK_SIZE, size - offset));
    hash.update(chunk);
    yield chunk;
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function collect(items: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const INVALID_KEYS = ['', '/abs', 'a//b', 'a/', './a', 'a/./b', '..', 'a/../b', 'a\\b', 'k'.repeat(1025)];

/**
 * Registers the {@link ObjectStore} contract that every adapter must pass. `makeStore` is called once, in
 * `beforeAll`; every key the suite writes starts with a per-run prefix, so runs sharing a backend never collide.
 */
export function describeObjectStoreContract(name: string, makeStore: () => Promise<ObjectStore>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    const run = `contract-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
    const key = (rest: string) => `${run}/${rest}`;
    let store: ObjectStore;

    beforeAll(async () => {
      store = await makeStore();
    });

    it('check() passes', async () => {
      await expect(store.check()).resolves.toBeUndefined();
      expect(store.location).toMatch(/^[a-z0-9]+:\/\//);
    });

    it('round-trips a Buffer', async () => {
      const bytes = Buffer.from([0, 1, 2, 254, 255, 10, 13, 0]);
      await expect(store.put(key('buffer.bin'), bytes)).resolves.toEqual({ size: bytes.length });
      expect(await readAll(await store.get(key('buffer.bin')))).toEqual(bytes);
    });

    it('round-trips a string as UTF-8', async () => {
      const text = 'Fábrica → lake ✓\n';
      await expect(store.put(key('text.txt'), text, { contentType: 'text/plain' })).resolves.toEqual({
        size: Buffer.byteLength(text),
      });
      expect((await readAll(await store.get(key('text.txt')))).toString('utf8')).toBe(text);
    });

    it('streams a several-MB Readable in and out', async () => {
      const written = createHash('sha256');
      const result = await store.put(key('big.bin'), Readable.from(generatedBytes(STREAM_SIZE, written)));
      expect(result).toEqual({ size: STREAM_SIZE });
      const read = createHash('sha256');
      let size = 0;
      for await (const chunk of (await store.get(key('big.bin'))) as AsyncIterable<Buffer>) {
        read.update(chunk);
        size += chunk.length;
      }
      expect(size).toBe(STREAM_SIZE);
      expect(read.digest('hex')).toBe(written.digest('hex'));
      expect((await store.head(key('big.bin')))?.size).toBe(STREAM_SIZE);
    });

    it('replaces an existing object', async () => {
      await store.put(key('replace.txt'), 'first version, longer');
      await store.put(key('replace.txt'), 'second');
      expect((await readAll(await store.get(key('replace.txt')))).toString()).toBe('second');
    });

    it('head() reports metadata, and the etag changes on rewrite', async () => {
      const before = Date.now();
      await store.put(key('head.txt'), 'aaaa');
      const first = await store.head(key('head.txt'));
      expect(first).toEqual({
        key: key('head.txt'),
        size: 4,
        lastModified: expect.any(Date),
        etag: expect.any(String),
      });
      expect(first!.etag).not.toBe('');
      // Backends may round the time down to the second, and clocks of a remote server may drift a little.
      expect(Math.abs(first!.lastModified.getTime() - before)).toBeLessThan(60_000);
      await store.put(key('head.txt'), 'bbbb');
      const second = await store.head(key('head.txt'));
      expect(second?.size).toBe(4);
      expect(second?.etag).not.toBe(first!.etag);
    });

    it('getRange() reads [start, end) and clamps past the end', async () => {
      await store.put(key('range.txt'), '0123456789');
      const range = async (start: number, end: number) =>
        (await store.getRange(key('range.txt'), start, end)).toString();
      expect(await range(2, 5)).toBe('234');
      expect(await range(0, 10)).toBe('0123456789');
      expect(await range(5, 100)).toBe('56789');
      expect(await range(10, 20)).toBe('');
      expect(await range(50, 60)).toBe('');
      expect(await range(3, 3)).toBe('');
      await store.put(key('empty.txt'), '');
      expect((await store.getRange(key('empty.txt'), 0, 10)).length).toBe(0);
    });

    it('list() yields keys under a prefix in byte order, relative to the store', async () => {
      const keys = ['list/c', 'list/b/d/e', 'list/a', 'list/b-x', 'list/b/c', 'listing/other'];
      for (const k of keys) await store.put(key(k), k);
      const listed = async (prefix: string) => (await collect(store.list(key(prefix)))).map((o) => o.key);
      const expected = ['list/a', 'list/b-x', 'list/b/c', 'list/b/d/e', 'list/c'].map(key);
      expect(await listed('list/')).toEqual(expected);
      expect(await listed('list/b')).toEqual(['list/b-x', 'list/b/c', 'list/b/d/e'].map(key));
      expect(await listed('list/b/')).toEqual(['list/b/c', 'list/b/d/e'].map(key));
      expect(await listed('list')).toEqual([...expected, key('listing/other')]);
      expect(await listed('nothing-here/')).toEqual([]);
      const [first] = await collect(store.list(key('list/a')));
      expect(first).toEqual({ key: key('list/a'), size: 6, lastModified: expect.any(Date), etag: expect.any(String) });
    });

    it('never lists a write in flight, and lists only real objects', async () => {
      const body = new Readable({ read: () => undefined });
      body.push(Buffer.alloc(1024, 1));
      const pending = store.put(key('in-flight.bin'), body);
      await sleep(200);
      const all = await collect(store.list(''));
      expect(all.map((o) => o.key)).not.toContain(key('in-flight.bin'));
      // Listings and HEAD may report the time at different precisions (S3: milliseconds vs seconds).
      for (const { key: k, size, etag } of all) expect(await store.head(k)).toMatchObject({ key: k, size, etag });
      body.push(null);
      await expect(pending).resolves.toEqual({ size: 1024 });
      expect((await collect(store.list(key('in-flight')))).map((o) => o.key)).toEqual([key('in-flight.bin')]);
    });

    it('a write whose input fails leaves no object, and the previous version intact', async () => {
      await expect(store.put(key('crash.bin'), failingStream())).rejects.toThrow('input died');
      expect(await store.head(key('crash.bin'))).toBeUndefined();
      expect(await collect(store.list(key('crash')))).toEqual([]);
      await store.put(key('crash.bin'), 'previous');
      await expect(store.put(key('crash.bin'), failingStream())).rejects.toThrow('input died');
      expect((await readAll(await store.get(key('crash.bin')))).toString()).toBe('previous');
    });

    it('delete() removes an object and is idempotent', async () => {
      await store.put(key('delete.txt'), 'x');
      await store.delete(key('delete.txt'));
      expect(await store.head(key('delete.txt'))).toBeUndefined();
      await expect(store.delete(key('delete.txt'))).resolves.toBeUndefined();
      await expect(store.delete(key('never/existed.txt'))).resolves.toBeUndefined();
    });

    it('get() and getRange() of an absent key reject with ObjectNotFoundError', async () => {
      await expect(store.get(key('absent.txt'))).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.getRange(key('absent.txt'), 0, 10)).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.getRange(key('absent.txt'), 0, 0)).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(store.get(key('absent.txt'))).rejects.toMatchObject({ key: key('absent.txt') });
      expect(await store.head(key('absent.txt'))).toBeUndefined();
    });

    it('rejects invalid keys', async () => {
      for (const bad of INVALID_KEYS) {
        await expect(store.put(bad, 'x')).rejects.toThrow(/invalid object key/);
        await expect(store.get(bad)).rejects.toThrow(/invalid object key/);
        await expect(store.getRange(bad, 0, 1)).rejects.toThrow(/invalid object key/);
        await expect(store.head(bad)).rejects.toThrow(/invalid object key/);
        await expect(store.delete(bad)).rejects.toThrow(/invalid object key/);
      }
    });
  });
}

/** A stream that yields some data, then fails as a crashing producer would. */
function failingStream(): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent++ < 4) this.push(Buffer.alloc(64 * 1024, 7));
      else this.destroy(new Error('input died'));
    },
  });
}
