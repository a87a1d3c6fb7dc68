import type { ColumnLayout } from './header.js';
import { parseIsoTimestamp } from './timestamp.js';
import type { ItemStatus, MachineSignalHeader, MachineSignalRow, RejectReason, RejectedLine } from './types.js';

const INTEGER = /^\d{1,15}$/;
const DECIMAL = /^-?\d{1,12}(?:\.\d{1,9})?$/;
const STATUSES: ReadonlySet<string> = new Set<ItemStatus>(['OK', 'SCRAP', 'REWORK']);

/** What a data line needs to be checked against: its file's header, columns and hour window. */
export interface RowContext {
  fileName: string;
  header: MachineSignalHeader;
  layout: ColumnLayout;
  /** Accepted timestamps: `[windowStartMs, windowEndMs)`. */
  windowStartMs: number;
  windowEndMs: number;
  toleranceMinutes: number;
}

/** A data line's outcome: a typed row, or the reason it is quarantined. */
export type RowResult = { ok: true; row: MachineSignalRow } | { ok: false; rejected: RejectedLine };

/** Thrown inside the row checks only, caught by {@link parseDataLine}. */
class Reject extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
    readonly column?: string,
  ) {
    super(message);
  }
}

function integer(fields: string[], ctx: RowContext, column: 'item_seq' | 'cycle_ms'): number {
  const text = fields[ctx.layout.index[column]]!;
  if (INTEGER.test(text)) return Number(text);
  const why = DECIMAL.test(text) ? 'not an integer' : 'not a number';
  throw new Reject('bad_number', `column ${column}: ${why}: ${JSON.stringify(text)}`, column);
}

function decimal(text: string, column: string): number {
  if (DECIMAL.test(text)) return Number(text);
  throw new Reject('bad_number', `column ${column}: not a number: ${JSON.stringify(text)}`, column);
}

function timestamp(fields: string[], ctx: RowContext): { ts: string; tsMs: number } {
  const ts = fields[ctx.layout.index.ts]!;
  const tsMs = parseIsoTimestamp(ts);
  if (tsMs === undefined) {
    throw new Reject('bad_timestamp', `column ts: not an ISO-8601 timestamp with offset: ${JSON.stringify(ts)}`, 'ts');
  }
  return { ts, tsMs };
}

function status(fields: string[], ctx: RowContext): ItemStatus {
  const text = fields[ctx.layout.index.status]!;
  if (STATUSES.has(text)) return text as ItemStatus;
  throw new Reject(
    'bad_status',
    `column status: unknown status ${JSON.stringify(text)} (expected OK, SCRAP or REWORK)`,
    'status',
  );
}

function checkWindow(ts: string, tsMs: number, ctx: RowContext): void {
  if (tsMs >= ctx.windowStartMs && tsMs < ctx.windowEndMs) return;
  const why = `column ts: ${ts} is outside the hour ${ctx.header.hour} (tolerance ${ctx.toleranceMinutes} min)`;
  throw new Reject('outside_hour', why, 'ts');
}

function typedRow(fields: string[], lineNo: number, ctx: RowContext): MachineSignalRow {
  const { index, energy } = ctx.layout;
  if (fields.length !== ctx.layout.columns.length) {
    throw new Reject('field_count', `expected ${ctx.layout.columns.length} fields, found ${fields.length}`);
  }
  const { ts, tsMs } = timestamp(fields, ctx);
  const itemSeq = integer(fields, ctx, 'item_seq');
  const sku = fields[index.sku]!;
  if (sku === '') throw new Reject('missing_value', 'column sku: empty', 'sku');
  const row: MachineSignalRow = {
    machineId: ctx.header.machine,
    itemSeq,
    ts,
    tsMs,
    sku,
    status: status(fields, ctx),
    cycleMs: integer(fields, ctx, 'cycle_ms'),
    tempC: decimal(fields[index.temp_c]!, 'temp_c'),
    vibrationMmS: decimal(fields[index.vibration_mm_s]!, 'vibration_mm_s'),
    operator: fields[index.operator]!,
    energyWh: energy === undefined || fields[energy] === '' ? null : decimal(fields[energy]!, 'energy_wh'),
    lineNo,
  };
  checkWindow(ts, tsMs, ctx);
  return row;
}

/**
 * Checks one decoded data line (line break and a trailing `\r` already removed) and types it. The first fault found
 * decides the reason; the message names the file, the line and the column.
 */
export function parseDataLine(text: string, lineNo: number, ctx: RowContext): RowResult {
  try {
    return { ok: true, row: typedRow(text.split('|'), lineNo, ctx) };
  } catch (err) {
    if (!(err instanceof Reject)) throw err;
    return { ok: false, rejected: rejectedLine(ctx.fileName, lineNo, err.reason, err.message, text, err.column) };
  }
}

/** Builds a quarantined line whose detail reads `<file>:<line>: <message>`. */
export function rejectedLine(
  fileName: string,
  lineNo: number,
  reason: RejectReason,
  message: string,
  raw: string,
  column?: string,
): RejectedLine {
  const rejected: RejectedLine = { lineNo, reason, detail: `${fileName}:${lineNo}: ${message}`, raw };
  if (column !== undefined) rejected.column = column;
  return rejected;
}
