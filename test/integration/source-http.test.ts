import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { SourceConnections } from '../../activities/sources/connections.js';
import { CatalogService, type CatalogRequest } from '../../infra/demo/catalog-service.js';
import { sourceSyncWorkflow } from '../../workflows/source-sync.workflow.js';
import { productCatalog } from '../../workflows/sources/product-catalog.source.js';
import type { HttpJsonSourceSpec } from '../../workflows/sources/spec.js';
import { sourceSyncStartOptions } from '../../workflows/sources/start-options.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

/** Pages of 5 (the catalog has 12 products), a short timeout and quick backoff. */
const spec: HttpJsonSourceSpec = {
  ...productCatalog,
  batchSize: 5,
  request: { timeoutMs: 2000, maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 200, maxRetryAfterSeconds: 10 },
};

/**
 * The generic HTTP JSON source on the product catalog: the demo catalog service (a stand-in for a system we do not
 * own) with injected faults, our worker and activities for real, syncs through Temporal.
 */
describe('HTTP JSON source (product catalog)', () => {
  let env: FabricaTestEnv;
  let catalog: CatalogService;
  let connections: SourceConnections;
  let n = 0;

  const start = () =>
    env.client.workflow.start(
      sourceSyncWorkflow,
      sourceSyncStartOptions(spec, { taskQueue: env.taskQueue, workflowId: `source-sync:${spec.id}:${env.id}:${++n}` }),
    );
  /** Runs a sync; returns its outcome and the catalog requests it made. */
  const sync = async () => {
    const from = catalog.requests.length;
    const handle = await start();
    const outcome = await handle.result();
    return { outcome, handle, requests: catalog.requests.slice(from) };
  };
  const products = async () =>
    (
      await env.deps.warehouse.query<Record<string, string | number>>(
        `SELECT sku, name, category, unit_cost::float8 AS unit_cost,
           to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at
         FROM sources.products ORDER BY sku`,
      )
    ).rows;
  const expected = () => catalog.products().sort((a, b) => a.sku.localeCompare(b.sku));
  const watermark = async () =>
    (
      await env.deps.warehouse.query<{ ts: string; key: string }>(
        `SELECT to_char(watermark_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts, watermark_key AS key
         FROM ops.source_watermarks WHERE source_id = $1`,
        [spec.id],
      )
    ).rows[0];
  const latest = () => {
    const p = catalog.products().sort((a, b) => a.updated_at.localeCompare(b.updated_at) || a.sku.localeCompare(b.sku));
    return { ts: p.at(-1)!.updated_at, key: p.at(-1)!.sku };
  };
  /** Attempts of each start of an activity type, from the workflow's history. */
  const attempts = async (handle: WorkflowHandle, activity: string) => {
    const history = await handle.fetchHistory();
    const scheduled = new Set<string>();
    const found: number[] = [];
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === activity) scheduled.add(String(e.eventId));
      const started = e.activityTaskStartedEventAttributes;
      if (started && scheduled.has(String(started.scheduledEventId))) found.push(started.attempt ?? 0);
    }
    return found;
  };
  const sameRequest = (a: CatalogRequest, b: CatalogRequest) => JSON.stringify(a.query) === JSON.stringify(b.query);

  beforeAll(async () => {
    env = await createTestEnv('srchttp');
    catalog = new CatalogService();
    connections = new SourceConnections({ CATALOG_API_URL: await catalog.start() });
    env.deps.sources = connections;
    await env.startWorker();
  });
  afterAll(async () => {
    await env?.close();
    await connections?.close();
    await catalog?.stop();
  });

  it('pages through the catalog, then reads only what changed since the watermark', async () => {
    const first = await sync();
    expect(first.outcome).toMatchObject({ status: 'committed', rowsExtracted: 12, rowsChanged: 12 });
    expect(await products()).toEqual(expected());
    expect(await watermark()).toEqual(latest());
    // Three pages of 5, 5 and 2, chained by page tokens; no updated_since before the first commit.
    expect(first.requests.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(first.requests[0]!.query).toEqual({ limit: '5' });
    expect(first.requests[1]!.query.page_token).toBeDefined();
    expect(first.requests[2]!.query.page_token).not.toBe(first.requests[1]!.query.page_token);

    const mark = (await watermark())!;
    catalog.upsert('SKU-POT-22', { unit_cost: 99.99 });
    const second = await sync();
    expect(second.outcome).toMatchObject({ status: 'committed', rowsChanged: 1 });
    // Asked from the committed watermark minus the 5-minute lookback.
    expect(second.requests[0]!.query.updated_since).toBe(new Date(Date.parse(mark.ts) - 300_000).toISOString());
    expect(await products()).toEqual(expected());
    expect((await products()).find((p) => p.sku === 'SKU-POT-22')!.unit_cost).toBe(99.99);
    expect(await watermark()).toEqual({ ts: latest().ts, key: 'SKU-POT-22' });
  });

  it('waits out a 429 for its Retry-After, in seconds or as an HTTP date', async () => {
    catalog.upsert('SKU-PAN-20', { unit_cost: 41.5 });
    catalog.inject({ kind: 'status', status: 429, retryAfter: '1' });
    const seconds = await sync();
    expect(seconds.outcome.status).toBe('committed');
    const [limited, retry] = seconds.requests;
    expect(limited).toMatchObject({ status: 429, fault: 'status', retryAfter: '1' });
    expect(retry!.status).toBe(200);
    expect(sameRequest(limited!, retry!)).toBe(true);
    expect(retry!.at - limited!.respondedAt).toBeGreaterThanOrEqual(1000);

    catalog.upsert('SKU-PAN-24', { unit_cost: 44.25 });
    catalog.inject({ kind: 'status', status: 429, retryAfter: { httpDateInSeconds: 2 } });
    const dated = await sync();
    expect(dated.outcome.status).toBe('committed');
    const [limited2, retry2] = dated.requests;
    const until = Date.parse(limited2!.retryAfter!);
    expect(limited2!.retryAfter).toMatch(/GMT$/);
    expect(until).toBeGreaterThan(limited2!.respondedAt);
    expect(retry2!.at).toBeGreaterThanOrEqual(until);
    expect(await products()).toEqual(expected());
  });

  it('retries 5xx and a timed-out request inside the activity, then succeeds', async () => {
    catalog.upsert('SKU-LID-28', { name: 'Tampa de vidro temperado 28 cm (nova)' });
    catalog.inject(
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503 },
      { kind: 'delay', ms: 3 * spec.request.timeoutMs },
    );
    const { outcome, handle, requests } = await sync();
    expect(outcome).toMatchObject({ status: 'committed', rowsChanged: 1 });
    // The same request four times: 500, 503, a response slower than the timeout, then a normal one (had the client
    // waited for the slow one, it would have been a success and there would be no fourth request).
    expect(requests.slice(0, 4).map((r) => r.fault ?? r.status)).toEqual(['status', 'status', 'delay', 200]);
    expect(requests.slice(0, 2).map((r) => r.status)).toEqual([500, 503]);
    expect(requests.slice(1, 4).every((r) => sameRequest(r, requests[0]!))).toBe(true);
    expect(await attempts(handle, 'extractSource')).toEqual([1]);
    expect(await products()).toEqual(expected());
  });

  it('after its bounded attempts the activity fails and Temporal retries it', async () => {
    catalog.upsert('SKU-KET-15', { unit_cost: 52 });
    catalog.inject(
      ...Array.from({ length: spec.request.maxAttempts }, () => ({ kind: 'status', status: 502 }) as const),
    );
    const { outcome, handle, requests } = await sync();
    expect(outcome).toMatchObject({ status: 'committed', rowsChanged: 1 });
    expect(requests.slice(0, 5).map((r) => r.status)).toEqual([502, 502, 502, 502, 200]);
    expect(requests.slice(1, 5).every((r) => sameRequest(r, requests[0]!))).toBe(true);
    expect(await attempts(handle, 'extractSource')).toEqual([2]);
    expect(await products()).toEqual(expected());
  });

  it.each([
    [
      'a wrong-typed field',
      { kind: 'corrupt-item', field: 'unit_cost', value: 'caro', item: 2 } as const,
      /^product-catalog: page 1, item 2 \(sku "SKU-[A-Z]+-\d+"\): field "unit_cost" must be a number, got "caro"$/,
    ],
    [
      'a missing field',
      { kind: 'corrupt-item', field: 'name', item: 1 } as const,
      /^product-catalog: page 1, item 1 \(sku "SKU-[A-Z]+-\d+"\): field "name" is missing$/,
    ],
    [
      'a page that is not JSON',
      { kind: 'malformed', body: '<html>502 Bad Gateway</html>' } as const,
      /^product-catalog: page 1 \(GET \/products\?updated_since=.*\): response is not JSON: "<html>502 Bad Gateway<\/html>"$/,
    ],
  ])('%s fails the sync once with PayloadInvalid naming it, and the watermark stays', async (_what, fault, message) => {
    const mark = await watermark();
    const before = await products();
    catalog.upsert('SKU-TRY-40', { unit_cost: (Math.round(Math.random() * 10_000) + 100) / 100 }); // whole cents: numeric(12,4) keeps it exactly
    catalog.inject(fault);
    const from = catalog.requests.length;
    const handle = await start();
    const error = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe('PayloadInvalid');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toMatch(message);
    // One attempt, one request: a data fault is never retried.
    expect(await attempts(handle, 'extractSource')).toEqual([1]);
    expect(catalog.requests.length - from).toBe(1);
    expect(await watermark()).toEqual(mark);
    expect(await products()).toEqual(before);
    const run = await env.deps.warehouse.query('SELECT status, error FROM ops.source_syncs WHERE run_id = $1', [
      handle.firstExecutionRunId,
    ]);
    expect(run.rows).toEqual([{ status: 'failed', error: `PayloadInvalid: ${cause.message}` }]);
    const alert = await env.deps.warehouse.query('SELECT pipeline, message FROM ops.alerts WHERE run_id = $1', [
      handle.firstExecutionRunId,
    ]);
    expect(alert.rows).toEqual([
      { pipeline: 'source:product-catalog', message: expect.stringContaining(cause.message) },
    ]);

    // The next sync, with a good payload, brings the pending change.
    const next = await sync();
    expect(next.outcome).toMatchObject({ status: 'committed', rowsChanged: 1 });
    expect(await products()).toEqual(expected());
  });
});
