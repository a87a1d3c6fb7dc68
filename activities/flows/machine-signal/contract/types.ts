/** The eight columns every v1 file must have, in their documented order (mapping is by name, not position). */
export const REQUIRED_COLUMNS = [
  'ts',
  'item_seq',
  'sku',
  'status',
  'cycle_ms',
  'temp_c',
  'vibration_mm_s',
  'operator',
] as const;

/** A required v1 column. */
export type RequiredColumn = (typeof REQUIRED_COLUMNS)[number];

/** Additive column appended by firmware 3.x: parsed as a nullable number. */
export const ENERGY_COLUMN = 'energy_wh';

/** Item outcome: `OK` adds one to its SKU's stock; `SCRAP` and `REWORK` do not. */
export type ItemStatus = 'OK' | 'SCRAP' | 'REWORK';

/** Text encoding of a file: ISO-8859-1 for firmware 1.x, UTF-8 otherwise. */
export type SignalEncoding = 'latin1' | 'utf8';

/** Line 1 of a file: `#machine=M07;firmware=2.4.1;plant=SP-01;hour=2026-11-20T10:00:00-03:00`. */
export interface MachineSignalHeader {
  /** Machine id, e.g. `M07`: with `hourKey`, the partition the file belongs to (the header decides, not the name). */
  machine: string;
  /** Firmware version, e.g. `2.4.1`; its major version decides the encoding. */
  firmware: string;
  /** Plant code, e.g. `SP-01`. */
  plant: string;
  /** Start of the hour as written, e.g. `2026-11-20T10:00:00-03:00`. */
  hour: string;
  /** Start of the hour, epoch milliseconds. */
  hourStartMs: number;
  /** Local wall-clock hour, `YYYY-MM-DDTHH` (e.g. `2026-11-20T10`), as in partition keys. */
  hourKey: string;
  /** Every `key=value` pair of the line, including unknown keys. */
  attributes: Readonly<Record<string, string>>;
}

/** One valid, typed item signal. */
export interface MachineSignalRow {
  /** Machine id, from the header. */
  machineId: string;
  /** Item sequence number: with `machineId`, the item's identity. */
  itemSeq: number;
  /** Timestamp as written (ISO-8601 with offset), kept verbatim. */
  ts: string;
  /** Timestamp, epoch milliseconds. */
  tsMs: number;
  sku: string;
  status: ItemStatus;
  /** Cycle time, integer milliseconds. */
  cycleMs: number;
  tempC: number;
  vibrationMmS: number;
  /** Operator name (may contain accents); may be empty. */
  operator: string;
  /** Energy per item in Wh (firmware 3.x); null when the column is absent or the field empty. */
  energyWh: number | null;
  /** 1-based line number in the file. */
  lineNo: number;
}

/** Why a data line was quarantined. */
export type RejectReason =
  'field_count' | 'bad_number' | 'bad_timestamp' | 'bad_status' | 'bad_encoding' | 'outside_hour' | 'missing_value';

/** A quarantined data line. */
export interface RejectedLine {
  /** 1-based line number in the file. */
  lineNo: number;
  reason: RejectReason;
  /** The column at fault, when one is. */
  column?: string;
  /** Message naming file, line and column, e.g. `M07_20261120T10.txt:57: column cycle_ms: not a number: "8x2"`. */
  detail: string;
  /** The line as read (without its line break); a `bad_encoding` line is read as ISO-8859-1 so no byte is lost. */
  raw: string;
}

/** The trailer line, `#end;items=N;sha256=HEX`. */
export interface MachineSignalTrailer {
  /** Number of data lines the writer declared. */
  items: number;
  /** Lower-case hex SHA-256 of the data lines' raw bytes, each followed by `\n`. */
  sha256: string;
}

/** What a complete, valid file held: the `end` event's payload. */
export interface ParseSummary {
  header: MachineSignalHeader;
  /** Column names in file order. */
  columns: string[];
  /** Columns beyond the eight v1 ones, in file order: the known additive `energy_wh` and any unknown (ignored) ones. */
  extraColumns: string[];
  encoding: SignalEncoding;
  /** Lines between the column header and the trailer, malformed ones included. */
  dataLines: number;
  /** Valid rows emitted (duplicates excluded). */
  goodRows: number;
  /** Quarantined lines. */
  rejectedRows: number;
  /** Quarantined lines per reason (only reasons that occurred). */
  rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Valid lines whose item_seq was already loaded from this file (the first wins). */
  duplicateRows: number;
  trailer: MachineSignalTrailer;
  /** Bytes read. */
  bytes: number;
}

/** Alias of {@link ParseSummary}. */
export type MachineSignalSummary = ParseSummary;

/** What the streaming parser emits, in file order; `end` comes last and only for a complete, valid file. */
export type MachineSignalEvent =
  | { kind: 'header'; header: MachineSignalHeader; columns: string[]; extraColumns: string[]; encoding: SignalEncoding }
  | { kind: 'row'; row: MachineSignalRow }
  | { kind: 'rejected'; rejected: RejectedLine }
  | { kind: 'duplicate'; lineNo: number; itemSeq: number }
  | { kind: 'end'; summary: ParseSummary };

/** Options of the parser. */
export interface ParseMachineSignalOptions {
  /** File name used in every message, e.g. `M07_20261120T10.txt`. */
  fileName: string;
  /** How far outside its hour a timestamp may be before its row is quarantined; default 5. */
  toleranceMinutes?: number;
  /** Longest accepted line in bytes (bounds memory); a longer line breaks the contract. Default 1 MiB. */
  maxLineBytes?: number;
}
