import path from 'node:path';
import pg from 'pg';
import type { SourceColumn, SourceSpec } from '../../workflows/sources/spec.js';
import { heartbeat } from '../activity-context.js';
import { BatchedWriter } from '../batched-writer.js';
import type { ObjectStore } from '../storage/object-store.js';
import { uploadFile } from '../temp-files.js';

/**
 * Lake keys of the sources (layout version 1):
 * `v1/sources/<source>/extract/<runId>/a<attempt>/part-00000.tsv` (rows, COPY text of the spec's columns) and
 * `…/keys-00000.tsv` (every key present at the source, for delete detection). Each activity attempt writes its own
 * folder, so a zombie attempt can never overwrite what a later one wrote; the commit loads exactly the parts its
 * extract returned.
 */
export const sourceLakeKeys = {
  extractDir: (sourceId: string, runId: string, attempt: number) =>
    `v1/sources/${sourceId}/extract/${runId}/a${attempt}`,
  part: (dir: string, kind: 'part' | 'keys', index: number) => `${dir}/${kind}-${String(index).padStart(5, '0')}.tsv`,
};

/** Rows per part file: parts stay a few tens of MB, so a retried upload or COPY redoes little. */
export const ROWS_PER_PART = 200_000;

/** A schema-qualified table name, quoted. */
export function qualified(table: string): string {
  return table
    .split('.')
    .map((p) => pg.escapeIdentifier(p))
    .join('.');
}

/** A quoted column name. */
export const ident = (name: string): string => pg.escapeIdentifier(name);

/** An SQL expression formatting a timestamptz as ISO-8601 UTC with microseconds, whatever the session's TimeZone. */
export function isoUtc(expr: string): string {
  return `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** An SQL expression reading a column (of table alias `alias`) as text without losing precision (timestamps in ISO UTC, µs). */
export function columnAsText(column: Pick<SourceColumn, 'name' | 'type'>, alias: string): string {
  const ref = `${alias}.${ident(column.name)}`;
  return column.type === 'timestamptz' ? isoUtc(ref) : `${ref}::text`;
}

/** The spec's column of a name (validated specs always have it). */
export function columnOf(spec: SourceSpec, name: string): SourceColumn {
  const column = spec.columns.find((c) => c.name === name);
  if (!column) throw new Error(`${spec.id}: no column ${name}`);
  return column;
}

/** Runs `fn` while heartbeating every few seconds, so a step blocked on a lock or a slow query stays alive. */
export async function withHeartbeat<T>(details: () => unknown, fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat(details()), 2_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Writes COPY-text rows into numbered part files of the lake: rows are buffered in a local temporary file (bounded
 * memory) and each part is uploaded when it is full or at the end.
 */
export class PartWriter {
  private writer: BatchedWriter | undefined;
  private file = '';
  private rowsInPart = 0;
  private index = 0;
  readonly keys: string[] = [];
  rows = 0;
  bytes = 0;

  constructor(
    private readonly lake: ObjectStore,
    private readonly tempDir: string,
    private readonly dir: string,
    private readonly kind: 'part' | 'keys',
  ) {}

  /** Appends one encoded row (with its newline). */
  async add(row: string): Promise<void> {
    if (!this.writer) {
      this.file = path.join(this.tempDir, `${this.kind}-${this.index}.tsv`);
      this.writer = new BatchedWriter(this.file);
    }
    this.writer.add(row);
    this.rows++;
    this.rowsInPart++;
    if (this.rowsInPart >= ROWS_PER_PART) await this.flushPart();
    else await this.writer.maybeFlush();
  }

  /** Uploads the last part (an empty extract writes no part). */
  async close(): Promise<string[]> {
    await this.flushPart();
    return this.keys;
  }

  private async flushPart(): Promise<void> {
    if (!this.writer) return;
    await this.writer.close();
    const key = sourceLakeKeys.part(this.dir, this.kind, this.index);
    this.bytes += await uploadFile(this.lake, key, this.file);
    this.keys.push(key);
    this.writer = undefined;
    this.rowsInPart = 0;
    this.index++;
  }
}
