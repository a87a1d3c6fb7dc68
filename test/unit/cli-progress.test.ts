import { describe, expect, it } from '@jest/globals';
import { duration, table } from '../../infra/cli/client/format.js';
import {
  bar,
  fractionDone,
  isFinal,
  progressKey,
  progressLine,
  type BackfillView,
} from '../../infra/cli/client/progress.js';
import { render } from '../../infra/cli/client/views.js';

const view = (status: string, p: Partial<NonNullable<BackfillView['progress']>>): BackfillView => ({
  backfillId: 'bf-1',
  pipeline: 'factory-machine-signals',
  from: '2026-01-05T06',
  to: '2026-01-09T17',
  mode: 'all',
  status,
  progress: { total: 0, done: 0, failed: 0, running: 0, remaining: 0, skipped: 0, ...p },
});

describe('backfill progress rendering', () => {
  it('draws a bar proportional to the fraction, clamped', () => {
    expect(bar(0, 10)).toBe('░'.repeat(10));
    expect(bar(0.5, 10)).toBe('█'.repeat(5) + '░'.repeat(5));
    expect(bar(1, 4)).toBe('████');
    expect(bar(1.7, 4)).toBe('████');
    expect(bar(-1, 4)).toBe('░░░░');
  });

  it('counts done, failed and skipped partitions as examined', () => {
    expect(fractionDone(view('running', { total: 200, done: 90, failed: 5, skipped: 5, running: 4 }))).toBe(0.5);
    expect(fractionDone(view('running', { total: 0 }))).toBe(0);
    expect(fractionDone(view('completed', { total: 0 }))).toBe(1);
  });

  it('renders a terminal line with the bar fitting the width, and a plain line without it', () => {
    const b = view('running', {
      total: 250,
      done: 128,
      failed: 2,
      running: 4,
      remaining: 116,
      partitionsPerMinute: 12.46,
      etaSeconds: 576,
    });
    expect(progressLine(b)).toBe('running 52% 130/250 · 2 failed · 4 running · 12.5/min · ETA 9m36s');
    const tty = progressLine(b, 100);
    expect(tty).toMatch(/^running \[█+░+\] 52% 130\/250 · 2 failed/);
    expect(tty.length).toBeLessThan(100);
    expect(progressLine(b, 80).length).toBeLessThan(80);
    // The bar never shrinks below 10 cells nor grows past 40.
    expect(/\[(.*)\]/.exec(progressLine(b, 20))![1]).toHaveLength(10);
    expect(/\[(.*)\]/.exec(progressLine(b, 500))![1]).toHaveLength(40);
  });

  it('shows an unknown ETA as "-" and none once the backfill ended', () => {
    expect(progressLine(view('paused', { total: 10, done: 1, etaSeconds: null }))).toBe('paused 10% 1/10 · ETA -');
    expect(progressLine(view('completed', { total: 10, done: 10, etaSeconds: 0 }))).toBe('completed 100% 10/10');
    expect(progressLine(view('running', { total: 10, done: 2, skipped: 3, etaSeconds: 3700 }))).toBe(
      'running 50% 5/10 · 3 skipped · ETA 1h01m',
    );
  });

  it('knows the final statuses and changes its key only when counts or status change', () => {
    expect(['completed', 'cancelled', 'failed', 'terminated', 'timed_out'].every((s) => isFinal(view(s, {})))).toBe(
      true,
    );
    expect(isFinal(view('running', {})) || isFinal(view('paused', {})) || isFinal(view('cancelling', {}))).toBe(false);
    const a = view('running', { total: 10, done: 1, etaSeconds: 60, partitionsPerMinute: 1 });
    expect(progressKey(a)).toBe(progressKey({ ...a, progress: { ...a.progress, etaSeconds: 30 } }));
    expect(progressKey(a)).not.toBe(progressKey({ ...a, progress: { ...a.progress, done: 2 } }));
  });

  it('summarises a finished backfill with its failures', () => {
    const b = {
      ...view('completed', { total: 3, done: 2, failed: 1 }),
      failures: [{ partition: 'M07@2026-01-05T10', type: 'ContractBroken', message: 'line 12: bad column' }],
      links: { temporalUi: 'http://ui/x' },
    };
    const lines = render('backfill', b);
    expect(lines[0]).toBe('backfill bf-1  factory-machine-signals 2026-01-05T06..2026-01-09T17 mode all');
    expect(lines[1]).toBe('completed 100% 3/3 · 1 failed');
    expect(lines).toContain('M07@2026-01-05T10  ContractBroken  line 12: bad column');
    expect(lines.at(-1)).toBe('http://ui/x');
  });
});

describe('human formatting', () => {
  it('aligns tables and formats durations', () => {
    expect(
      table(
        ['id', 'rows', 'status'],
        [
          ['a', 1200, 'ok'],
          ['bbb', null, 'failed'],
        ],
      ),
    ).toEqual(['ID   ROWS   STATUS', 'a    1,200  ok', 'bbb  -      failed']);
    expect([duration(850), duration(12_400), duration(184_000), duration(7_500_000)]).toEqual([
      '850ms',
      '12.4s',
      '3m04s',
      '2h05m',
    ]);
  });
});
