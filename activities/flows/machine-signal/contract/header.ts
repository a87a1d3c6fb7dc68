import { ContractBrokenError } from '../../../failures.js';
import { parseIsoTimestamp } from './timestamp.js';
import {
  ENERGY_COLUMN,
  REQUIRED_COLUMNS,
  type MachineSignalHeader,
  type MachineSignalTrailer,
  type RequiredColumn,
  type SignalEncoding,
} from './types.js';

const MACHINE = /^[A-Za-z0-9_-]{1,32}$/;
const FIRMWARE = /^(\d+)(?:\.[0-9A-Za-z-]+)*$/;
const HOUR = /^(\d{4}-\d{2}-\d{2}T\d{2}):00:00(?:\.0+)?(?:Z|[+-]\d{2}:\d{2})$/;
const TRAILER = /^#end;items=(\d{1,12});sha256=([0-9a-fA-F]{64})$/;
const FILE_NAME = /^([A-Za-z0-9_-]{1,32})_(\d{4})(\d{2})(\d{2})T(\d{2})(?:\.[A-Za-z0-9_-]+)*\.txt$/;

/** Where each column sits in a data line. */
export interface ColumnLayout {
  columns: string[];
  index: Readonly<Record<RequiredColumn, number>>;
  /** Position of `energy_wh`, when present. */
  energy: number | undefined;
  /** Columns beyond the v1 eight, in file order (`energy_wh` included). */
  extraColumns: string[];
}

/** Parses header line 1; throws {@link ContractBrokenError} naming the file and what is wrong. */
export function parseHeaderLine(text: string, fileName: string): MachineSignalHeader {
  const fail = (why: string): never => {
    throw new ContractBrokenError(`${fileName}:1: bad header line (${why}): ${JSON.stringify(text.slice(0, 200))}`, {
      fileName,
      line: 1,
    });
  };
  if (!text.startsWith('#') || text.startsWith('#end;')) fail('expected "#machine=…;firmware=…;plant=…;hour=…"');
  const attributes: Record<string, string> = {};
  for (const part of text.slice(1).split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) fail(`not key=value: "${part}"`);
    attributes[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const { machine = '', firmware = '', plant = '', hour = '' } = attributes;
  if (!MACHINE.test(machine)) fail('machine missing or invalid');
  if (!FIRMWARE.test(firmware)) fail('firmware missing or invalid');
  if (plant === '') fail('plant missing');
  const hourMatch = HOUR.exec(hour);
  const hourStartMs = parseIsoTimestamp(hour);
  if (!hourMatch || hourStartMs === undefined) fail('hour missing or not the start of an hour with offset');
  return { machine, firmware, plant, hour, hourStartMs: hourStartMs!, hourKey: hourMatch![1]!, attributes };
}

/** Encoding a firmware writes: ISO-8859-1 for 1.x, UTF-8 otherwise. */
export function encodingOf(firmware: string): SignalEncoding {
  return FIRMWARE.exec(firmware)?.[1] === '1' ? 'latin1' : 'utf8';
}

/**
 * Maps the column header line by name. A missing required column (removed or renamed) or a repeated one is a
 * breaking change: throws {@link ContractBrokenError} naming the missing and the unexpected columns.
 */
export function parseColumnLine(text: string, fileName: string, header?: MachineSignalHeader): ColumnLayout {
  const columns = text.split('|');
  const known = new Set<string>([...REQUIRED_COLUMNS, ENERGY_COLUMN]);
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  const unexpected = columns.filter((c) => !known.has(c));
  const repeated = [...new Set(columns.filter((c, i) => columns.indexOf(c) !== i))];
  if (missing.length > 0 || repeated.length > 0) {
    const show = (names: string[]) => names.map((n) => (n === '' ? '""' : n)).join(', ');
    const parts = [
      missing.length > 0 ? `missing column(s) ${show(missing)}` : '',
      unexpected.length > 0 ? `unexpected column(s) ${show(unexpected)}` : '',
      repeated.length > 0 ? `repeated column(s) ${show(repeated)}` : '',
    ].filter((p) => p !== '');
    throw new ContractBrokenError(`${fileName}: breaking schema change: ${parts.join('; ')}`, {
      fileName,
      line: 2,
      machine: header?.machine,
      hourKey: header?.hourKey,
      columns,
      missingColumns: missing,
      unexpectedColumns: unexpected,
      repeatedColumns: repeated,
    });
  }
  const index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, columns.indexOf(c)])) as Record<
    RequiredColumn,
    number
  >;
  const energy = columns.indexOf(ENERGY_COLUMN);
  const required = new Set<string>(REQUIRED_COLUMNS);
  return {
    columns,
    index,
    energy: energy >= 0 ? energy : undefined,
    extraColumns: columns.filter((c) => !required.has(c)),
  };
}

/** Parses a trailer line (`#end;items=N;sha256=HEX`, without its line break), or undefined when it is not one. */
export function parseTrailerLine(text: string): MachineSignalTrailer | undefined {
  const m = TRAILER.exec(text);
  return m ? { items: Number(m[1]), sha256: m[2]!.toLowerCase() } : undefined;
}

/**
 * Whether the last bytes of a file (say its last 256) end with a syntactically valid trailer line, with or without
 * its final `\n`: the cheap test a landing sensor uses to tell a file still being written from a complete one. The
 * trailer must start a line inside `tail`. Count and checksum are verified only by the full parse.
 */
export function hasTrailer(tail: Buffer): boolean {
  let text = tail.toString('latin1');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  const nl = text.lastIndexOf('\n');
  return nl >= 0 && parseTrailerLine(text.slice(nl + 1)) !== undefined;
}

/**
 * Reads `<MACHINE>_<YYYYMMDD>T<HH>.txt` (also with extra dotted parts, e.g. `M03_20261120T09.resend.txt`) into
 * `{ machine, hourKey }` (hourKey like `2026-11-20T10`), or undefined. Only a hint: the header line decides which
 * partition a file belongs to.
 */
export function parseFileName(name: string): { machine: string; hourKey: string } | undefined {
  const m = FILE_NAME.exec(name.slice(name.lastIndexOf('/') + 1));
  if (!m) return undefined;
  const [, machine, y, mo, d, h] = m as unknown as [string, string, string, string, string, string];
  const date = new Date(Date.UTC(+y, +mo - 1, +d));
  if (date.getUTCFullYear() !== +y || date.getUTCMonth() !== +mo - 1 || date.getUTCDate() !== +d || +h > 23) {
    return undefined;
  }
  return { machine, hourKey: `${y}-${mo}-${d}T${h}` };
}
