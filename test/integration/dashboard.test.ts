import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { projectRoot } from '../../infra/paths.js';
import { generateLabInspections } from '../../infra/generator/lab-inspections.js';
import { generateMachineFiles } from '../../infra/generator/machine-files.js';
import { getPipeline } from '../../activities/registry/pipelines.js';
import type { GroundTruth } from '../../infra/generator/ground-truth.js';
import { SessionSigner } from '../../api/auth/session.js';
import { newApiKey, parseApiKeys } from '../../worker/api-keys.js';
import { backfillProgressQuery } from '../../workflows/backfill-messages.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { launchBrowser, newPage, screenshot, watchPage, type PageProblems } from '../support/browser.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';
import { deliver, startSensor, waitQuiet } from '../support/factory-checks.js';
import { deliverLab, LAB_PIPELINE } from '../support/lab-checks.js';

const DAY = '2026-11-02'; // a Monday
/** "Now" injected into the plant pages: 20:00 on the generated day, plant time (-03:00). */
const EVENING = '2026-11-02T23:00:00Z';
/** "Now" during working hours: 16:30 plant time. */
const AFTERNOON = '2026-11-02T19:30:00Z';
/** "Now" the next working morning: 09:30 plant time on Tuesday. */
const NEXT_MORNING = '2026-11-03T12:30:00Z';
const ART = 'dashboard';
/** The trends' default week ending on DAY. */
const WEEK_FROM = '2026-10-27';

type Row = Record<string, unknown>;
/** An element's data attributes, as read inside the page (the tests compile without the DOM library). */
type D = { dataset: Record<string, string> };

/** The web dashboard on a generated day, through a real browser, compared with the warehouse. */
describe('web dashboard', () => {
  let env: FabricaTestEnv;
  let genDir: string;
  let truth: GroundTruth;
  let stopSensor: () => Promise<void>;
  let stopLab: () => Promise<void>;
  let exportId: string;
  let api: TestApi;
  let http: App;
  let base: string;
  let browser: Browser;
  let operator: { context: BrowserContext; page: Page; watch: PageProblems };
  let backfillId: string | undefined;
  const q = async (sql: string, params: unknown[] = []) => (await env.deps.warehouse.query(sql, params)).rows as Row[];

  /** Navigates to a hash route and waits for the page to have rendered (or failed). */
  async function open(page: Page, hash: string, selector: string): Promise<void> {
    await page.evaluate(
      `document.getElementById('page').dataset.ready = 'false'; location.hash = ${JSON.stringify(hash)};`,
    );
    await page.waitForSelector('#page[data-ready="true"]');
    const err = await page.$('#page-error');
    if (err) throw new Error(`page ${hash} failed: ${await err.textContent()}`);
    await page.waitForSelector(selector);
  }

  async function signIn(page: Page, key: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.waitForSelector('#sign-in:not([hidden])');
    await page.fill('#api-key', key);
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#nav:not([hidden])');
    await page.waitForSelector('#page[data-ready="true"]');
  }

  beforeAll(async () => {
    env = await createTestEnv('dashboard');
    genDir = mkdtempSync(path.join(tmpdir(), 'fabrica-dash-'));
    truth = await generateMachineFiles({
      outDir: genDir,
      from: DAY,
      to: DAY,
      machines: 5,
      seed: 11,
      itemsPerFile: 150,
      defects: 'all',
    });
    await env.startWorker();
    stopSensor = await startSensor(env, spec);
    const onTime = deliver(genDir, env);
    await waitQuiet(env, onTime);
    const late = deliver(genDir, env, 'late');
    await waitQuiet(env, onTime + late);
    // The QA lab's week (reject rates per SKU), through its own sensor.
    const labGen = path.join(genDir, 'labgen');
    await generateLabInspections({
      outDir: labGen,
      from: WEEK_FROM,
      to: DAY,
      seed: 3,
      samplesPerDay: 200,
      machines: 5,
      defects: 'none',
    });
    stopLab = await startSensor(env, getPipeline(LAB_PIPELINE)!);
    await waitQuiet(env, onTime + late + deliverLab(labGen, env));
    // The other systems' data the pages join: the catalog's unit costs and two maintenance events of M01.
    await env.deps.warehouse.query(
      `INSERT INTO sources.products (sku, name, category, unit_cost, updated_at, loaded_at)
       SELECT DISTINCT sku, 'Product ' || sku, 'household', 1.25, now(), now() FROM factory.production_events`,
    );
    await env.deps.warehouse.query(
      `INSERT INTO sources.maintenance_events (id, machine_id, kind, started_at, ended_at, notes, updated_at, loaded_at)
       VALUES (1, 'M01', 'preventive', '2026-11-02T14:10:00Z', '2026-11-02T14:40:00Z', 'bearing check', now(), now()),
              (2, 'M01', 'corrective', '2026-10-29T12:00:00Z', '2026-10-29T13:00:00Z', 'belt', now(), now())`,
    );
    api = await createTestApi(env);
    await api.app.listen(0, '127.0.0.1');
    http = api.app.getHttpServer();
    base = `http://127.0.0.1:${(http as unknown as { address(): AddressInfo }).address().port}`;
    // A feature export of the day (its manifest is shown on the pipelines page).
    const exp = await request(http)
      .post('/api/v1/feature-exports')
      .set('X-API-Key', api.keys.operator)
      .send({ featureSet: 'production-events', from: DAY, to: DAY });
    expect(exp.status).toBe(202);
    exportId = exp.body.exportId as string;
    await env.client.workflow.getHandle(exp.body.workflowId as string).result();
    browser = await launchBrowser();
    const o = await newPage(browser);
    operator = { ...o, watch: watchPage(o.page) };
  }, 600_000);

  afterAll(async () => {
    if (backfillId)
      await env.client.workflow
        .getHandle(backfillId)
        .terminate('test over')
        .catch(() => undefined);
    await browser?.close();
    await api?.close();
    await stopSensor?.();
    await stopLab?.();
    await env?.close();
    rmSync(genDir, { recursive: true, force: true });
  });

  it('serves the pages outside /api/v1 with a CSP, and keeps the API document and JSON 404s', async () => {
    const page = await request(http).get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const mod = await request(http).get('/assets/app.mjs');
    expect(mod.status).toBe(200);
    expect(mod.headers['content-type']).toMatch(/javascript/);
    expect((await request(http).get('/assets/vendor/echarts/echarts.esm.min.mjs')).status).toBe(200);
    const doc = await request(http).get('/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/dashboard/yield/heatmap', '/api/v1/dashboard/freshness', '/api/v1/session']),
    );
    const nope = await request(http).get('/api/v1/nope').set('X-API-Key', api.keys.viewer);
    expect(nope.status).toBe(404);
    expect(nope.body).toMatchObject({ statusCode: 404, requestId: expect.any(String) });
    expect((await request(http).get('/assets/nope.mjs')).status).toBe(404);
  });

  it('answers 400 (not as documented) or 422 (values that cannot be used) naming the field for bad queries', async () => {
    const get = (url: string) => request(http).get(`/api/v1/dashboard${url}`).set('X-API-Key', api.keys.viewer);
    for (const [url, field, status] of [
      ['/yield/heatmap?day=2026-13-45', 'day', 422],
      ['/yield/heatmap?day=20261102', 'day', 400],
      ['/freshness?now=yesterday', 'now', 400],
      ['/freshness?now=2026-13-01T00:00:00Z', 'now', 422],
      ['/yield/trends?from=2026-11-05&to=2026-11-01', 'to', 422],
      ['/yield/trends?machines=M01,DROP%20TABLE', 'machines', 400],
      ['/yield/scrap?limit=0', 'limit', 400],
      ['/yield/lab?to=0000-00-00', 'to', 422],
      ['/pipelines?hours=10000', 'hours', 400],
      ['/partition?partition=M07@2026-11-02T25', 'partition', 422],
    ] as const) {
      const res = await get(url);
      expect({ url, status: res.status }).toEqual({ url, status });
      expect(JSON.stringify(res.body.message)).toContain(field);
    }
    expect((await request(http).get('/api/v1/dashboard/freshness')).status).toBe(401);
  });

  it('signs in with a key for an HttpOnly SameSite=Strict cookie that the guard accepts, and signs out', async () => {
    const bad = await request(http).post('/api/v1/session').send({ apiKey: 'fab_wrong' });
    expect(bad.status).toBe(401);
    expect(bad.body.message).toBe('this API key is not valid');
    const res = await request(http).post('/api/v1/session').send({ apiKey: api.keys.viewer });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ authenticated: true, name: 'test-viewer', role: 'viewer', via: 'cookie' });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/^fabrica_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/);
    expect(cookie).not.toContain(api.keys.viewer);
    const session = cookie.split(';')[0]!;
    const who = await request(http).get('/api/v1/session').set('Cookie', session);
    expect(who.body).toMatchObject({ authenticated: true, name: 'test-viewer', role: 'viewer', via: 'cookie' });
    expect((await request(http).get('/api/v1/dashboard/exports').set('Cookie', session)).status).toBe(200);
    // A tampered token is refused.
    const tampered = session.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await request(http).get('/api/v1/dashboard/exports').set('Cookie', tampered)).status).toBe(401);
    // A token claiming another role, with the viewer's signature, is refused.
    const [payload, mac] = session.slice('fabrica_session='.length).split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, r: 'admin' })).toString('base64url');
    const asAdmin = await request(http)
      .get('/api/v1/dashboard/exports')
      .set('Cookie', `fabrica_session=${forged}.${mac}`);
    expect(asAdmin.status).toBe(401);
    // A viewer session may not act; an operator session must send JSON to act.
    const op = String(
      (await request(http).post('/api/v1/session').send({ apiKey: api.keys.operator })).headers['set-cookie'],
    ).split(';')[0]!;
    expect((await request(http).post('/api/v1/runs/nope/cancel').set('Cookie', session).send({})).status).toBe(403);
    expect((await request(http).post('/api/v1/runs/nope/cancel').set('Cookie', op)).status).toBe(415);
    expect((await request(http).post('/api/v1/runs/nope/cancel').set('Cookie', op).send({})).status).toBe(404);
    const out = await request(http).delete('/api/v1/session').set('Cookie', session);
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await request(http).get('/api/v1/session')).body).toEqual({ authenticated: false });
  });

  it('shows a wrong key’s error on the sign-in form', async () => {
    const { context, page } = await newPage(browser);
    try {
      await page.goto(`${base}/`);
      await page.waitForSelector('#sign-in:not([hidden])');
      await page.fill('#api-key', 'fab_not-a-key');
      await page.click('#sign-in-form button[type=submit]');
      await page.waitForSelector('#sign-in-error:not([hidden])');
      expect(await page.textContent('#sign-in-error')).toBe('this API key is not valid');
      await screenshot(page, ART, 'sign-in');
    } finally {
      await context.close();
    }
  });

  it('draws the day’s heatmap with every partition’s status and the warehouse’s yields', async () => {
    const { page, watch } = operator;
    await signIn(page, api.keys.operator);
    await open(page, `#/yield?day=${DAY}&now=${EVENING}`, '#heatmap-table');
    await page.waitForSelector('#heatmap-chart canvas');
    const cells = await page.$$eval('#heatmap-table td[data-partition]', (tds) =>
      tds.map((td) => ({
        partition: (td as unknown as D).dataset.partition!,
        status: (td as unknown as D).dataset.status!,
        yieldPct: (td as unknown as D).dataset.yield!,
      })),
    );
    const yields = new Map(
      (
        await q(
          `SELECT machine_id || '@' || to_char(partition_hour AT TIME ZONE INTERVAL '-03:00', 'YYYY-MM-DD"T"HH24') AS p,
             yield_pct, items FROM factory.machine_yield_hourly`,
        )
      ).map((r) => [r.p as string, r]),
    );
    const expected = (outcome: string, p: string) =>
      outcome === 'loaded'
        ? Number(yields.get(p)?.items) === 0
          ? 'empty'
          : 'ok'
        : outcome === 'contract_broken' || outcome === 'quality_failed'
          ? 'failed'
          : outcome;
    const truthCells = Object.values(truth.partitions).map((t) => ({
      partition: t.partition,
      status: expected(t.outcome, t.partition),
    }));
    expect(
      cells
        .map(({ partition, status }) => ({ partition, status }))
        .sort((a, b) => a.partition.localeCompare(b.partition)),
    ).toEqual(truthCells.sort((a, b) => a.partition.localeCompare(b.partition)));
    expect(new Set(cells.map((c) => c.status))).toEqual(new Set(['ok', 'failed', 'incomplete', 'missing', 'empty']));
    for (const c of cells.filter((x) => x.status === 'ok'))
      expect({ p: c.partition, y: Number(c.yieldPct) }).toEqual({
        p: c.partition,
        y: yields.get(c.partition)!.yield_pct,
      });
    // Failed partitions are never drawn as a zero yield.
    for (const c of cells.filter((x) => x.status !== 'ok')) expect(c.yieldPct).toBe('');
    expect(await page.textContent(`#heatmap-table td[data-status="failed"]`)).toBe('FAILED');

    // Trends: the per-machine sums over the week equal the warehouse's, maintenance events counted.
    const trends = await page.$$eval('#trends-table tr[data-machine]', (trs) =>
      trs.map((tr): Record<string, string> => ({
        machine: (tr as unknown as D).dataset.machine!,
        ...Object.fromEntries(
          [...tr.querySelectorAll('td[data-key]')].map((td) => [
            (td as unknown as D).dataset.key!,
            (td as unknown as D).dataset.value!,
          ]),
        ),
      })),
    );
    const sums = await q(
      `SELECT machine_id AS machine, sum(items)::int AS items, sum(ok)::int AS ok, sum(scrap)::int AS scrap
       FROM factory.machine_yield_hourly GROUP BY 1 ORDER BY 1`,
    );
    expect(
      trends.map((t) => ({ machine: t.machine, items: Number(t.items), ok: Number(t.ok), scrap: Number(t.scrap) })),
    ).toEqual(sums);
    expect(trends.find((t) => t.machine === 'M01')?.maintenance).toBe('2');

    // Top scrap SKUs with their cost (1.25 per item in the catalog).
    const scrap = await page.$$eval('#scrap-table tr[data-sku]', (trs) =>
      trs.map((tr) => ({
        sku: (tr as unknown as D).dataset.sku!,
        items: Number((tr as unknown as D).dataset.items),
        cost: Number((tr as unknown as D).dataset.cost),
      })),
    );
    const scrapSql = await q(
      `SELECT sku, count(*)::int AS items FROM factory.production_events WHERE status = 'SCRAP' GROUP BY sku ORDER BY 2 DESC, 1 LIMIT 10`,
    );
    expect(scrap).toEqual(scrapSql.map((r) => ({ sku: r.sku, items: r.items, cost: (r.items as number) * 1.25 })));
    // The QA lab's reject rate per SKU over the week, as the mart has it.
    const lab = await page.$$eval('#lab-table tr[data-sku]', (trs) =>
      trs.map((tr) => ({ sku: (tr as unknown as D).dataset.sku!, rate: Number((tr as unknown as D).dataset.rate) })),
    );
    const labSql = await q(
      `SELECT sku, sum(rejected)::float8 / sum(samples) AS rate FROM quality.sku_quality_daily
       WHERE day BETWEEN $1 AND $2 GROUP BY sku ORDER BY sku`,
      [WEEK_FROM, DAY],
    );
    expect(labSql.length).toBeGreaterThan(0);
    expect(lab).toEqual(labSql);
    await screenshot(page, ART, 'yield');
    mkdirSync(path.join(projectRoot, 'docs'), { recursive: true });
    copyFileSync(
      path.join(projectRoot, 'test-artifacts', ART, 'yield.png'),
      path.join(projectRoot, 'docs', 'dashboard.png'),
    );
    expect(watch.problems).toEqual([]);
  });

  it('shows staleness against the SLA and today’s missing and incomplete partitions with reasons', async () => {
    const { page, watch } = operator;
    await open(page, `#/freshness?now=${AFTERNOON}`, '#freshness-factory-machine-signals');
    const rows = await page.$$eval('#freshness-factory-machine-signals tr[data-entity]', (trs) =>
      trs.map((tr) => ({ ...(tr as unknown as D).dataset })),
    );
    // 16:30 plant time: partitions up to 15:00 have ended; staleness is measured from the end of the last published.
    const last = await q(
      `SELECT split_part(partition_key, '@', 1) AS entity, max(partition_key) AS last FROM ops.partition_state
       WHERE dataset = 'machine_yield_hourly' AND split_part(partition_key, '@', 2) < '${DAY}T16' GROUP BY 1 ORDER BY 1`,
    );
    const want = last.map((r) => {
      const hour = Number((r.last as string).slice(-2));
      const staleness = 16 * 60 + 30 - (hour + 1) * 60;
      // The next working hour after the last published one ends at hour + 2 (all before 17:00 here).
      const overdue = 16 * 60 + 30 - (hour + 2) * 60;
      return {
        entity: r.entity,
        last: r.last,
        staleness: String(staleness),
        overdue: overdue > 0 ? String(overdue) : '',
        status: overdue > 120 ? 'red' : 'green',
      };
    });
    expect(
      rows.map((r) => ({
        entity: r.entity,
        last: r.last,
        staleness: r.staleness,
        overdue: r.overdue,
        status: r.status,
      })),
    ).toEqual(want);
    const listed = await page.$$eval(
      '#missing-factory-machine-signals tr[data-partition], #incomplete-factory-machine-signals tr[data-partition]',
      (trs) =>
        trs.map((tr) => ({
          partition: (tr as unknown as D).dataset.partition!,
          status: (tr as unknown as D).dataset.status!,
          reason: tr.children[2]!.textContent!,
        })),
    );
    const due = Object.values(truth.partitions).filter(
      (t) => t.outcome !== 'loaded' && Number(t.hourKey.slice(11, 13)) <= 15,
    );
    expect(listed.map((l) => l.partition).sort()).toEqual(due.map((t) => t.partition).sort());
    for (const l of listed) expect(l.reason.length).toBeGreaterThan(3);
    const schemaBreak = due.find((t) => t.outcome === 'contract_broken');
    if (schemaBreak)
      expect(listed.find((l) => l.partition === schemaBreak.partition)?.reason).toContain('ContractBroken');
    // Open alerts as the catalog has them; an operator acknowledges one from the page and the catalog records who.
    const openAlerts = await q(`SELECT id::text AS id FROM ops.alerts WHERE resolved_at IS NULL ORDER BY id`);
    expect(openAlerts.length).toBeGreaterThan(0);
    const shown = await page.$$eval('#open-alerts-table tr[data-alert]', (trs) =>
      trs.map((tr) => (tr as unknown as D).dataset.alert!),
    );
    expect(shown.sort()).toEqual(openAlerts.map((a) => a.id as string).sort());
    const target = openAlerts[0]!.id as string;
    await page.click(`#open-alerts-table tr[data-alert="${target}"] .ack-button`);
    await page.waitForSelector(`#open-alerts-table tr[data-alert="${target}"] .ack[data-acknowledged-by]`);
    const [acked] = await q(`SELECT acknowledged_by, ack_comment FROM ops.alerts WHERE id = $1`, [target]);
    expect(acked).toEqual({ acknowledged_by: 'test-operator', ack_comment: 'acknowledged on the dashboard' });
    // An operator silences M07's alerts of the machine pipeline for 30 minutes from the page, then ends it early.
    await page.selectOption('#silence-form select[name=pipeline]', 'factory-machine-signals');
    await page.fill('#silence-form input[name=partitionPrefix]', 'M07@');
    await page.fill('#silence-form input[name=minutes]', '30');
    await page.fill('#silence-form input[name=reason]', 'maintenance on M07');
    await page.click('#silence-form button[type=submit]');
    const silenceId = await (await page.waitForSelector('#silence-result[data-silence]')).getAttribute('data-silence');
    const [silence] = await q(
      `SELECT pipeline, kind, partition_prefix, reason, created_by, ends_at > now() AS active,
              round(extract(epoch FROM ends_at - starts_at) / 60) AS minutes
         FROM ops.alert_silences WHERE id = $1`,
      [silenceId],
    );
    expect(silence).toEqual({
      pipeline: 'factory-machine-signals',
      kind: null,
      partition_prefix: 'M07@',
      reason: 'maintenance on M07',
      created_by: 'test-operator',
      active: true,
      minutes: '30',
    });
    await page.click(`#silences-table tr[data-silence="${silenceId}"] .end-silence`);
    await page.waitForSelector(`#silences-table tr[data-silence="${silenceId}"][data-active="false"]`);
    const [ended] = await q(`SELECT ends_at <= now() AS ended FROM ops.alert_silences WHERE id = $1`, [silenceId]);
    expect(ended).toEqual({ ended: true });
    await screenshot(page, ART, 'freshness');

    // The next working morning at 09:30: nothing since 18:00 the day before (15.5 h, over the 2 h SLA in working
    // hours) is red, and the hours 06–08 that ended without a file are missing.
    await open(page, `#/freshness?now=${NEXT_MORNING}`, '#freshness-factory-machine-signals');
    const morning = await page.$$eval('#freshness-factory-machine-signals tr[data-entity]', (trs) =>
      trs.map((tr) => ({ ...(tr as unknown as D).dataset })),
    );
    // Tuesday 06:00 was due at 07:00: overdue 150 min.
    expect(morning.map((r) => [r.entity, r.status, r.staleness, r.overdue])).toEqual(
      want.map((w) => [w.entity, 'red', String(15 * 60 + 30), '150']),
    );
    const missing = await page.$$eval('#missing-factory-machine-signals tr[data-partition]', (trs) =>
      trs.map((tr) => `${(tr as unknown as D).dataset.partition} ${tr.children[2]!.textContent}`),
    );
    expect(missing.sort()).toEqual(
      want.flatMap((w) => ['06', '07', '08'].map((h) => `${w.entity as string}@2026-11-03T${h} no file landed`)).sort(),
    );
    expect(watch.problems).toEqual([]);
  });

  it('shows runs, failures with Temporal links, quarantine and latency as the catalog has them', async () => {
    const { page, watch } = operator;
    const now = new Date().toISOString();
    await open(page, `#/pipelines?now=${now}&hours=24`, '#failures-table');
    const totals = Object.fromEntries(
      await page.$$eval('#runs-totals tr[data-status]', (trs) =>
        trs.map((tr) => [(tr as unknown as D).dataset.status!, Number((tr as unknown as D).dataset.count)]),
      ),
    );
    const sql = Object.fromEntries(
      (
        await q(
          `SELECT status, count(*)::int AS n FROM ops.runs WHERE started_at >= $1::timestamptz - interval '24 hours' AND started_at < $1 GROUP BY 1`,
          [now],
        )
      ).map((r) => [r.status, r.n]),
    );
    expect(totals).toEqual(sql);
    const failures = await page.$$eval('#failures-table tbody tr', (trs) =>
      trs.map((tr) => ({
        partition: (tr as unknown as D).dataset.partition!,
        temporal: tr.querySelector('a[target=_blank]')?.getAttribute('href') ?? '',
      })),
    );
    expect(failures).toHaveLength(sql.failed ?? 0);
    for (const f of failures)
      expect(f.temporal).toMatch(
        /^http:\/\/localhost:\d+\/namespaces\/default\/workflows\/run%3Afactory-machine-signals/,
      );
    const quarantine = Object.fromEntries(
      await page.$$eval('#quarantine-totals tr[data-reason]', (trs) =>
        trs.map((tr) => [(tr as unknown as D).dataset.reason!, Number((tr as unknown as D).dataset.count)]),
      ),
    );
    const qSql = Object.fromEntries(
      (await q('SELECT reason, count(*)::int AS n FROM factory.quarantined_rows GROUP BY 1')).map((r) => [
        r.reason,
        r.n,
      ]),
    );
    expect(quarantine).toEqual(qSql);
    const latency = await page.$eval('#latency-table tr[data-pipeline="factory-machine-signals"]', (tr) => ({
      ...(tr as unknown as D).dataset,
    }));
    expect(Number(latency.runs)).toBeGreaterThan(0);
    expect(Number(latency.p95)).toBeGreaterThanOrEqual(Number(latency.p50));
    // The export with its manifest.
    const exported = await page.$eval(`#exports-table tr[data-export="${exportId}"]`, (tr) => ({
      status: (tr as unknown as D).dataset.status,
      manifest: tr.querySelector('details pre')?.textContent ?? '',
    }));
    const expSql = (await q('SELECT status, manifest FROM ops.feature_exports WHERE export_id = $1', [exportId]))[0]!;
    expect(exported.status).toBe('succeeded');
    expect(JSON.parse(exported.manifest)).toEqual(expSql.manifest);
    await screenshot(page, ART, 'pipelines');
    expect(watch.problems).toEqual([]);
  });

  it('tells what happened to a failed partition and to a loaded one with quarantined rows', async () => {
    const { page, watch } = operator;
    const broken = Object.values(truth.partitions).find((t) => t.outcome === 'contract_broken')!;
    await open(page, `#/partition?pipeline=factory-machine-signals&partition=${broken.partition}`, '#partition-runs');
    expect(await page.getAttribute('#partition-page', 'data-status')).toBe('failed: ContractBroken');
    expect(await page.textContent('#story')).toContain(broken.files[0]!.split('/').pop()!);
    const withQuarantine = Object.values(truth.partitions).find(
      (t) => t.outcome === 'loaded' && Object.keys(t.quarantinedByReason).length > 0,
    )!;
    await open(
      page,
      `#/partition?pipeline=factory-machine-signals&partition=${withQuarantine.partition}`,
      '#partition-quarantine',
    );
    expect(await page.getAttribute('#partition-page', 'data-status')).toBe('published');
    const reasons = Object.fromEntries(
      await page.$$eval('#quarantine-reasons span', (ss) =>
        ss.map((s) => [(s as unknown as D).dataset.reason!, Number((s as unknown as D).dataset.count)]),
      ),
    );
    expect(reasons).toEqual(withQuarantine.quarantinedByReason);
    const y = await page.$eval('#partition-yield tr[data-items]', (tr) => ({ ...(tr as unknown as D).dataset }));
    expect(Number(y.items)).toBe(withQuarantine.yield!.items);
    expect((await page.textContent('#partition-runs'))!).toContain('ingest completed');
    await screenshot(page, ART, 'partition');
    expect(watch.problems).toEqual([]);
  });

  it('pauses a running backfill from the page, and Temporal has it paused', async () => {
    const { page, watch } = operator;
    const started = await request(http)
      .post('/api/v1/pipelines/factory-machine-signals/backfills')
      .set('X-API-Key', api.keys.operator)
      .send({ from: '2026-03-02T06', to: '2026-10-30T17', machines: ['M01', 'M02'], maxConcurrency: 1 });
    expect(started.status).toBe(202);
    backfillId = started.body.backfillId as string;
    // Visibility is eventually consistent: wait until the dashboard lists it.
    for (let i = 0; ; i++) {
      const list = await request(http).get('/api/v1/dashboard/backfills').set('X-API-Key', api.keys.viewer);
      if (list.body.backfills.some((b: { backfillId: string }) => b.backfillId === backfillId)) break;
      if (i > 100) throw new Error('backfill never listed');
      await new Promise((r) => setTimeout(r, 200));
    }
    await open(
      page,
      `#/pipelines?now=${new Date().toISOString()}`,
      `#backfills-table tr[data-backfill="${backfillId}"]`,
    );
    const row = `#backfills-table tr[data-backfill="${backfillId}"]`;
    expect(await page.$(`${row} progress`)).not.toBeNull();
    await page.click(`${row} button[data-action="pause"]`);
    await page.waitForSelector(`${row} .bf-status[data-acted="pause"]`);
    expect(await page.getAttribute(`${row} .bf-status`, 'data-status')).toBe('paused');
    const progress = await env.client.workflow.getHandle(backfillId).query(backfillProgressQuery);
    expect(progress.status).toBe('paused');
    await screenshot(page, ART, 'pipelines-backfill');
    expect(watch.problems).toEqual([]);
  });

  it('shows a viewer no operator button, and the API refuses the viewer’s action anyway', async () => {
    expect(backfillId).toBeDefined();
    const { context, page } = await newPage(browser);
    const watch = watchPage(page);
    try {
      await signIn(page, api.keys.viewer);
      await open(
        page,
        `#/pipelines?now=${new Date().toISOString()}`,
        `#backfills-table tr[data-backfill="${backfillId}"]`,
      );
      expect(await page.$$('#backfills-table button')).toHaveLength(0);
      expect(await page.$('#viewer-note')).not.toBeNull();
      await open(page, `#/freshness?now=${AFTERNOON}`, '#open-alerts-table');
      expect(await page.$$('#open-alerts-table button')).toHaveLength(0);
      expect(await page.$('#ack-viewer-note')).not.toBeNull();
      expect(await page.$('#silence-form')).toBeNull();
      expect(await page.$$('#silences-table button')).toHaveLength(0);
      await screenshot(page, ART, 'pipelines-viewer');
      // The viewer's session cookie (the browser context's) cannot resume it.
      const res = await context.request.post(`${base}/api/v1/backfills/${backfillId}/resume`, {
        headers: { 'Content-Type': 'application/json' },
        data: '{}',
      });
      expect(res.status()).toBe(403);
      expect((await env.client.workflow.getHandle(backfillId!).query(backfillProgressQuery)).status).toBe('paused');
      expect(watch.problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('never writes a key or a session token to the log', async () => {
    const logged = await createTestApi(env, {}, { accessLog: true });
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr) as (...a: unknown[]) => boolean;
    process.stderr.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return write(chunk, ...rest);
    };
    let token: string | undefined;
    try {
      const h = logged.app.getHttpServer();
      await request(h).post('/api/v1/session').send({ apiKey: 'fab_wrong-key-in-body' });
      const res = await request(h).post('/api/v1/session').send({ apiKey: logged.keys.viewer });
      token = String(res.headers['set-cookie']).split(';')[0]!.split('=')[1]!;
      expect((await request(h).get('/api/v1/dashboard/exports').set('Cookie', `fabrica_session=${token}`)).status).toBe(
        200,
      );
    } finally {
      process.stderr.write = write;
      await logged.close();
    }
    const text = lines.join('');
    expect(text).toContain('"route":"/api/v1/dashboard/exports"');
    expect(text).toContain('"apiKey":"test-viewer"');
    expect(token).toBeDefined();
    for (const secret of [logged.keys.viewer, 'fab_wrong-key-in-body', token]) expect(text).not.toContain(secret);
  });

  it('counts wrong keys against the address: past the limit a sign-in is refused with 429', async () => {
    let last = 0;
    for (let i = 0; i < 12; i++)
      last = (
        await request(http)
          .post('/api/v1/session')
          .send({ apiKey: `fab_wrong_${i}` })
      ).status;
    expect(last).toBe(429);
    const right = await request(http).post('/api/v1/session').send({ apiKey: api.keys.viewer });
    expect(right.status).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
  });
});

/** Session tokens on their own (no services). */
describe('dashboard session tokens', () => {
  const keys = [newApiKey('ops', 'operator'), newApiKey('eve', 'viewer')].map((k) => parseApiKeys(k.entry)[0]!);
  const t0 = Date.parse('2026-11-02T12:00:00Z');

  it('verifies its own tokens until they expire, and only while the key is configured with that role', () => {
    const signer = new SessionSigner('s'.repeat(32));
    const token = signer.sign(keys[0]!, t0, 3600);
    expect(signer.verify(token, keys, t0 + 1000)).toEqual({ name: 'ops', role: 'operator', expires: t0 / 1000 + 3600 });
    expect(signer.verify(token, keys, t0 + 3600_000)).toBeUndefined();
    expect(signer.verify(token, [keys[1]!], t0)).toBeUndefined();
    expect(signer.verify(token, [{ ...keys[0]!, role: 'viewer' }], t0)).toBeUndefined();
    // Another secret (another replica without the shared setting) does not accept it.
    expect(new SessionSigner('t'.repeat(32)).verify(token, keys, t0)).toBeUndefined();
    expect(new SessionSigner(undefined).verify(token, keys, t0)).toBeUndefined();
    expect(signer.verify('garbage', keys, t0)).toBeUndefined();
  });
});
