import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { computeYieldMetrics, type YieldMetrics } from '../../infra/generator/yield-metrics.js';

/** A UTF-8 machine file (contract v1) taken apart: header and column lines, data lines without their `\n`. */
export interface MachineFileParts {
  header: string;
  columns: string;
  data: string[];
}

/** Reads a generated UTF-8 machine file into its parts (the trailer is dropped: it is recomputed on write). */
export function readMachineFile(file: string): MachineFileParts {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const trailer = lines.pop();
  if (!trailer?.startsWith('#end;')) throw new Error(`${file}: no trailer`);
  const [header, columns, ...data] = lines;
  return { header: header!, columns: columns!, data };
}

/**
 * Writes a machine file with a valid trailer (item count and SHA-256 of the data lines), atomically (a temp file
 * renamed into place, as a file server's upload does), and returns the file's SHA-256.
 */
export function writeMachineFile(file: string, parts: MachineFileParts): string {
  const body = parts.data.map((l) => `${l}\n`).join('');
  const sha = createHash('sha256').update(body).digest('hex');
  const text = `${parts.header}\n${parts.columns}\n${body}#end;items=${parts.data.length};sha256=${sha}\n`;
  writeFileSync(`${file}.part`, text);
  renameSync(`${file}.part`, file);
  return createHash('sha256').update(text).digest('hex');
}

/** Replaces field `index` (0-based, pipe-separated) of a data line. */
export function withField(line: string, index: number, value: string): string {
  const f = line.split('|');
  f[index] = value;
  return f.join('|');
}

/** The item_seq of a data line. */
export const itemSeqOf = (line: string): number => Number(line.split('|')[1]);

/** What a correct load of valid data lines (no energy column) must publish, computed from the lines themselves. */
export interface LinesTruth {
  items: number;
  okBySku: Record<string, number>;
  itemSeqs: number[];
  yield: YieldMetrics;
}

/** The expected events, stock contribution and yield row of valid data lines, for the hour starting `hourIso`. */
export function truthOfLines(lines: readonly string[], hourIso: string): LinesTruth {
  const okBySku: Record<string, number> = {};
  const rows = lines.map((l) => {
    const [ts, seq, sku, status, cycle, temp, vib] = l.split('|');
    if (status === 'OK') okBySku[sku!] = (okBySku[sku!] ?? 0) + 1;
    return {
      seq: Number(seq),
      status: status!,
      cycleMs: Number(cycle),
      tempC: Number(temp),
      vibrationMmS: Number(vib),
      energyWh: null,
      tsMs: Date.parse(ts!),
    };
  });
  return {
    items: rows.length,
    okBySku: Object.fromEntries(Object.entries(okBySku).sort(([a], [b]) => a.localeCompare(b))),
    itemSeqs: rows.map((r) => r.seq).sort((a, b) => a - b),
    yield: computeYieldMetrics(rows, Date.parse(hourIso), false),
  };
}

/** Adds per-SKU counts into a running total. */
export function addStock(into: Record<string, number>, from: Record<string, number>): Record<string, number> {
  for (const [sku, n] of Object.entries(from)) into[sku] = (into[sku] ?? 0) + n;
  return into;
}
