/** A value of one column in PostgreSQL's COPY text format. */
export type CopyValue = string | number | null | undefined;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Encodes one field: `\N` for null, backslash escapes for the separators. */
export function encodeCopyField(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '\\N';
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : value;
}

/** Encodes one row (with its trailing newline). */
export function encodeCopyRow(values: readonly CopyValue[]): string {
  return `${values.map(encodeCopyField).join('\t')}\n`;
}

/** Encodes a text field (the only kind that can hold separators); cheaper than {@link encodeCopyField} on hot paths. */
export function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : value;
}
