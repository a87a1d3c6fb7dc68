import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { requestFingerprint } from '../../api/idempotency/idempotency.interceptor.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

type Role = keyof TestApi['keys'];
type LogLine = Record<string, unknown> & { level: string; msg: string };

const RUNS = '/api/v1/pipelines/factory-machine-signals/runs';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Captures what the process writes to stderr (where the API's JSON log lines go) until restored. */
function captureStderr(): { lines: () => LogLine[]; text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const text = () => chunks.join('');
  return {
    text,
    lines: () =>
      text()
        .split('\n')
        .flatMap((l): LogLine[] => {
          try {
            const v = JSON.parse(l) as LogLine | null;
            return typeof v?.msg === 'string' ? [v] : [];
          } catch {
            return [];
          }
        }),
    restore: () => {
      process.stderr.write = original;
    },
  };
}

/** Polls `find` until it returns something (log lines are written when the response is done). */
async function eventually<T>(find: () => T | undefined): Promise<T> {
  for (let i = 0; i < 250; i++) {
    const v = find();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('not found in time');
}

/** `Idempotency-Key` on POSTs, and request ids in responses, error bodies and JSON log lines. */
describe('REST API: Idempotency-Key and request ids', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let http: App;
  let db: pg.Pool;

  const post = (url: string, role: Role, body: object = {}, headers: Record<string, string> = {}) =>
    request(http)
      .post(url)
      .set({ 'X-API-Key': api.keys[role], ...headers })
      .send(body);
  const entry = async (scope: string, key: string) =>
    (
      await db.query<{ state: string; response_status: number | null; request_id: string }>(
        'SELECT state, response_status, request_id FROM ops.api_idempotency WHERE scope = $1 AND idempotency_key = $2',
        [scope, key],
      )
    ).rows[0];

  beforeAll(async () => {
    env = await createTestEnv('apiidem');
    await env.startWorker();
    api = await createTestApi(env, {}, { accessLog: true });
    http = api.app.getHttpServer();
    db = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  });
  afterAll(async () => {
    await db?.end();
    await api?.close();
    await env?.close();
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer to the same caller sending the same request, and only to that caller', async () => {
      const body = { partition: 'M14@2025-04-01T01' };
      const first = await post(RUNS, 'operator', body, { 'Idempotency-Key': 'replay-1' });
      expect(first.status).toBe(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await post(RUNS, 'operator', body, { 'Idempotency-Key': 'replay-1' });
      expect(again.status).toBe(202);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['original-request-id']).toBe(first.headers['x-request-id']);
      expect(again.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
      expect(again.body).toEqual(first.body);
      expect(await entry('key:test-operator', 'replay-1')).toMatchObject({
        state: 'completed',
        response_status: 202,
        request_id: first.headers['x-request-id'],
      });
      // Keys are per API key: another caller's identical key is its own operation.
      const other = await post(RUNS, 'admin', body, { 'Idempotency-Key': 'replay-1' });
      expect(other.status).toBe(202);
      expect(other.headers['idempotent-replayed']).toBeUndefined();
      expect(await entry('key:test-admin', 'replay-1')).toMatchObject({ state: 'completed' });
    });

    it('refuses the key with 422 for another body or another path', async () => {
      const first = await post(RUNS, 'operator', { partition: 'M14@2025-04-01T03' }, { 'Idempotency-Key': 'mix-1' });
      expect(first.status).toBe(202);
      const otherBody = await post(
        RUNS,
        'operator',
        { partition: 'M14@2025-04-01T04' },
        { 'Idempotency-Key': 'mix-1' },
      );
      expect(otherBody.status).toBe(422);
      expect(otherBody.body.message).toContain('Idempotency-Key');
      const otherPath = await post(
        `/api/v1/runs/${first.body.runId}/cancel`,
        'operator',
        {},
        { 'Idempotency-Key': 'mix-1' },
      );
      expect(otherPath.status).toBe(422);
      expect(otherPath.body.message).toContain('Idempotency-Key');
    });

    it('executes concurrent duplicates once: the others get 409 with Retry-After, or the replay', async () => {
      const body = { partition: 'M14@2025-04-01T02' };
      const capture = captureStderr();
      let answers: request.Response[];
      try {
        answers = await Promise.all(
          Array.from({ length: 6 }, () => post(RUNS, 'operator', body, { 'Idempotency-Key': 'concurrent-1' })),
        );
        await eventually(() => (capture.lines().filter((l) => l.msg === 'request').length >= 6 ? true : undefined));
      } finally {
        capture.restore();
      }
      const executed = answers.filter((a) => a.status === 202 && a.headers['idempotent-replayed'] === undefined);
      expect(executed).toHaveLength(1);
      for (const a of answers) {
        if (a.status === 409) {
          expect(a.headers['retry-after']).toBe('1');
          expect(a.body.message).toContain('Idempotency-Key');
        } else {
          expect({ status: a.status, runId: a.body.runId }).toEqual({ status: 202, runId: executed[0]!.body.runId });
        }
      }
      // One execution: one workflow start logged, by the request that ran.
      const starts = capture.lines().filter((l) => l.msg === 'run started' && l.partition === body.partition);
      expect(starts).toEqual([
        expect.objectContaining({ requestId: executed[0]!.headers['x-request-id'], runId: executed[0]!.body.runId }),
      ]);
      expect(await entry('key:test-operator', 'concurrent-1')).toMatchObject({
        state: 'completed',
        response_status: 202,
        request_id: executed[0]!.headers['x-request-id'],
      });
      const d = await env.client.workflow.getHandle(executed[0]!.body.workflowId).describe();
      expect(d.runId).toBe(executed[0]!.body.runId);
      // Once it finished, the duplicate is a replay.
      const later = await post(RUNS, 'operator', body, { 'Idempotency-Key': 'concurrent-1' });
      expect({ status: later.status, replayed: later.headers['idempotent-replayed'] }).toEqual({
        status: 202,
        replayed: 'true',
      });
    });

    it('answers 409 while the first request still runs, and takes over one abandoned by a dead process', async () => {
      const body = { partition: 'M14@2025-04-01T05' };
      const fingerprint = requestFingerprint('POST', RUNS, Buffer.from(JSON.stringify(body)));
      await db.query(
        `INSERT INTO ops.api_idempotency (scope, idempotency_key, fingerprint, state, request_id, owner, expires_at)
         VALUES ('key:test-operator', 'busy-1', $1, 'in_progress', 'elsewhere', gen_random_uuid(), now() + interval '1 hour')`,
        [fingerprint],
      );
      const busy = await post(RUNS, 'operator', body, { 'Idempotency-Key': 'busy-1' });
      expect(busy.status).toBe(409);
      expect(busy.headers['retry-after']).toBe('1');
      expect(busy.body.message).toMatch(/Idempotency-Key is still in progress/);
      await db.query(
        `UPDATE ops.api_idempotency SET created_at = now() - interval '10 minutes' WHERE idempotency_key = 'busy-1'`,
      );
      const takenOver = await post(RUNS, 'operator', body, { 'Idempotency-Key': 'busy-1' });
      expect(takenOver.status).toBe(202);
      expect(takenOver.headers['idempotent-replayed']).toBeUndefined();
      expect(await entry('key:test-operator', 'busy-1')).toMatchObject({ state: 'completed', response_status: 202 });
    });

    it('forgets an expired key', async () => {
      await db.query(
        `INSERT INTO ops.api_idempotency (scope, idempotency_key, fingerprint, state, request_id, owner,
           response_status, response_body, created_at, expires_at)
         VALUES ('key:test-operator', 'expired-1', 'another request', 'completed', 'old', gen_random_uuid(), 202, '{}',
           now() - interval '25 hours', now() - interval '1 hour')`,
      );
      const res = await post(RUNS, 'operator', { partition: 'M14@2025-04-01T06' }, { 'Idempotency-Key': 'expired-1' });
      expect(res.status).toBe(202);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(res.body.partition).toBe('M14@2025-04-01T06');
    });

    it('stores a 4xx answer (replayed as it was) but never a 5xx (a retry runs again)', async () => {
      const bad = { partition: 'M14@2025-02-30T10' };
      const first = await post(RUNS, 'operator', bad, { 'Idempotency-Key': 'bad-1' });
      expect(first.status).toBe(422);
      const again = await post(RUNS, 'operator', bad, { 'Idempotency-Key': 'bad-1' });
      expect(again.status).toBe(422);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);

      const down = await createTestApi(env, { TEMPORAL_ADDRESS: '127.0.0.1:1' }, { accessLog: true });
      const capture = captureStderr();
      try {
        const send = () =>
          request(down.app.getHttpServer() as App)
            .post(RUNS)
            .set({ 'X-API-Key': down.keys.operator, 'Idempotency-Key': 'down-1', 'X-Request-Id': 'req-down-1' })
            .send({ partition: 'M14@2025-04-01T07' });
        const failed = await send();
        expect(failed.status).toBe(503);
        expect(failed.body.requestId).toBe('req-down-1');
        expect(await entry('key:test-operator', 'down-1')).toBeUndefined();
        const retried = await send();
        expect(retried.status).toBe(503);
        expect(retried.headers['idempotent-replayed']).toBeUndefined();
        // The 5xx is logged as an error line carrying the request id.
        const line = await eventually(() =>
          capture.lines().find((l) => l.msg === 'request failed' && l.requestId === 'req-down-1'),
        );
        expect(line).toMatchObject({ level: 'error', status: 503, method: 'POST' });
      } finally {
        capture.restore();
        await down.close();
      }
    });

    it.each([
      ['empty', ''],
      ['256 characters', 'k'.repeat(256)],
      ['not ASCII', 'clé'],
    ])('refuses a key that is %s with 400 naming the header', async (_, key) => {
      const res = await post(RUNS, 'operator', { partition: 'M14@2025-04-01T08' }, { 'Idempotency-Key': key });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain('Idempotency-Key');
    });

    it('accepts a 255-character key of printable ASCII, and ignores the header on GET', async () => {
      // Every printable ASCII sort (a space inside: leading and trailing ones are trimmed by HTTP).
      const key = `k ~!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}`.padEnd(255, 'k');
      expect(key).toHaveLength(255);
      const res = await post(
        `/api/v1/runs/00000000-0000-0000-0000-000000000000/cancel`,
        'operator',
        {},
        {
          'Idempotency-Key': key,
        },
      );
      expect(res.status).toBe(404);
      expect(await entry('key:test-operator', key)).toMatchObject({ state: 'completed', response_status: 404 });
      const get = await request(http)
        .get('/api/v1/pipelines')
        .set({ 'X-API-Key': api.keys.viewer, 'Idempotency-Key': '' });
      expect(get.status).toBe(200);
    });
  });

  describe('request ids', () => {
    it('echoes a sane X-Request-Id and generates a UUID when it is absent or not sane', async () => {
      const get = (id?: string) => {
        const r = request(http).get('/api/v1/pipelines').set('X-API-Key', api.keys.viewer);
        return id === undefined ? r : r.set('X-Request-Id', id);
      };
      expect((await get('abc-123.x:y_Z')).headers['x-request-id']).toBe('abc-123.x:y_Z');
      expect((await get('r'.repeat(128))).headers['x-request-id']).toBe('r'.repeat(128));
      for (const insane of [undefined, '', 'r'.repeat(129), 'a b', '<script>', 'id/../x', 'é']) {
        const res = await get(insane);
        expect(res.status).toBe(200);
        expect(res.headers['x-request-id']).toMatch(UUID);
      }
      const [a, b] = await Promise.all([get(), get()]);
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });

    it('puts the request id in every error body, also for bodies refused before routing', async () => {
      const notFound = await request(http).get('/api/v1/pipelines/nope').set('X-API-Key', api.keys.viewer);
      expect(notFound.status).toBe(404);
      expect(notFound.body.requestId).toBe(notFound.headers['x-request-id']);
      const invalidJson = await request(http)
        .post(RUNS)
        .set({ 'X-API-Key': api.keys.operator, 'Content-Type': 'application/json', 'X-Request-Id': 'req-json-1' })
        .send('{"partition":');
      expect(invalidJson.status).toBe(400);
      expect(invalidJson.body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: 'req-json-1' });
      const unauthorized = await request(http).get('/api/v1/runs');
      expect(unauthorized.status).toBe(401);
      expect(unauthorized.body.requestId).toMatch(UUID);
    });

    it('logs one JSON access line per request and the workflow it started, with the request id, never the key', async () => {
      const capture = captureStderr();
      let started: request.Response;
      try {
        started = await post(RUNS, 'operator', { partition: 'M14@2025-04-01T09' }, { 'X-Request-Id': 'req-log-1' });
        await request(http).get('/api/v1/runs').set('X-Request-Id', 'req-log-2');
        await eventually(() =>
          capture.lines().filter((l) => l.msg === 'request' && String(l.requestId).startsWith('req-log-')).length === 2
            ? true
            : undefined,
        );
      } finally {
        capture.restore();
      }
      expect(started.status).toBe(202);
      const lines = capture.lines();
      const access = lines.filter((l) => l.msg === 'request' && l.requestId === 'req-log-1');
      expect(access).toEqual([
        expect.objectContaining({
          level: 'info',
          method: 'POST',
          route: '/api/v1/pipelines/:id/runs',
          path: RUNS,
          status: 202,
          durationMs: expect.any(Number),
          apiKey: 'test-operator',
          role: 'operator',
          time: expect.any(String),
        }),
      ]);
      expect(lines.find((l) => l.msg === 'run started' && l.requestId === 'req-log-1')).toMatchObject({
        workflowId: started.body.workflowId,
        runId: started.body.runId,
        pipeline: 'factory-machine-signals',
      });
      const refused = lines.find((l) => l.msg === 'request' && l.requestId === 'req-log-2');
      expect(refused).toMatchObject({ status: 401, route: '/api/v1/runs' });
      expect(refused).not.toHaveProperty('apiKey');
      for (const key of Object.values(api.keys)) expect(capture.text()).not.toContain(key);
    });
  });
});
