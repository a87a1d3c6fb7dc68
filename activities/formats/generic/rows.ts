import type {
  GenericEvent,
  GenericFormatBase,
  GenericRejected,
  GenericRejectReason,
  GenericSummary,
  GenericValue,
} from '../format.js';
import { deduplicator, type Deduplicator, type TypedRow } from './dedup.js';
import { RowReject } from './reject.js';
import { compileRules, type RowCheck } from './rules.js';

/** What a file held besides its rows: the summary's file-level part. */
export type FileFacts = Pick<GenericSummary, 'columns' | 'extraColumns' | 'encoding' | 'bytes'>;

/**
 * The format-independent part of a parse: checks typed rows against the rules, applies the dedup policy, counts
 * everything and builds the row, rejected and end events.
 */
export class RowStage {
  private dataLines = 0;
  private goodRows = 0;
  private rejectedRows = 0;
  private readonly rejectedByReason: Partial<Record<GenericRejectReason, number>> = {};
  private readonly checks: RowCheck[];
  private readonly dedup: Deduplicator;

  constructor(
    config: GenericFormatBase,
    private readonly fileName: string,
  ) {
    this.checks = compileRules(config);
    this.dedup = deduplicator(config);
  }

  /**
   * Types one data line's `input` with `type` (which throws a `RowReject` for a bad value), checks the rules and
   * the dedup policy; returns the event to emit now, if any.
   */
  line<T>(lineNo: number, raw: string, input: T, type: (input: T) => GenericValue[]): GenericEvent | undefined {
    this.dataLines++;
    let values: GenericValue[];
    try {
      values = type(input);
      for (const check of this.checks) check(values);
    } catch (err) {
      if (!(err instanceof RowReject)) throw err;
      return this.quarantine(lineNo, err.reason, err.message, raw, err.column);
    }
    const kept = this.dedup.offer({ lineNo, values });
    return kept && this.row(kept);
  }

  /** Quarantines a data line that could not be read into values (encoding, field count, not JSON…). */
  reject(lineNo: number, reason: GenericRejectReason, message: string, raw: string, column?: string): GenericEvent {
    this.dataLines++;
    return this.quarantine(lineNo, reason, message, raw, column);
  }

  /** The rows the dedup policy held until the end, then `end` with the summary. */
  *finish(facts: FileFacts): Generator<GenericEvent, void, undefined> {
    for (const row of this.dedup.flush()) yield this.row(row);
    const summary: GenericSummary = {
      columns: facts.columns,
      extraColumns: facts.extraColumns,
      encoding: facts.encoding,
      dataLines: this.dataLines,
      goodRows: this.goodRows,
      rejectedRows: this.rejectedRows,
      rejectedByReason: { ...this.rejectedByReason },
      duplicateRows: this.dedup.duplicates,
      bytes: facts.bytes,
    };
    yield { kind: 'end', summary };
  }

  /** Counts and wraps an emitted row. */
  private row({ lineNo, values }: TypedRow): GenericEvent {
    this.goodRows++;
    return { kind: 'row', lineNo, values };
  }

  /** Counts and wraps a quarantined line; its detail reads `<file>:<line>: <message>`. */
  private quarantine(
    lineNo: number,
    reason: GenericRejectReason,
    message: string,
    raw: string,
    column: string | undefined,
  ): GenericEvent {
    this.rejectedRows++;
    this.rejectedByReason[reason] = (this.rejectedByReason[reason] ?? 0) + 1;
    const rejected: GenericRejected = { lineNo, reason, detail: `${this.fileName}:${lineNo}: ${message}`, raw };
    if (column !== undefined) rejected.column = column;
    return { kind: 'rejected', rejected };
  }
}
