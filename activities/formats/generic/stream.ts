import { ContractBrokenError } from '../../failures.js';
import type { GenericEvent } from '../format.js';
import { LineSplitter } from './lines.js';

/** The bytes of a file, in chunks cut anywhere (strings are UTF-8 text, accepted for UTF-8 files only). */
export type GenericSource = AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array | string>;

/** Longest accepted line when the format does not say. */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20;

const CR = 0x0d;

/** A format's line-by-line state machine (synchronous, so it is cheap per line). */
export interface LineParser {
  /** Processes one non-blank line: its bytes without the line break (LF or CRLF). */
  line(lineNo: number, bytes: Buffer): GenericEvent | undefined;
  /** The events after the last line (rows held by the dedup policy, then `end`). */
  finish(bytes: number): Iterable<GenericEvent>;
}

/** How a file is read into lines. */
export interface LineOptions {
  fileName: string;
  maxLineBytes: number;
  /** Whether the file is UTF-8: then string chunks are accepted and a BOM starting the file is stripped. */
  utf8: boolean;
}

/**
 * Splits a byte stream into lines (LF, with an optional CR before it; the last line may lack it), skips blank ones
 * and feeds the others to `parser`, yielding its events. Memory is bounded by the longest line; a longer line than
 * `maxLineBytes` throws {@link ContractBrokenError}.
 */
export async function* parseLines(
  source: GenericSource,
  parser: LineParser,
  options: LineOptions,
): AsyncGenerator<GenericEvent, void, undefined> {
  let lineNo = 0;
  let bytes = 0;
  const splitter = new LineSplitter(options.maxLineBytes, (n) => lineTooLong(options, lineNo + 1, n));
  const feed = (line: Buffer) => {
    lineNo++;
    const body = lineBody(line, lineNo === 1 && options.utf8);
    return body.length === 0 ? undefined : parser.line(lineNo, body);
  };
  for await (const chunk of source) {
    const buf = chunkBytes(chunk, options);
    bytes += buf.byteLength;
    for (const line of splitter.push(buf)) {
      const event = feed(line);
      if (event) yield event;
    }
  }
  const tail = splitter.end();
  const event = tail === undefined ? undefined : feed(tail);
  if (event) yield event;
  yield* parser.finish(bytes);
}

/** A line without its CR (and without the UTF-8 BOM that may start a file). */
function lineBody(line: Buffer, first: boolean): Buffer {
  const start = first && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf ? 3 : 0;
  const end = line.length > start && line[line.length - 1] === CR ? line.length - 1 : line.length;
  return start === 0 && end === line.length ? line : line.subarray(start, end);
}

/** The bytes of a chunk; a string chunk only for a UTF-8 file (its bytes are otherwise unknown). */
function chunkBytes(chunk: Buffer | Uint8Array | string, options: LineOptions): Buffer | Uint8Array {
  if (typeof chunk !== 'string') return chunk;
  if (!options.utf8) throw new TypeError(`${options.fileName}: a file that is not UTF-8 must be read as bytes`);
  return Buffer.from(chunk, 'utf8');
}

/** The error for a line longer than the limit: a broken contract (and a bound on memory). */
function lineTooLong(options: LineOptions, lineNo: number, bytes: number): never {
  const { fileName, maxLineBytes } = options;
  throw new ContractBrokenError(
    `${fileName}: line ${lineNo} is ${bytes} bytes or more, over the ${maxLineBytes}-byte limit`,
    { fileName, line: lineNo, maxLineBytes },
  );
}
