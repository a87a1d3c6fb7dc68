import { createHash } from 'node:crypto';
import { ContractBrokenError, IncompleteFileError } from '../../../failures.js';
import { encodingOf, parseColumnLine, parseHeaderLine, parseTrailerLine } from './header.js';
import { LineSplitter } from '../../../formats/generic/lines.js';
import { parseDataLine, rejectedLine, type RowContext } from './row.js';
import type {
  MachineSignalEvent,
  MachineSignalHeader,
  ParseMachineSignalOptions,
  ParseSummary,
  RejectReason,
  SignalEncoding,
} from './types.js';

const LF = Buffer.from('\n');
const DEFAULT_MAX_LINE_BYTES = 1 << 20;

function stripCr(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

/**
 * The contract v1 state machine, fed one line at a time (synchronous, so it is cheap per line). Use
 * {@link parseMachineSignalFile} unless you already have lines. Holds only counters, the running SHA-256 and the set
 * of item_seq values seen.
 */
export class MachineSignalParser {
  private lineNo = 0;
  private header: MachineSignalHeader | undefined;
  private ctx: RowContext | undefined;
  private encoding: SignalEncoding = 'utf8';
  private readonly hash = createHash('sha256');
  private readonly seen = new Set<number>();
  // ignoreBOM keeps a stray BOM in the line, so the row is quarantined instead of silently altered.
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private dataLines = 0;
  private goodRows = 0;
  private rejectedRows = 0;
  private duplicateRows = 0;
  private readonly rejectedByReason: Partial<Record<RejectReason, number>> = {};

  constructor(private readonly options: ParseMachineSignalOptions) {}

  /** Processes one complete line (without its `\n`) that is known not to be the last line of the file. */
  line(bytes: Buffer): MachineSignalEvent | undefined {
    this.lineNo++;
    const { fileName } = this.options;
    if (!this.header) {
      this.header = parseHeaderLine(stripCr(bytes.toString('latin1')), fileName);
      this.encoding = encodingOf(this.header.firmware);
      return undefined;
    }
    if (!this.ctx) {
      const layout = parseColumnLine(stripCr(this.decode(bytes) ?? bytes.toString('latin1')), fileName, this.header);
      const toleranceMinutes = this.options.toleranceMinutes ?? 5;
      const start = this.header.hourStartMs;
      const windowStartMs = start - toleranceMinutes * 60_000;
      const windowEndMs = start + 3_600_000 + toleranceMinutes * 60_000;
      this.ctx = { fileName, header: this.header, layout, windowStartMs, windowEndMs, toleranceMinutes };
      const { columns, extraColumns } = layout;
      return { kind: 'header', header: this.header, columns, extraColumns, encoding: this.encoding };
    }
    return this.dataLine(bytes, this.ctx);
  }

  /**
   * Ends the file with its last line (undefined for an empty file) and returns the summary, or throws
   * {@link IncompleteFileError} when the trailer is missing or does not match the content.
   * @param terminated whether the last line ended with `\n` (an unterminated line may be cut mid-write)
   */
  finish(last: Buffer | undefined, terminated: boolean, bytes: number): ParseSummary {
    if (!this.ctx) {
      if (last !== undefined && terminated) this.line(last);
      throw this.incomplete(
        bytes === 0 ? 'empty file' : 'it ends before its column header line and trailer',
        'truncated',
      );
    }
    const trailer = last === undefined ? undefined : parseTrailerLine(stripCr(last.toString('latin1')));
    if (!trailer) {
      const why = 'no trailer: the last line is not "#end;items=N;sha256=HEX" (still being written, or truncated)';
      throw this.incomplete(why, 'missing_trailer');
    }
    if (trailer.items !== this.dataLines) {
      const why = `trailer says items=${trailer.items} but the file has ${this.dataLines} data lines`;
      throw this.incomplete(why, 'items_mismatch', { trailerItems: trailer.items });
    }
    const sha256 = this.hash.digest('hex');
    if (sha256 !== trailer.sha256) {
      const why = `checksum mismatch: trailer sha256=${trailer.sha256}, content sha256=${sha256}`;
      throw this.incomplete(why, 'checksum_mismatch', { trailerSha256: trailer.sha256, sha256 });
    }
    const { header, layout } = this.ctx;
    return {
      header,
      columns: layout.columns,
      extraColumns: layout.extraColumns,
      encoding: this.encoding,
      dataLines: this.dataLines,
      goodRows: this.goodRows,
      rejectedRows: this.rejectedRows,
      rejectedByReason: { ...this.rejectedByReason },
      duplicateRows: this.duplicateRows,
      trailer,
      bytes,
    };
  }

  /** The error for a line longer than the limit: a broken contract (a writer never writes such lines). */
  lineTooLong(bytes: number): never {
    const max = this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    throw new ContractBrokenError(
      `${this.options.fileName}: line ${this.lineNo + 1} or the next is ${bytes} bytes or more, over the ${max}-byte limit`,
      { fileName: this.options.fileName, line: this.lineNo + 1, maxLineBytes: max },
    );
  }

  private dataLine(bytes: Buffer, ctx: RowContext): MachineSignalEvent {
    this.dataLines++;
    this.hash.update(bytes);
    this.hash.update(LF);
    const text = this.decode(bytes);
    const result =
      text === undefined
        ? ({
            ok: false,
            rejected: rejectedLine(
              ctx.fileName,
              this.lineNo,
              'bad_encoding',
              'not valid UTF-8',
              bytes.toString('latin1'),
            ),
          } as const)
        : parseDataLine(stripCr(text), this.lineNo, ctx);
    if (!result.ok) {
      this.rejectedRows++;
      const { reason } = result.rejected;
      this.rejectedByReason[reason] = (this.rejectedByReason[reason] ?? 0) + 1;
      return { kind: 'rejected', rejected: result.rejected };
    }
    const { itemSeq } = result.row;
    if (this.seen.has(itemSeq)) {
      this.duplicateRows++;
      return { kind: 'duplicate', lineNo: this.lineNo, itemSeq };
    }
    this.seen.add(itemSeq);
    this.goodRows++;
    return { kind: 'row', row: result.row };
  }

  /** Decodes a line in the file's encoding; undefined when it is not valid UTF-8. */
  private decode(bytes: Buffer): string | undefined {
    if (this.encoding === 'latin1') return bytes.toString('latin1');
    try {
      return this.utf8.decode(bytes);
    } catch {
      return undefined;
    }
  }

  private incomplete(why: string, reason: string, extra: Record<string, unknown> = {}): IncompleteFileError {
    const { fileName } = this.options;
    return new IncompleteFileError(`${fileName}: incomplete file: ${why}`, {
      fileName,
      reason,
      machine: this.header?.machine,
      hourKey: this.header?.hourKey,
      dataLines: this.dataLines,
      ...extra,
    });
  }
}

/**
 * Streams a contract v1 machine signal file: yields `header` (once the column line is read), then one `row`,
 * `rejected` or `duplicate` event per data line in file order, and finally `end` with the summary. Chunks may be cut
 * anywhere; memory stays bounded by the longest line plus the set of item_seq values seen.
 *
 * Throws {@link ContractBrokenError} before any row for a bad header or a breaking column change, and
 * {@link IncompleteFileError} at the end when the trailer is missing or its count or checksum does not match: a
 * consumer must treat what it received as provisional until `end`.
 */
export async function* parseMachineSignalFile(
  source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>,
  options: ParseMachineSignalOptions,
): AsyncGenerator<MachineSignalEvent, void, undefined> {
  const parser = new MachineSignalParser(options);
  const splitter = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, (n) => parser.lineTooLong(n));
  let held: Buffer | undefined;
  let bytes = 0;
  for await (const chunk of source) {
    if (typeof chunk === 'string') throw new TypeError('parseMachineSignalFile needs byte chunks, not strings');
    bytes += chunk.byteLength;
    // Each line is processed once the next one starts: only then is it known not to be the trailer.
    for (const line of splitter.push(chunk)) {
      const event = held === undefined ? undefined : parser.line(held);
      if (event) yield event;
      held = line;
    }
  }
  const tail = splitter.end();
  if (tail !== undefined && held !== undefined) {
    const event = parser.line(held);
    if (event) yield event;
  }
  yield { kind: 'end', summary: parser.finish(tail ?? held, tail === undefined, bytes) };
}

/** Alias of {@link parseMachineSignalFile}. */
export const parseMachineSignal = parseMachineSignalFile;
