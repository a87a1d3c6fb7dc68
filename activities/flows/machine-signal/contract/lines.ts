const LF = 0x0a;

/**
 * Splits a byte stream into `\n`-terminated lines without decoding it, so chunks may be cut anywhere, even inside a
 * multi-byte character. Memory is bounded by the longest line.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** @param maxLineBytes longest accepted line; `onTooLong` is called (and must throw) when one grows past it */
  constructor(
    private readonly maxLineBytes: number,
    private readonly onTooLong: (bytes: number) => never,
  ) {}

  /** Yields the complete lines (without their `\n`) that `chunk` finishes. */
  *push(chunk: Buffer | Uint8Array): Generator<Buffer> {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let nl = buf.indexOf(LF, start); nl >= 0; nl = buf.indexOf(LF, start)) {
      const piece = buf.subarray(start, nl);
      start = nl + 1;
      if (this.pendingBytes === 0) {
        if (piece.length > this.maxLineBytes) this.onTooLong(piece.length);
        yield piece;
      } else {
        yield this.take(piece);
      }
    }
    if (start < buf.length) {
      // Copied: the source may reuse its chunk buffers once we ask for the next one.
      const rest = Buffer.from(buf.subarray(start));
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxLineBytes) this.onTooLong(this.pendingBytes);
    }
  }

  /** The unterminated bytes left at the end of the stream, if any. */
  end(): Buffer | undefined {
    return this.pendingBytes > 0 ? this.take(Buffer.alloc(0)) : undefined;
  }

  private take(last: Buffer): Buffer {
    const line = Buffer.concat([...this.pending, last], this.pendingBytes + last.length);
    if (line.length > this.maxLineBytes) this.onTooLong(line.length);
    this.pending = [];
    this.pendingBytes = 0;
    return line;
  }
}
