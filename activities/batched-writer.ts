import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

const FLUSH_AT = 1 << 20;

/**
 * Appends text to a local file in ~1 MB writes: streaming millions of small rows one `write` (and one `await`) at a
 * time costs more than producing them.
 */
export class BatchedWriter {
  private readonly out: WriteStream;
  private parts: string[] = [];
  private size = 0;

  constructor(file: string) {
    this.out = createWriteStream(file);
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

  /** Writes everything queued and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }

  private async flush(): Promise<void> {
    if (this.size === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.out.write(text)) await once(this.out, 'drain');
  }
}
