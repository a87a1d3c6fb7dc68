import { randomUUID } from 'node:crypto';
import { type BigIntStats, type Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { type Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { writeError } from '../file-errors.js';
import {
  assertValidKey,
  assertValidRange,
  compareKeys,
  ObjectNotFoundError,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
} from './object-store.js';

/** Folder under the root that holds writes in flight; never listed, and reserved as a key's first segment. */
const TEMP_DIR = '.tmp';

/**
 * {@link ObjectStore} on a local directory: a key `a/b/c` is the file `<root>/a/b/c`.
 *
 * Writes go to `<root>/.tmp/<uuid>` (same filesystem), are fsynced, then renamed over the target, so readers
 * see the old object, the new one or none. A crashed write leaves at most a temp file, never a visible object.
 * A key and a longer key extending it as a folder (`a` and `a/b`) cannot coexist on a filesystem.
 */
export class FsObjectStore implements ObjectStore {
  /** Absolute root directory. */
  readonly root: string;
  /** `file://` URL of the root. */
  readonly location: string;

  /** @param root directory holding the objects; created by {@link FsObjectStore.check} or on first write. */
  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  /**
   * Streams `body` into a temp file, fsyncs it and renames it over `key`; the temp file is removed on failure. A
   * failed write (a full disk) rejects with the target file named in the message; a failing `body` as it is.
   */
  async put(key: string, body: ObjectBody, _options?: { contentType?: string }): Promise<{ size: number }> {
    const target = this.pathOf(key);
    const tempDir = path.join(this.root, TEMP_DIR);
    const named = async <T>(op: Promise<T>): Promise<T> => {
      try {
        return await op;
      } catch (error) {
        throw writeError(error, target);
      }
    };
    await named(mkdir(tempDir, { recursive: true }));
    const temp = path.join(tempDir, randomUUID());
    const handle = await named(open(temp, 'wx'));
    try {
      const size = await writeBody(handle, body, named);
      await named(handle.sync());
      await named(handle.close());
      await named(mkdir(path.dirname(target), { recursive: true }));
      await named(rename(temp, target));
      return { size };
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** Opens the file first so that an absent key rejects here rather than as a stream error. */
  async get(key: string): Promise<Readable> {
    const handle = await this.openObject(key);
    return handle.createReadStream();
  }

  /** Reads `[start, end)` with positional reads, clamped to the file's size. */
  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    assertValidRange(start, end);
    const handle = await this.openObject(key);
    try {
      const { size } = await handle.stat();
      const length = Math.max(0, Math.min(end, size) - start);
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(buffer, read, length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return buffer.subarray(0, read);
    } finally {
      await handle.close();
    }
  }

  /** Stats the file; a missing file (or a folder) is `undefined`. */
  async head(key: string): Promise<ObjectInfo | undefined> {
    const file = this.pathOf(key);
    try {
      return infoOf(key, await stat(file, { bigint: true }));
    } catch (error) {
      if (isAbsence(error)) return undefined;
      throw error;
    }
  }

  /** Walks the folders that can hold keys starting with `prefix`, visiting entries in key order. */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* this.walk('', prefix);
  }

  /** Unlinks the file; an absent key (or a folder) is a no-op. Empty parent folders are left in place. */
  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if (!isAbsence(error) && !hasCode(error, 'EISDIR', 'EPERM')) throw error;
    }
  }

  /** Creates the root (and temp folder) if needed and proves it writable with a probe file. */
  async check(): Promise<void> {
    const probe = path.join(this.root, TEMP_DIR, `check-${randomUUID()}`);
    try {
      await mkdir(path.dirname(probe), { recursive: true });
      const handle = await open(probe, 'wx');
      await handle.close();
      await unlink(probe);
    } catch (error) {
      const message = (error as { message?: unknown } | null)?.message;
      const reason = typeof message === 'string' ? message : String(error);
      throw new Error(`object store directory "${this.root}" is not writable: ${reason}`, { cause: error });
    }
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    if (key === TEMP_DIR || key.startsWith(`${TEMP_DIR}/`)) {
      throw new Error(`invalid object key (reserved by the filesystem store): ${JSON.stringify(key)}`);
    }
    return path.join(this.root, ...key.split('/'));
  }

  private async openObject(key: string): Promise<FileHandle> {
    const file = this.pathOf(key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (isAbsence(error)) throw new ObjectNotFoundError(key);
      throw error;
    }
    // Opening a folder succeeds on Linux; a folder is not an object.
    if (!(await handle.stat()).isFile()) {
      await handle.close();
      throw new ObjectNotFoundError(key);
    }
    return handle;
  }

  private async *walk(folder: string, prefix: string): AsyncGenerator<ObjectInfo> {
    const entries = await readEntries(path.join(this.root, ...folder.split('/')));
    for (const entry of entries) {
      const key = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        if (folder === '' && entry.name === TEMP_DIR) continue;
        const asFolder = `${key}/`;
        if (asFolder.startsWith(prefix) || prefix.startsWith(asFolder)) yield* this.walk(key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const info = await this.head(key);
        if (info) yield info;
      }
    }
  }
}

/**
 * Reads a folder's entries sorted so a depth-first walk yields keys in byte order: a folder sorts as `name/`,
 * because every key inside it continues with `/` (so `a-b` comes before `a/c`). A missing folder is empty.
 */
async function readEntries(dir: string): Promise<Dirent[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isAbsence(error)) return [];
    throw error;
  }
  const sortKey = (entry: Dirent) => (entry.isDirectory() ? `${entry.name}/` : entry.name);
  return entries.sort((a, b) => compareKeys(sortKey(a), sortKey(b)));
}

/** Writes `body` into `handle`; a write's error goes through `named`, an error of the body itself does not. */
async function writeBody(
  handle: FileHandle,
  body: ObjectBody,
  named: <T>(op: Promise<T>) => Promise<T>,
): Promise<number> {
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    await named(handle.writeFile(bytes));
    return bytes.length;
  }
  let size = 0;
  // Awaiting each write is the backpressure: at most one chunk is held in memory.
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    await named(handle.write(bytes));
    size += bytes.length;
  }
  return size;
}

function infoOf(key: string, stats: BigIntStats): ObjectInfo | undefined {
  if (!stats.isFile()) return undefined;
  // Each write renames a fresh inode over the old one, so the inode changes even within the mtime granularity.
  return {
    key,
    size: Number(stats.size),
    lastModified: new Date(Number(stats.mtimeMs)),
    etag: `${stats.ino.toString(16)}-${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}`,
  };
}

function isAbsence(error: unknown): boolean {
  return hasCode(error, 'ENOENT', 'ENOTDIR');
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.includes(code);
}
