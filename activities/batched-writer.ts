import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { writeError } from './file-errors.js';

const FLUSH_AT = 1 << 20;

/**
 * Appends text to a local file in ~1 MB writes: streaming millions of small rows one `write` (and one `await`) at a
 * time costs more than producing them. A failed write (a full disk) rejects the next {@link maybeFlush} or
 * {@link close} with an error naming the file; `close` then ends at once instead of waiting for a finish that an
 * errored stream never emits.
 */
export class BatchedWriter {
  private readonly out: WriteStream;
  private parts: string[] = [];
  private size = 0;
  private failure: Error | undefined;

  constructor(file: string) {
    this.out = createWriteStream(file);
    // Kept, so an error between two writes is neither lost nor an unhandled 'error' event.
    this.out.on('error', (err) => (this.failure ??= writeError(err, file)));
  }

  /** Queues text; call {@link maybeFlush} now and then to bound memory. */
  add(text: string): void {
    this.parts.push(text);
    this.size += text.length;
  }

  /** Writes the queued text when it passed the batch size, waiting for the stream to drain. */
  async maybeFlush(): Promise<void> {
    if (this.size >= FLUSH_AT) await this.flush();
  }

  /** Writes everything queued and closes the file; rejects (having closed it) when any write failed. */
  async close(): Promise<void> {
    try {
      await this.flush();
      this.throwIfFailed();
      this.out.end();
      // An error instead of 'finish' rejects `once`; it is the failure recorded above.
      await once(this.out, 'finish').catch(() => undefined);
    } finally {
      if (this.failure !== undefined) this.out.destroy();
    }
    this.throwIfFailed();
  }

  private async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.size === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.out.write(text)) await once(this.out, 'drain').catch(() => undefined);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
