import { ApiError, ApiUnreachableError, type ApiClient } from './http.js';
import { isFinal, progressKey, progressLine, type BackfillView } from './progress.js';
import { backfill } from './views.js';

/** Where `watch` writes, and whether it may redraw a line in place. */
export interface WatchOutput {
  write(text: string): void;
  /** Terminal width when stdout is a TTY (live bar), undefined otherwise (one line per change). */
  columns: number | undefined;
  json: boolean;
}

/** Exit code of a finished watch: 0 when the backfill completed without failed partitions, 4 otherwise. */
export const WATCH_FAILED = 4;

// A dashboard should survive an API restart or a blip: only this many polls in a row may fail before giving up.
const MAX_CONSECUTIVE_ERRORS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function retryable(err: unknown): boolean {
  return err instanceof ApiUnreachableError || (err instanceof ApiError && (err.status >= 500 || err.status === 429));
}

async function poll(client: ApiClient, path: string): Promise<{ view: BackfillView; text: string }> {
  const res = await client.request('GET', path);
  return { view: res.body as BackfillView, text: res.text };
}

/**
 * Polls `GET /backfills/{id}` every `intervalMs` until the backfill ends: a live progress bar on a TTY, else one line
 * per change (with `--json`, one JSON document per change). Ends with the summary and failures; returns 0 when the
 * backfill completed with no failed partition, {@link WATCH_FAILED} when it ended otherwise. API errors other than
 * transient ones propagate.
 */
export async function watchBackfill(
  client: ApiClient,
  backfillId: string,
  intervalMs: number,
  out: WatchOutput,
): Promise<number> {
  const path = `/backfills/${encodeURIComponent(backfillId)}`;
  let last = '';
  let errors = 0;
  for (;;) {
    let polled: { view: BackfillView; text: string };
    try {
      polled = await poll(client, path);
      errors = 0;
    } catch (err) {
      if (!retryable(err) || ++errors >= MAX_CONSECUTIVE_ERRORS) throw err;
      await sleep(intervalMs);
      continue;
    }
    const { view } = polled;
    const key = progressKey(view);
    if (out.json) {
      if (key !== last) out.write(`${polled.text.trim()}\n`);
    } else if (out.columns !== undefined) {
      out.write(`\r\x1b[2K${progressLine(view, out.columns)}`);
    } else if (key !== last) {
      out.write(`${progressLine(view)}\n`);
    }
    last = key;
    if (isFinal(view)) {
      if (!out.json) out.write(`${out.columns !== undefined ? '\n' : ''}${backfill(view).join('\n')}\n`);
      return view.status === 'completed' && !view.progress?.failed ? 0 : WATCH_FAILED;
    }
    await sleep(intervalMs);
  }
}
