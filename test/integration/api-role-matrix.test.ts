import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

interface Operation {
  security?: unknown[];
  responses: Record<string, unknown>;
  'x-fabrica-role'?: string;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
}

const ROLES = ['viewer', 'operator', 'admin'] as const;
type Caller = 'none' | (typeof ROLES)[number];

/**
 * Path parameters that name nothing: a caller the guard lets through reaches the handler and gets a 404 (or a 4xx
 * of the handler), so the matrix never starts, pauses or cancels anything real.
 */
function fill(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === 'runId') return '00000000-0000-0000-0000-000000000000';
    if (name === 'partition') return 'M13@2025-03-04T05';
    if (name === 'entityId') return 'M13';
    if (path.startsWith('/api/v1/alert')) return '999999999';
    return 'nothing-by-this-id';
  });
}

/**
 * The role matrix, generated from the OpenAPI document: every operation × no key, viewer, operator and admin. The
 * document says which operations are public (`security: []`) and the least role of the others (`x-fabrica-role`);
 * each answer must be exactly what that promises (401 without a key, 403 naming the role below it, neither at or
 * above it), and a status the operation documents.
 */
describe('REST API: the role matrix of every operation', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let http: App;
  let doc: OpenApi;

  beforeAll(async () => {
    env = await createTestEnv('roles');
    api = await createTestApi(env, { FABRICA_RATE_LIMIT_PER_MINUTE: '1000000' });
    http = api.app.getHttpServer();
    doc = (await request(http).get('/api/v1/openapi.json')).body as OpenApi;
  });
  afterAll(async () => {
    await api?.close();
    await env?.close();
  });

  it('answers every operation for every caller exactly as the document says', async () => {
    const rows: { op: string; caller: Caller; status: number; problem?: string }[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const isPublic = Array.isArray(op.security) && op.security.length === 0;
        const least = op['x-fabrica-role'];
        if (!isPublic)
          expect({ op: `${method} ${path}`, least }).toEqual({
            op: `${method} ${path}`,
            least: expect.stringMatching(/^(viewer|operator|admin)$/),
          });
        for (const caller of ['none', ...ROLES] as Caller[]) {
          let req = request(http)[method as 'get' | 'post' | 'delete'](fill(path));
          if (caller !== 'none') req = req.set('X-API-Key', api.keys[caller]);
          // An empty JSON object: a caller let through gets the handler's 400/404, never a side effect.
          const res = method === 'get' ? await req : await req.set('Content-Type', 'application/json').send('{}');
          const documented = Object.keys(op.responses).includes(String(res.status));
          let problem: string | undefined;
          if (!documented) problem = `status ${res.status} is not documented`;
          else if (res.status >= 500 && res.status !== 503) problem = `status ${res.status}`;
          else if (isPublic) {
            if (res.status === 401 || res.status === 403) problem = `public, but ${res.status}`;
          } else if (caller === 'none') {
            if (res.status !== 401) problem = `no key, but ${res.status}`;
          } else if (ROLES.indexOf(caller) < ROLES.indexOf(least as (typeof ROLES)[number])) {
            if (res.status !== 403) problem = `${caller} is below ${least}, but ${res.status}`;
            else if (!String(res.body.message).includes(`needs the ${least} role`))
              problem = `403 without naming the role: ${res.body.message}`;
          } else if (res.status === 401 || res.status === 403) problem = `${caller} may, but ${res.status}`;
          rows.push({ op: `${method.toUpperCase()} ${path}`, caller, status: res.status, problem });
        }
      }
    }
    expect(rows.filter((r) => r.problem).map((r) => `${r.op} as ${r.caller}: ${r.problem}`)).toEqual([]);
    // The matrix covered the whole document, and each role boundary was crossed somewhere.
    expect(rows).toHaveLength(operations * 4);
    expect(operations).toBeGreaterThan(40);
    for (const [caller, status] of [
      ['viewer', 403],
      ['operator', 403],
      ['none', 401],
    ] as const)
      expect(rows.some((r) => r.caller === caller && r.status === status)).toBe(true);
  });
});
