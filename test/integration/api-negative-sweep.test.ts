import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { createTestApi, type TestApi } from '../support/api-app.js';
import { createTestEnv, type FabricaTestEnv } from '../support/fabrica-env.js';

/** The parts of an OpenAPI 3 document the sweep reads. */
interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/** One hostile request and how it was built (for the failure report). */
interface Probe {
  label: string;
  method: string;
  url: string;
  key: 'admin' | 'none';
  headers?: Record<string, string>;
  /** Sent as it is (raw text), or JSON-encoded when an object. */
  body?: string | Buffer | object | null;
  contentType?: string;
  /** The one status this probe must get, where the input decides it whatever the handler. */
  expect?: number;
}

// Strings that break naive code: Unicode edge cases and injection-looking input.
const HOSTILE_STRINGS = [
  '',
  ' ',
  'e\u0301\u0302\u0303\u0304\u0305',
  '\u202Eevil\u202C',
  '\u05E9\u05DC\u05D5\u05DD',
  '🏭💥👩🏽‍🔧',
  'a\u0000b',
  '\u0000',
  '\uD800',
  'x\uDC00y',
  "'; DROP TABLE x;--",
  '../../etc/passwd',
  '%00',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '{{7*7}}',
  'M07@2026-11-20T10\u0000',
  'M07@2026-11-20T10\n',
  'x'.repeat(5_000),
];

// Path and query segments sent as they are: broken or tricky percent-encodings.
const RAW_SEGMENTS = ['%', '%FF', '%E0%A4%A', '%ED%A0%80', '%00', '..', '.', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%252e'];

/** Percent-encodes a string; lone surrogates (which `encodeURIComponent` refuses) become their CESU-8 bytes. */
function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return Array.from(s, (ch) => {
      const c = ch.charCodeAt(0);
      if (c < 0xd800 || c > 0xdfff) return encodeURIComponent(ch);
      return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    }).join('');
  }
}

/** A value of every JSON type. */
const TYPED: Record<string, unknown> = {
  string: 'x',
  number: 42.5,
  integer: 42,
  boolean: true,
  array: [1, 'a', null],
  object: { a: 1 },
  null: null,
};

/** Values of the wrong type (or an impossible value) for a field of `schema`, plus every hostile string. */
function wrongValues(schema: Schema): unknown[] {
  const type = schema.type ?? 'object';
  const numeric = type === 'integer' || type === 'number';
  // 42.5 is the wrong value for an integer; for a number field, both numbers are right.
  const right = type === 'number' ? ['number', 'integer'] : [type];
  const wrong = Object.entries(TYPED)
    .filter(([t]) => !right.includes(t))
    .map(([, v]) => v);
  const extra: unknown[] = [];
  if (numeric) extra.push(-1, 0, 1.5, 1e308, -1e308, 2 ** 53 + 1, '1', '0x10');
  if (type === 'array')
    extra.push(
      [[['deep']]],
      [42],
      [null],
      [{}],
      Array.from({ length: 1_000 }, () => 'M01'),
    );
  if (type === 'boolean') extra.push('true', 1, 0);
  const hostile = type === 'array' ? HOSTILE_STRINGS.map((s) => [s]) : HOSTILE_STRINGS;
  return [...wrong, ...extra, ...hostile];
}

/**
 * A plausible value for a path parameter, so each mutation is tested on a path that reaches the handler (unknown
 * parameters get the schema's example, or "x").
 */
function plausiblePathValue(path: string, p: Parameter): string {
  if (p.name === 'runId') return '00000000-0000-0000-0000-000000000000';
  if (p.name === 'partition') return 'M13@2025-03-04T05';
  if (path.startsWith('/api/v1/pipelines/{id}')) return 'factory-machine-signals';
  if (path.startsWith('/api/v1/backfills/{id}'))
    return 'bf-factory-machine-signals-2025-03-04T05-2025-03-04T05-00000000';
  if (path.startsWith('/api/v1/schedules/{id}')) return 'hourly:factory-machine-signals';
  if (path.startsWith('/api/v1/datasets/{name}')) return 'machine_yield_hourly';
  return typeof p.schema?.example === 'string' ? p.schema.example : 'x';
}

/**
 * Bodies known to be valid and cheap: the sweep's baselines, so that each mutation breaks exactly one thing. A dry
 * run of one hour of one machine runs nothing; other operations get a body built from their schema's examples.
 */
const BASELINE_BODIES: Record<string, object> = {
  'post /api/v1/pipelines/{id}/runs': { partition: 'M13@2025-03-04T05', force: false },
  'post /api/v1/pipelines/{id}/backfills': {
    from: '2025-03-04T05',
    to: '2025-03-04T05',
    machines: ['M13'],
    maxConcurrency: 1,
    mode: 'dry-run',
    dryRun: true,
  },
};

/** Maps `items` through `fn` with at most `limit` calls in flight. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * Every operation of the OpenAPI document, fed hostile input: wrong types, missing and unknown fields, huge, deep,
 * malformed and mislabelled bodies, Unicode and injection-looking strings in path, query and body, with an admin key
 * (so authorization hides no handler bug) and without a key. No answer may be a 5xx; every error is JSON with a
 * message and the request id.
 */
describe('REST API: negative sweep over the OpenAPI document', () => {
  let env: FabricaTestEnv;
  let api: TestApi;
  let http: App;
  let doc: OpenApi;

  beforeAll(async () => {
    env = await createTestEnv('apineg');
    // A polling worker: health is then 200, and backfill progress queries are answered.
    await env.startWorker();
    api = await createTestApi(env, { FABRICA_RATE_LIMIT_PER_MINUTE: '1000000' });
    http = api.app.getHttpServer();
    const res = await request(http).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApi;
  });
  afterAll(async () => {
    await api?.close();
    await env?.close();
  });

  const resolve = (s: Schema | undefined): Schema | undefined =>
    s?.$ref ? doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')] : s;

  /** A valid-looking value for a schema, from its example, default, enum or type. */
  function sample(s: Schema | undefined): unknown {
    const schema = resolve(s);
    if (!schema) return {};
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (schema.enum?.length) return schema.enum[0];
    switch (schema.type) {
      case 'string':
        return 'x';
      case 'integer':
      case 'number':
        return schema.minimum ?? 1;
      case 'boolean':
        return false;
      case 'array':
        return [sample(schema.items)];
      default:
        return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sample(v)]));
    }
  }

  /** Every probe of one operation. */
  function probes(method: string, path: string, op: Operation): Probe[] {
    const params = op.parameters ?? [];
    const pathParams = params.filter((p) => p.in === 'path');
    const queryParams = params.filter((p) => p.in === 'query');
    const fill = (override: Record<string, string> = {}) =>
      path.replace(/\{(\w+)\}/g, (_, name: string) => {
        if (name in override) return override[name]!;
        const p = pathParams.find((q) => q.name === name) ?? { name, in: 'path' as const };
        return encode(plausiblePathValue(path, p));
      });
    const bodySchema = resolve(op.requestBody?.content?.['application/json']?.schema);
    const baseline: Record<string, unknown> | undefined = bodySchema
      ? ((BASELINE_BODIES[`${method} ${path}`] as Record<string, unknown> | undefined) ??
        (sample(bodySchema) as Record<string, unknown>))
      : undefined;
    const url = fill();
    const base = { method, url, key: 'admin' as const, ...(baseline ? { body: baseline } : {}) };
    const out: Probe[] = [
      { ...base, label: 'baseline' },
      { ...base, key: 'none', label: 'baseline without a key' },
    ];
    for (const p of pathParams) {
      const values = [...HOSTILE_STRINGS.map(encode), ...RAW_SEGMENTS];
      for (const v of values) {
        out.push({ ...base, url: fill({ [p.name]: v }), label: `path ${p.name}=${v.slice(0, 40)}` });
        if (v === values[0] || v === '%FF' || v === "'%3B%20DROP%20TABLE%20x%3B--")
          out.push({ ...base, url: fill({ [p.name]: v }), key: 'none', label: `path ${p.name}=${v} without a key` });
      }
    }
    const queryTargets = [...queryParams.map((p) => p.name), 'zzzUnknown'];
    for (const name of queryTargets) {
      const values = [
        ...HOSTILE_STRINGS.map(encode),
        ...RAW_SEGMENTS,
        '-1',
        '0',
        '1.5',
        '1e400',
        '9'.repeat(400),
        'NaN',
        'true',
      ];
      for (const v of values)
        out.push({ ...base, url: `${url}?${encode(name)}=${v}`, label: `query ${name}=${v.slice(0, 40)}` });
      out.push({ ...base, url: `${url}?${name}=a&${name}=b`, label: `query ${name} twice (array)` });
      out.push({ ...base, url: `${url}?${name}[a]=b`, label: `query ${name}[a] (object)` });
      out.push({ ...base, url: `${url}?${name}[]=1`, label: `query ${name}[] (array)` });
      out.push({ ...base, url: `${url}?${name}[__proto__][x]=1`, label: `query ${name}[__proto__]` });
    }
    if (method !== 'get') {
      // Whatever the operation accepts, its body is parsed before anything else: these are refused for all.
      const deepObject = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
      const deepArray = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
      const raw: [string, string | Buffer, string | undefined, number | undefined][] = [
        ['invalid JSON', '{"partition":', undefined, 400],
        ['single-quoted JSON', "{'a': 1}", undefined, 400],
        ['trailing garbage', '{"a":1} x', undefined, 400],
        ['empty JSON body', '', undefined, undefined],
        ['JSON null', 'null', undefined, 400],
        ['JSON string', '"x"', undefined, 400],
        ['JSON number', '42', undefined, 400],
        ['JSON array', '[1,2]', undefined, undefined],
        ['deeply nested object', deepObject, undefined, 400],
        ['deeply nested array', deepArray, undefined, 400],
        ['huge body', JSON.stringify({ ...baseline, pad: 'x'.repeat(70_000) }), undefined, 413],
        ['NUL bytes', Buffer.from([0x7b, 0x00, 0x00, 0x7d]), undefined, 400],
        [
          'invalid UTF-8',
          Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
          undefined,
          undefined,
        ],
        ['text/plain', JSON.stringify(baseline ?? {}), 'text/plain', 415],
        ['form', 'partition=M13%402025-03-04T05', 'application/x-www-form-urlencoded', 415],
        ['XML', '<run><partition>M13@2025-03-04T05</partition></run>', 'application/xml', 415],
        ['bogus content-type', JSON.stringify(baseline ?? {}), 'x/x;;;=', 415],
        ['latin1 charset', JSON.stringify(baseline ?? {}), 'application/json; charset=latin1', 415],
        ['utf-16 charset', JSON.stringify(baseline ?? {}), 'application/json; charset=utf-16', undefined],
      ];
      for (const [label, body, contentType, status] of raw) {
        const probe = { ...base, body, contentType: contentType ?? 'application/json', label, expect: status };
        out.push(probe);
        // The body is read before the API key is checked: the same answers without a key.
        if (status !== undefined) out.push({ ...probe, key: 'none', label: `${label} without a key` });
      }
      for (const [encoding, status] of [
        ['gzip', 400],
        ['x-unknown', 415],
      ] as const)
        out.push({
          ...base,
          body: '{"a":1}',
          contentType: 'application/json',
          headers: { 'Content-Encoding': encoding },
          label: `Content-Encoding ${encoding} (not so)`,
          expect: status,
        });
      for (const k of ['', 'x'.repeat(256), 'é', 'tab\there'])
        out.push({
          ...base,
          headers: { 'Idempotency-Key': k },
          label: `Idempotency-Key ${JSON.stringify(k.slice(0, 20))}`,
          expect: 400,
        });
    }
    if (bodySchema && baseline) {
      // Each of these breaks the body: the validator must refuse it with a 400 (null is "absent" for optional fields).
      const props = bodySchema.properties ?? {};
      const required = bodySchema.required ?? [];
      const refused = (label: string, body: string | object): Probe => ({
        ...base,
        body,
        contentType: 'application/json',
        label,
        expect: 400,
      });
      for (const [field, fieldSchema] of Object.entries(props)) {
        const schema = resolve(fieldSchema) ?? {};
        for (const v of wrongValues(schema)) {
          const label = `body ${field}=${JSON.stringify(v)?.slice(0, 40)}`;
          if (v === null && !required.includes(field)) out.push({ ...base, body: { ...baseline, [field]: v }, label });
          else out.push(refused(label, { ...baseline, [field]: v }));
        }
        const asText = JSON.stringify(baseline).slice(1, -1);
        const sep = asText ? ',' : '';
        out.push(
          refused(
            `body ${field} nested 5000 deep`,
            `{${JSON.stringify(field)}: ${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
          ),
        );
        out.push(refused(`body ${field}=1e400`, `{${asText}${sep}${JSON.stringify(field)}:1e400}`));
        // The last of duplicated names is the one validated and used: a wrong-typed last one is refused.
        out.push(refused(`body ${field} duplicated`, `{${asText}${sep}${JSON.stringify(field)}:{"dup":[1]}}`));
      }
      for (const field of required) {
        const { [field]: _, ...rest } = baseline;
        out.push(refused(`body without required ${field}`, rest));
      }
      const asText = JSON.stringify(baseline).slice(1, -1);
      const sep = asText ? ',' : '';
      for (const extra of ['"zzzUnknown":1', '"__proto__":{"polluted":1}', '"constructor":{"prototype":{"x":1}}'])
        out.push(refused(`body extra ${extra}`, `{${asText}${sep}${extra}}`));
      out.push(refused('body extra hostile key', { ...baseline, [`k${'\u0000'}\uD800`]: 1 }));
      if (required.length) out.push(refused('empty object', {}));
    }
    // Hostile credentials and request ids: never a 5xx either.
    out.push({
      ...base,
      key: 'none',
      headers: { 'X-API-Key': `fab_${"'; DROP TABLE x;--"}` },
      label: 'hostile API key',
    });
    out.push({ ...base, key: 'none', headers: { Authorization: 'Bearer ' }, label: 'empty bearer' });
    out.push({ ...base, key: 'none', headers: { Authorization: `Bearer ${'x'.repeat(8_000)}` }, label: 'huge bearer' });
    out.push({ ...base, headers: { 'X-Request-Id': '<script>' }, label: 'hostile request id' });
    return out;
  }

  async function send(p: Probe): Promise<request.Response> {
    let req = request(http)[p.method as 'get' | 'post' | 'put' | 'patch' | 'delete'](p.url);
    if (p.key === 'admin') req = req.set('X-API-Key', api.keys.admin);
    for (const [k, v] of Object.entries(p.headers ?? {})) req = req.set(k, v);
    if (p.body === undefined) return req;
    if (p.contentType) req = req.set('Content-Type', p.contentType);
    // Raw bytes as they are (superagent would otherwise send a Buffer as its JSON rendering).
    if (Buffer.isBuffer(p.body)) return req.serialize((b: unknown) => b as string).send(p.body);
    if (typeof p.body === 'string') return req.send(p.body);
    return req.send(p.body as object);
  }

  /** What is wrong with one answer, or undefined when it is acceptable. */
  function problem(p: Probe, res: request.Response): string | undefined {
    if (res.status >= 500) return `status ${res.status}`;
    if (p.expect !== undefined && res.status !== p.expect)
      return `status ${res.status}, not ${p.expect}: ${res.text.slice(0, 160)}`;
    if (res.status < 200 || (res.status >= 300 && res.status < 400)) return `unexpected status ${res.status}`;
    if (JSON.stringify(res.body ?? '').includes(api.keys.admin)) return 'echoes the API key';
    if (res.status < 400) return undefined;
    if (!/application\/json/.test(String(res.headers['content-type'])))
      return `error is not JSON: ${res.text.slice(0, 80)}`;
    const body = res.body as { statusCode?: unknown; message?: unknown; requestId?: unknown };
    const message = body.message;
    const hasMessage =
      (typeof message === 'string' && message.length > 0) ||
      (Array.isArray(message) && message.length > 0 && message.every((m) => typeof m === 'string'));
    if (!hasMessage) return `error without a message: ${res.text.slice(0, 120)}`;
    if (body.statusCode !== res.status) return `statusCode ${String(body.statusCode)} in a ${res.status}`;
    if (body.requestId !== res.headers['x-request-id']) return 'error body without the request id';
    return undefined;
  }

  it('answers every hostile request with a 2xx or a 4xx JSON error, never a 5xx', async () => {
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      ['get', 'post', 'put', 'patch', 'delete'].filter((m) => item[m]).map((m) => ({ method: m, path, op: item[m]! })),
    );
    // The document covers the API's operations (runs, backfills, schedules, datasets...), not just a few.
    expect(ops.length).toBeGreaterThanOrEqual(15);
    const all = ops.flatMap(({ method, path, op }) => probes(method, path, op));
    const failures = (
      await pool(all, 6, async (p) => {
        const res = await send(p);
        const why = problem(p, res);
        return why && `${p.method.toUpperCase()} ${p.url.slice(0, 120)} [${p.label}, key: ${p.key}]: ${why}`;
      })
    ).filter((f): f is string => Boolean(f));
    expect(failures).toEqual([]);
    // The sweep exercised refusals, not just happy paths.
    expect(all.length).toBeGreaterThan(1_000);
  });
});
