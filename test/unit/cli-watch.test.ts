import { describe, expect, it } from '@jest/globals';
import { ApiError, ApiUnreachableError, type ApiClient } from '../../infra/cli/client/http.js';
import type { BackfillView } from '../../infra/cli/client/progress.js';
import { watchBackfill, WATCH_FAILED } from '../../infra/cli/client/watch.js';

/** A client answering GET /backfills/{id} from a script of views (or errors), one per poll. */
function scripted(steps: (BackfillView | Error)[]): { client: ApiClient; polls: () => number } {
  let i = 0;
  const client = {
    request: async () => {
      const step = steps[Math.min(i++, steps.length - 1)]!;
      if (step instanceof Error) throw step;
      return { status: 200, text: JSON.stringify(step), body: step };
    },
  };
  return { client: client as unknown as ApiClient, polls: () => i };
}

const view = (status: string, done: number, failed = 0): BackfillView => ({
  backfillId: 'bf-1',
  pipeline: 'p',
  status,
  progress: { total: 4, done, failed, running: status === 'running' ? 1 : 0, etaSeconds: 10 },
});

async function watch(steps: (BackfillView | Error)[], o: { columns?: number; json?: boolean } = {}) {
  const { client, polls } = scripted(steps);
  let out = '';
  const code = await watchBackfill(client, 'bf-1', 1, {
    write: (t) => (out += t),
    columns: o.columns,
    json: o.json ?? false,
  });
  return { code, out, polls: polls() };
}

describe('backfills watch', () => {
  it('prints one line per change off a TTY and exits 0 when completed without failures', async () => {
    const r = await watch([view('running', 1), view('running', 1), view('running', 3), view('completed', 4)]);
    expect(r.code).toBe(0);
    expect(r.polls).toBe(4);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'running 25% 1/4 · 1 running · ETA 10s',
      'running 75% 3/4 · 1 running · ETA 10s',
      'completed 100% 4/4',
    ]);
    expect(lines).toContain('backfill bf-1  p');
  });

  it('exits 4 when the backfill ends with failures or is cancelled', async () => {
    expect((await watch([view('completed', 3, 1)])).code).toBe(WATCH_FAILED);
    expect((await watch([view('running', 1), view('cancelled', 1)])).code).toBe(WATCH_FAILED);
    expect((await watch([view('terminated', 0)])).code).toBe(WATCH_FAILED);
  });

  it('redraws one line in place on a TTY, then ends it', async () => {
    const r = await watch([view('running', 1), view('running', 2), view('completed', 4)], { columns: 80 });
    const redraw = '\r\u001b[2K';
    expect(r.out.split(redraw)).toHaveLength(4);
    expect(r.out.split(redraw)[3]).toMatch(/^completed \[█{10,}\] 100% 4\/4\n/);
  });

  it('prints one JSON document per change with --json', async () => {
    const r = await watch([view('running', 1), view('running', 1), view('completed', 4)], { json: true });
    const docs = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as BackfillView);
    expect(docs.map((d) => d.status)).toEqual(['running', 'completed']);
  });

  it('rides out transient errors but gives up on a persistent or client error', async () => {
    const blip = new ApiUnreachableError('cannot reach the API at x: ECONNREFUSED');
    expect((await watch([view('running', 1), blip, new ApiError(503, 'down'), view('completed', 4)])).code).toBe(0);
    await expect(watch([view('running', 1), blip])).rejects.toBe(blip);
    const gone = new ApiError(404, 'backfill "bf-1" not found');
    await expect(watch([gone])).rejects.toBe(gone);
  });
});
