import type { GenericRejectReason } from '../format.js';

/** Thrown by the value and rule checks of one row; the row stage turns it into a quarantined row. */
export class RowReject extends Error {
  constructor(
    readonly reason: GenericRejectReason,
    message: string,
    readonly column?: string,
  ) {
    super(message);
  }
}

/** A reject whose message starts with the column: `column peso_g: not a number: "12,x"`. */
export function columnFault(reason: GenericRejectReason, column: string, message: string): RowReject {
  return new RowReject(reason, `column ${column}: ${message}`, column);
}

/** A value quoted for a message (JSON string syntax, cut at 200 characters). */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
