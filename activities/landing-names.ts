import { parsePartition, partitionKey, partitionWindow, type Partitioning } from '../workflows/partitions.js';
import type { LandingFilesSource } from '../workflows/spec.js';

const FIELDS: Record<string, string> = {
  entity: '([A-Za-z0-9_-]{1,32})',
  yyyy: '(\\d{4})',
  MM: '(\\d{2})',
  dd: '(\\d{2})',
  HH: '(\\d{2})',
};

/** The prefix of a pipeline's files in the landing area (`''` or `lab/`). */
export function landingPrefix(source: Pick<LandingFilesSource, 'prefix'>): string {
  return source.prefix ? `${source.prefix.replace(/\/$/, '')}/` : '';
}

/** The landing key a partition's file has by the source's `fileName` template. */
export function expectedKey(source: LandingFilesSource, p: Partitioning, partition: string): string | undefined {
  const parts = parsePartition(p, partition);
  if (!parts) return undefined;
  const [y, mo, d] = parts.date.split('-') as [string, string, string];
  const values: Record<string, string> = {
    entity: parts.entity ?? '',
    yyyy: y,
    MM: mo,
    dd: d,
    HH: parts.period.slice(11, 13),
  };
  return landingPrefix(source) + source.fileName.replace(/\{(entity|yyyy|MM|dd|HH)\}/g, (_, f: string) => values[f]!);
}

/** The partition a landed file name stands for by the `fileName` template, or undefined when it does not match. */
export function partitionOfName(source: LandingFilesSource, p: Partitioning, name: string): string | undefined {
  const order: string[] = [];
  const pattern = source.fileName
    .split(/(\{(?:entity|yyyy|MM|dd|HH)\})/)
    .map((piece) => {
      const field = /^\{(\w+)\}$/.exec(piece)?.[1];
      if (field && FIELDS[field]) {
        order.push(field);
        return FIELDS[field];
      }
      return piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  const m = new RegExp(`^${pattern}$`).exec(name);
  if (!m) return undefined;
  const v = Object.fromEntries(order.map((f, i) => [f, m[i + 1]!]));
  const date = `${v.yyyy}-${v.MM}-${v.dd}`;
  const period = p.kind === 'entity-hour' ? `${date}T${v.HH}` : date;
  const key = partitionKey(p, period, v.entity);
  // A real date and, in the pipeline's zone, a real local hour (one that daylight saving skipped names nothing).
  return partitionWindow(p, key) ? key : undefined;
}
