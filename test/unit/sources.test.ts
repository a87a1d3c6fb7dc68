import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { PayloadInvalidError } from '../../activities/failures.js';
import { backoffMs, retryAfterInstant } from '../../activities/sources/http-client.js';
import { sinceParameter } from '../../activities/sources/http-extract.js';
import { canonicalInstant, checkDatabaseValue, jsonFieldAsText } from '../../activities/sources/validate.js';
import { demoProducts } from '../../infra/demo/catalog-service.js';
import { maintenanceEventRows } from '../../infra/demo/records-db.js';
import { dayIndex } from '../../infra/generator/calendar.js';
import { machineProfiles, SKU_FAMILIES } from '../../infra/generator/catalog.js';
import { projectRoot } from '../../infra/paths.js';
import { ConfigError, loadConfig } from '../../worker/config.js';
import { sourceSchedulesOf } from '../../worker/schedules.js';
import { DATA_FAULT_TYPES } from '../../workflows/steps.js';
import { assertSourcesValid, getSource, SOURCES } from '../../workflows/sources/index.js';
import { maintenanceEvents } from '../../workflows/sources/maintenance-events.source.js';
import { productCatalog } from '../../workflows/sources/product-catalog.source.js';
import { sourceSpecProblems } from '../../workflows/sources/spec.js';

describe('source registry', () => {
  it('registers every spec file under workflows/sources/, and each is valid plain data', async () => {
    const dir = path.join(projectRoot, 'workflows', 'sources');
    const files = readdirSync(dir).filter((f) => f.endsWith('.source.ts'));
    expect(files.length).toBe(SOURCES.length);
    for (const file of files) {
      const mod = (await import(path.join(dir, file))) as Record<string, unknown>;
      const specs = Object.values(mod).filter((v) => typeof v === 'object' && v !== null && 'id' in v);
      expect(specs).toHaveLength(1);
      expect(SOURCES).toContain(specs[0]);
    }
    expect(() => assertSourcesValid()).not.toThrow();
    for (const spec of SOURCES) expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
    expect(getSource('maintenance-events')).toBe(maintenanceEvents);
  });

  it('reports invalid specs, duplicate ids and target tables, and a connection shared across kinds', () => {
    expect(
      sourceSpecProblems({
        ...maintenanceEvents,
        watermark: 'machine_id',
        key: 'ended_at',
        table: 'maintenance_events; DROP TABLE x',
      }),
    ).toEqual([
      'maintenance-events: key must be a non-null column',
      'maintenance-events: watermark: a non-null timestamptz column',
      'maintenance-events: table must be schema.table',
    ]);
    expect(sourceSpecProblems({ ...productCatalog, deletes: 'reconcile-keys' })).toEqual([
      'product-catalog: an HTTP source cannot reconcile keys',
    ]);
    expect(() => assertSourcesValid([maintenanceEvents, maintenanceEvents])).toThrow(
      'maintenance-events: duplicate source id',
    );
    expect(() =>
      assertSourcesValid([maintenanceEvents, { ...productCatalog, connection: 'RECORDS_DATABASE_URL' }]),
    ).toThrow('RECORDS_DATABASE_URL is also the connection of database source maintenance-events');
  });

  it('treats bad payloads and source schema changes as data faults (never retried)', () => {
    expect(DATA_FAULT_TYPES).toEqual(expect.arrayContaining(['PayloadInvalid', 'SourceSchemaMismatch']));
  });

  it('schedules each source every few minutes, skipping a firing while a sync runs', () => {
    const [schedule] = sourceSchedulesOf(maintenanceEvents, 'q');
    expect(schedule).toMatchObject({
      scheduleId: 'source:maintenance-events',
      spec: { intervals: [{ every: '15 minutes' }] },
      action: { workflowId: 'scheduled-source:maintenance-events', taskQueue: 'q' },
      policies: { overlap: 'SKIP' },
    });
    expect(sourceSchedulesOf({ ...maintenanceEvents, schedule: undefined }, 'q')).toEqual([]);
  });
});

describe('source configuration', () => {
  it('reads the source connections, absent by default', () => {
    expect(loadConfig({}).sources).toEqual({ RECORDS_DATABASE_URL: undefined, CATALOG_API_URL: undefined });
    const c = loadConfig({
      RECORDS_DATABASE_URL: 'postgres://reader:pw@records.internal:5432/records',
      CATALOG_API_URL: 'https://catalog.internal/api/v2',
    });
    expect(c.sources).toEqual({
      RECORDS_DATABASE_URL: 'postgres://reader:pw@records.internal:5432/records',
      CATALOG_API_URL: 'https://catalog.internal/api/v2',
    });
  });

  it.each([
    [{ RECORDS_DATABASE_URL: 'http://records/db' }, 'RECORDS_DATABASE_URL'],
    [{ RECORDS_DATABASE_URL: 'postgres://reader@records' }, 'RECORDS_DATABASE_URL'],
    [{ CATALOG_API_URL: 'ftp://catalog' }, 'CATALOG_API_URL'],
    [{ CATALOG_API_URL: 'catalog:8080' }, 'CATALOG_API_URL'],
    [{ CATALOG_API_URL: 'http://catalog/?x=1' }, 'CATALOG_API_URL'],
  ])('rejects %j naming %s', (env, setting) => {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
  });
});

describe('HTTP source requests', () => {
  it('reads Retry-After as delay-seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-20T10:00:00.500Z');
    expect(retryAfterInstant('3', now)).toBe(now + 3000);
    expect(retryAfterInstant('Fri, 20 Nov 2026 10:00:05 GMT', now)).toBe(Date.parse('2026-11-20T10:00:05Z'));
    expect(retryAfterInstant('Fri, 20 Nov 2026 09:00:00 GMT', now)).toBe(now);
    expect(retryAfterInstant('soon', now)).toBeUndefined();
    expect(retryAfterInstant(null, now)).toBeUndefined();
  });

  it('backs off exponentially, capped', () => {
    const policy = { ...productCatalog.request, initialBackoffMs: 500, maxBackoffMs: 3000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(policy, a))).toEqual([500, 1000, 2000, 3000, 3000]);
  });

  it('asks for changes since the watermark minus the lookback', () => {
    expect(sinceParameter(productCatalog, { ts: null, key: null })).toBeUndefined();
    expect(sinceParameter(productCatalog, { ts: '2026-11-20T10:05:00.123456Z', key: 'SKU-PAN-20' })).toBe(
      '2026-11-20T10:00:00.123Z',
    );
  });
});

describe('source value validation', () => {
  const where = 'page 2, item 3 (sku "SKU-PAN-20")';
  const column = (name: string) => productCatalog.columns.find((c) => c.name === name)!;
  const fault = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err as PayloadInvalidError;
    }
    throw new Error('no fault');
  };

  it('turns valid JSON fields into COPY text', () => {
    const item = { sku: 'SKU-PAN-20', unit_cost: 12.5, updated_at: '2026-11-20T07:00:00.1-03:00' };
    expect(jsonFieldAsText(productCatalog, column('sku'), item, where)).toBe('SKU-PAN-20');
    expect(jsonFieldAsText(productCatalog, column('unit_cost'), item, where)).toBe('12.5');
    expect(jsonFieldAsText(productCatalog, column('unit_cost'), { unit_cost: '12.5000' }, where)).toBe('12.5000');
    expect(jsonFieldAsText(productCatalog, column('updated_at'), item, where)).toBe('2026-11-20T10:00:00.100000Z');
  });

  it('names the place and the field of a bad value', () => {
    const wrong = fault(() => jsonFieldAsText(productCatalog, column('unit_cost'), { unit_cost: 'caro' }, where));
    expect(wrong).toBeInstanceOf(PayloadInvalidError);
    expect(wrong.type).toBe('PayloadInvalid');
    expect(wrong.message).toBe(
      'product-catalog: page 2, item 3 (sku "SKU-PAN-20"): field "unit_cost" must be a number, got "caro"',
    );
    expect(fault(() => jsonFieldAsText(productCatalog, column('name'), {}, where)).message).toMatch(
      /field "name" is missing$/,
    );
    expect(
      fault(() => jsonFieldAsText(productCatalog, column('updated_at'), { updated_at: '2026-11-20 10:00' }, where))
        .message,
    ).toMatch(/field "updated_at" must be an ISO-8601 instant with an offset/);
    const kind = maintenanceEvents.columns.find((c) => c.name === 'kind')!;
    expect(fault(() => checkDatabaseValue(maintenanceEvents, kind, 'emergency', 'row id=7')).message).toBe(
      'maintenance-events: row id=7: field "kind" must be one of preventive, corrective, got "emergency"',
    );
    expect(() => checkDatabaseValue(maintenanceEvents, kind, 'corrective', 'row id=7')).not.toThrow();
    expect(fault(() => jsonFieldAsText(productCatalog, column('sku'), { sku: 7 }, where))).not.toBeInstanceOf(
      ApplicationFailure,
    );
  });

  it('writes instants in one canonical form (UTC, microseconds)', () => {
    expect(canonicalInstant('2026-11-20T10:00:00Z')).toBe('2026-11-20T10:00:00.000000Z');
    expect(canonicalInstant('2026-11-20T10:00:00.123456789+01:00')).toBe('2026-11-20T09:00:00.123456Z');
    expect(canonicalInstant('2026-02-30T10:00:00Z')).toBeUndefined();
    expect(canonicalInstant('yesterday')).toBeUndefined();
  });
});

describe('demo stand-ins', () => {
  it('serves every SKU the machines make, with Portuguese names, a category per family and a cost', () => {
    const products = demoProducts();
    expect(products.map((p) => p.sku)).toEqual(SKU_FAMILIES.flat());
    expect(products.find((p) => p.sku === 'SKU-KET-15')).toMatchObject({
      name: 'Chaleira esmaltada 1,5 L',
      category: 'Chaleiras',
    });
    expect(new Set(products.map((p) => p.category)).size).toBe(SKU_FAMILIES.length);
    expect(products.every((p) => p.unit_cost > 0)).toBe(true);
  });

  it('seeds maintenance events deterministically, preventive when a wear cycle restarts, never after the range', () => {
    const o = { machines: 4, from: '2026-09-01', to: '2026-10-31' };
    const rows = maintenanceEventRows(o);
    expect(maintenanceEventRows(o)).toEqual(rows);
    expect(rows.map((r) => r.id)).toEqual(rows.map((_, i) => i + 1));
    const end = Date.parse('2026-11-01T00:00:00Z');
    expect(rows.every((r) => Date.parse(r.updated_at) < end && r.updated_at >= r.started_at)).toBe(true);
    const profiles = machineProfiles(4, { latin1: true, energy: true });
    for (const r of rows.filter((x) => x.kind === 'preventive')) {
      const p = profiles.find((x) => x.id === r.machine_id)!;
      const localDate = new Date(Date.parse(r.started_at) - 3 * 3_600_000).toISOString().slice(0, 10);
      expect((dayIndex(`${localDate}T00`) + p.wearPhaseDays) % p.wearCycleDays).toBe(0);
    }
    expect(rows.some((r) => r.kind === 'corrective')).toBe(true);
    expect(rows.some((r) => r.notes.endsWith('(revisado pela engenharia)'))).toBe(true);
  });
});
