const LF = 0x0a;

/**
 * Splits a byte stream into `\n`-terminated lines without decoding it, so chunks may be cut anywhere, even inside a
 * multi-byte character. Memory is bounded by the longest line.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** @param onTooLong called (and must throw) when a line grows past `maxLineBytes` */
  constructor(
    private readonly maxLineBytes: number,
    private readonly onTooLong: (bytes: number) => never,
  ) {}

  /** Yields the complete lines (without their `\n`) that `chunk` finishes. */
  *push(chunk: Buffer | Uint8Array): Generator<Buffer, void, undefined> {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let nl = buf.indexOf(LF, start); nl >= 0; nl = buf.indexOf(LF, start)) {
      const piece = buf.subarray(start, nl);
      start = nl + 1;
      yield this.pendingBytes === 0 ? this.checked(piece) : this.take(piece);
    }
    if (start < buf.length) {
      // Copied: the source may reuse its chunk buffers once the next one is asked for.
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

  /** The pending bytes joined with the line's last piece. */
  private take(last: Buffer): Buffer {
    const line = Buffer.concat([...this.pending, last], this.pendingBytes + last.length);
    this.pending = [];
    this.pendingBytes = 0;
    return this.checked(line);
  }

  /** A line, once checked against the length limit. */
  private checked(line: Buffer): Buffer {
    if (line.length > this.maxLineBytes) this.onTooLong(line.length);
    return line;
  }
}
