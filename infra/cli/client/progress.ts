import { duration } from './format.js';

/** The backfill as `GET /backfills/{id}` returns it (only what the CLI reads). */
export interface BackfillView {
  backfillId: string;
  pipeline?: string;
  from?: string;
  to?: string;
  mode?: string;
  status: string;
  progress?: Partial<{
    total: number;
    done: number;
    failed: number;
    running: number;
    remaining: number;
    skipped: number;
    rows: number;
    bytes: number;
    partitionsPerMinute: number;
    etaSeconds: number | null;
  }>;
  failures?: { partition: string; type: string; message: string }[];
  links?: { temporalUi?: string };
}

/** Statuses after which a backfill never changes again. */
export const FINAL_STATUSES = ['completed', 'cancelled', 'failed', 'terminated', 'timed_out'];

/** Whether the backfill has ended. */
export function isFinal(b: BackfillView): boolean {
  return FINAL_STATUSES.includes(b.status);
}

/** Partitions examined so far (done, failed or skipped) over the total, in 0..1. */
export function fractionDone(b: BackfillView): number {
  const p = b.progress ?? {};
  const total = p.total ?? 0;
  if (total <= 0) return isFinal(b) ? 1 : 0;
  return Math.min(1, ((p.done ?? 0) + (p.failed ?? 0) + (p.skipped ?? 0)) / total);
}

/** A bar of `width` cells, filled in proportion to `fraction`. */
export function bar(fraction: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}

/** Remaining time as `ETA 9m36s`, `ETA -` while unknown, nothing once ended. */
export function eta(b: BackfillView): string {
  if (isFinal(b)) return '';
  const s = b.progress?.etaSeconds;
  if (typeof s !== 'number') return 'ETA -';
  return `ETA ${s < 60 ? `${Math.round(s)}s` : duration(s * 1000)}`;
}

/**
 * One progress line: `running [████░░░░] 52% 130/250 · 2 failed · 4 running · 12.5/min · ETA 9m36s`. With `columns`
 * (a terminal's width) it includes a bar sized to fit; without, the same line without the bar (logs, pipes).
 */
export function progressLine(b: BackfillView, columns?: number): string {
  const p = b.progress ?? {};
  const fraction = fractionDone(b);
  const examined = (p.done ?? 0) + (p.failed ?? 0) + (p.skipped ?? 0);
  const parts = [
    `${Math.floor(fraction * 100)}% ${examined}/${p.total ?? 0}`,
    ...(p.failed ? [`${p.failed} failed`] : []),
    ...(p.skipped ? [`${p.skipped} skipped`] : []),
    ...(p.running ? [`${p.running} running`] : []),
    ...(p.partitionsPerMinute ? [`${p.partitionsPerMinute.toFixed(1)}/min`] : []),
    ...(eta(b) ? [eta(b)] : []),
  ];
  const tail = parts.join(' · ');
  if (columns === undefined) return `${b.status} ${tail}`;
  const width = Math.max(10, Math.min(40, columns - b.status.length - tail.length - 5));
  return `${b.status} [${bar(fraction, width)}] ${tail}`;
}

/** What changed between two polls in a way worth a new line (not the ETA, which moves on every poll). */
export function progressKey(b: BackfillView): string {
  const p = b.progress ?? {};
  return [b.status, p.done, p.failed, p.skipped, p.running, p.total].join('/');
}
