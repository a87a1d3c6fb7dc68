import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

/** The REST API against the real stack: Temporal dev server, PostgreSQL, a worker with the real activities. */
describe('REST API', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let http: App;
  const as = (role: keyof TestApi['keys']) => ({ 'X-API-Key': api.keys[role] });

  beforeAll(async () => {
    env = await createTestEnv('api');
    await env.startWorker();
    api = await createTestApi(env);
    http = api.app.getHttpServer();
  });
  afterAll(async () => {
    await api.close();
    await env.close();
  });

  describe('security', () => {
    it('keeps health open and reports every dependency up', async () => {
      const res = await request(http).get('/api/v1/health');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.checks.workers.pollers).toBeGreaterThan(0);
    });

    it('answers 401 without a key or with a wrong one, accepting both header forms', async () => {
      expect((await request(http).get('/api/v1/pipelines')).status).toBe(401);
      expect((await request(http).get('/api/v1/pipelines').set('X-API-Key', 'fab_wrong')).status).toBe(401);
      expect(
        (await request(http).get('/api/v1/pipelines').set('Authorization', `Bearer ${api.keys.viewer}`)).status,
      ).toBe(200);
    });

    it('answers 403 when the role may not act, and never echoes the key', async () => {
      const res = await request(http)
        .post('/api/v1/pipelines/factory-machine-signals/runs')
        .set(as('viewer'))
        .send({ partition: 'M07@2026-11-20T10' });
      expect(res.status).toBe(403);
      expect(res.body.message).toContain('operator');
      expect(JSON.stringify(res.body)).not.toContain(api.keys.viewer);
    });
  });

  describe('pipelines', () => {
    it('lists the registry and shows one pipeline', async () => {
      const list = await request(http).get('/api/v1/pipelines').set(as('viewer'));
      expect(list.status).toBe(200);
      expect(list.body.map((p: { id: string }) => p.id)).toContain('factory-machine-signals');
      const one = await request(http).get('/api/v1/pipelines/factory-machine-signals').set(as('viewer'));
      expect(one.body).toMatchObject({ id: 'factory-machine-signals', freshness: { maxStalenessMinutes: 120 } });
    });

    it('answers 404 for an unknown pipeline', async () => {
      const res = await request(http).get('/api/v1/pipelines/nope').set(as('viewer'));
      expect(res.status).toBe(404);
      expect(res.body.message).toContain('"nope"');
    });
  });

  describe('runs', () => {
    it.each([
      [{}, 'partition'],
      [{ partition: 'M07-2026-11-20' }, 'partition'],
      [{ partition: 'M07@2026-11-20T10', force: 'yes' }, 'force'],
      [{ partition: 'M07@2026-11-20T10', extra: 1 }, 'extra'],
    ])('answers 400 naming the field for %j', async (body, field) => {
      const res = await request(http)
        .post('/api/v1/pipelines/factory-machine-signals/runs')
        .set(as('operator'))
        .send(body);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toContain(field);
    });

    it('answers 422 naming the field for a well-formed partition that is no real hour', async () => {
      const res = await request(http)
        .post('/api/v1/pipelines/factory-machine-signals/runs')
        .set(as('operator'))
        .send({ partition: 'M07@2026-02-30T10' });
      expect(res.status).toBe(422);
      expect(JSON.stringify(res.body.message)).toContain('partition');
    });
    it('refuses a huge body with 413', async () => {
      const res = await request(http)
        .post('/api/v1/pipelines/factory-machine-signals/runs')
        .set(as('operator'))
        .send({ partition: 'M07@2026-11-20T10', pad: 'x'.repeat(200_000) });
      expect(res.status).toBe(413);
    });

    it('starts a run once for concurrent duplicate POSTs, then reports its failure and refuses to cancel it', async () => {
      const post = () =>
        request(http)
          .post('/api/v1/pipelines/factory-machine-signals/runs')
          .set(as('operator'))
          .send({ partition: 'M09@2026-11-19T08' });
      const [a, b] = await Promise.all([post(), post()]);
      expect([a.status, b.status]).toEqual([202, 202]);
      expect(a.body.runId).toBe(b.body.runId);
      expect(a.body.links.temporalUi).toContain(encodeURIComponent(a.body.workflowId));
      // The run the API just handed out is readable at once (not a 404 until its first activity wrote the catalog).
      const now = await request(http).get(`/api/v1/runs/${a.body.runId}`).set(as('viewer'));
      expect(now.status).toBe(200);
      expect(['running', 'failed']).toContain(now.body.status);
      // Nothing landed for that hour: the run fails once, as a data fault.
      await env.client.workflow
        .getHandle(a.body.workflowId, a.body.runId)
        .result()
        .catch(() => undefined);
      const run = await request(http).get(`/api/v1/runs/${a.body.runId}`).set(as('viewer'));
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({
        status: 'failed',
        failure: { type: 'SourceMissing' },
        partition: 'M09@2026-11-19T08',
      });
      const list = await request(http)
        .get('/api/v1/runs')
        .query({ pipeline: 'factory-machine-signals', status: 'failed' })
        .set(as('viewer'));
      expect(list.body.items.map((r: { runId: string }) => r.runId)).toContain(a.body.runId);
      const cancel = await request(http).post(`/api/v1/runs/${a.body.runId}/cancel`).set(as('operator'));
      expect(cancel.status).toBe(409);
    });

    it('answers 404 for unknown runs and 400 for bad list filters', async () => {
      expect(
        (await request(http).get('/api/v1/runs/00000000-0000-0000-0000-000000000000').set(as('viewer'))).status,
      ).toBe(404);
      expect((await request(http).get('/api/v1/runs/not-a-run').set(as('viewer'))).status).toBe(404);
      const bad = await request(http).get('/api/v1/runs').query({ pageSize: 100000 }).set(as('viewer'));
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body.message)).toContain('pageSize');
    });
  });

  it('answers 503 with Retry-After when Temporal is unreachable', async () => {
    const down = await createTestApi(env, { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    try {
      const res = await request(down.app.getHttpServer() as App)
        .post('/api/v1/pipelines/factory-machine-signals/runs')
        .set('X-API-Key', down.keys.operator)
        .send({ partition: 'M07@2026-11-20T10' });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await down.close();
    }
  });
});
