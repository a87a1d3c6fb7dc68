import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

/**
 * The API's limits with two API processes (two Nest apps, each its own limiter state) on one warehouse, as replicas
 * behind one address run: failed sign-ins and invalid keys are counted in the warehouse, so the replicas together
 * allow FABRICA_FAILED_AUTH_PER_MINUTE; the request rate limit is per process (N replicas allow N times it).
 */
describe('rate limits across two API processes', () => {
  let env: FabricaTestEnv;
  let a: TestApi;
  let b: TestApi;
  const settings = { FABRICA_FAILED_AUTH_PER_MINUTE: '10', FABRICA_RATE_LIMIT_PER_MINUTE: '30' };

  beforeAll(async () => {
    env = await createTestEnv('ratelimit');
    a = await createTestApi(env, settings);
    b = await createTestApi(env, { ...settings, FABRICA_API_KEYS: a.keyEntries }); // the same keys as a
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await env?.close();
  });

  /** The limits count per minute window: start the test's requests early in a window, so all fall in one. */
  async function freshWindow(): Promise<void> {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 20_000) await new Promise((r) => setTimeout(r, left + 50));
  }

  it('counts failed sign-ins and invalid keys from one address across both processes', async () => {
    await freshWindow();
    const [ha, hb] = [a.app.getHttpServer(), b.app.getHttpServer()];
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (
          await request(ha)
            .post('/api/v1/session')
            .send({ apiKey: `fab_wrong_a${i}` })
        ).status,
      );
    for (let i = 0; i < 4; i++)
      statuses.push((await request(hb).get('/api/v1/pipelines').set('X-API-Key', `fab_wrong_b${i}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    // The 11th failure, on the other process than most of them, is over the shared limit.
    const over = await request(hb).post('/api/v1/session').send({ apiKey: 'fab_wrong_11' });
    expect(over.status).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    // Both processes now refuse a sign-in from the address, even with the right key, until the window ends.
    for (const h of [ha, hb]) {
      const right = await request(h).post('/api/v1/session').send({ apiKey: a.keys.viewer });
      expect(right.status).toBe(429);
    }
    const counted = await env.deps.warehouse.query<{ n: number }>('SELECT sum(n)::int AS n FROM ops.api_failed_auth');
    expect(counted.rows[0]!.n).toBe(10); // a blocked sign-in is refused before its key is even looked at
    // A valid key is not a failed attempt: the API keeps serving it.
    expect((await request(ha).get('/api/v1/pipelines').set('X-API-Key', a.keys.viewer)).status).toBe(200);
  });

  it('limits requests per key in each process: 429 with Retry-After on one, the other still serves', async () => {
    await freshWindow();
    const [ha, hb] = [a.app.getHttpServer(), b.app.getHttpServer()];
    let status = 0;
    let n = 0;
    for (; n < 40 && status !== 429; n++)
      status = (await request(ha).get('/api/v1/pipelines').set('X-API-Key', a.keys.operator)).status;
    expect(status).toBe(429);
    expect(n).toBe(31); // 30 allowed in the window
    const limited = await request(ha).get('/api/v1/pipelines').set('X-API-Key', a.keys.operator);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await request(hb).get('/api/v1/pipelines').set('X-API-Key', a.keys.operator)).status).toBe(200);
  });
});
