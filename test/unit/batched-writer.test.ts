import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BatchedWriter } from '../../activities/batched-writer.js';

const MB = 1 << 20;

/** The writer on real files; `/dev/full` answers every write with ENOSPC, as a full disk does. */
describe('BatchedWriter', () => {
  it('writes everything it was given', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fabrica-writer-'));
    try {
      const w = new BatchedWriter(path.join(dir, 'out.tsv'));
      for (let i = 0; i < 3; i++) {
        w.add(`${String(i).repeat(MB)}\n`);
        await w.maybeFlush();
      }
      w.add('tail\n');
      await w.close();
      const text = await readFile(path.join(dir, 'out.tsv'), 'utf8');
      expect(text.length).toBe(3 * (MB + 1) + 5);
      expect(text.endsWith('2\ntail\n')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a full disk rejects the flush and the close with the file and ENOSPC, and close does not hang', async () => {
    const w = new BatchedWriter('/dev/full');
    w.add('x'.repeat(2 * MB));
    await expect(w.maybeFlush()).rejects.toThrow('writing /dev/full: ENOSPC: no space left on device, write');
    await expect(w.close()).rejects.toMatchObject({ code: 'ENOSPC', path: '/dev/full' });
  }, 10_000);

  it('a write failing after the last flush still rejects the close', async () => {
    const w = new BatchedWriter('/dev/full');
    w.add('x'.repeat(64 * 1024));
    await expect(w.close()).rejects.toThrow('writing /dev/full: ENOSPC');
  }, 10_000);

  it('a file that cannot be created rejects the close (no unhandled error event, no hang)', async () => {
    const file = path.join(tmpdir(), 'fabrica-no-such-folder', 'x', 'out.tsv');
    const w = new BatchedWriter(file);
    w.add('row\n');
    await expect(w.close()).rejects.toThrow(`ENOENT: no such file or directory, open '${file}'`);
  }, 10_000);
});
