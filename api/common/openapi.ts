import { HttpException } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';

type Operation = {
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
  [extension: `x-${string}`]: unknown;
};

/** Vendor extension the {@link Public} decorator leaves on an operation: it needs no key. */
export const PUBLIC_EXTENSION = 'x-fabrica-public';

/**
 * Vendor extension naming the least role an operation needs (`viewer`, `operator`, `admin`): the {@link MinRole}
 * decorator's, else the guard's default (GET: viewer, other methods: operator). Kept in the published document.
 */
export const ROLE_EXTENSION = 'x-fabrica-role';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * Documents the answers every operation can give besides its own, as the server really gives them: the global
 * guard (401 no or unknown key, 403 role too low, 429 rate limit with `Retry-After`), validation (400 naming the
 * field, for any operation with parameters or a body), the body checks (413 over 64 KB, 415 not JSON), unknown
 * path resources (404), `Idempotency-Key` (409 in flight, 422 reused for another request) and a dependency down
 * (503 with `Retry-After`). Public operations say they need no key (`security: []`), as does the metrics endpoint
 * unless `FABRICA_METRICS_PUBLIC=false`. Body schemas say unknown fields are refused (`additionalProperties: false`).
 */
export function documentCommonAnswers(document: OpenAPIObject, options: { metricsPublic: boolean }): void {
  document.components ??= {};
  document.components.schemas ??= {};
  // Bodies are validated with unknown fields refused (forbidNonWhitelisted), and an optional field sent as null is
  // taken as absent (class-validator's IsOptional): say both in every body schema.
  for (const schema of Object.values(document.components.schemas) as Record<string, unknown>[]) {
    if (schema.type !== 'object') continue;
    schema.additionalProperties ??= false;
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>))
      if (!required.has(name) && !property.$ref) property.nullable = true;
  }
  document.components.schemas.Error = {
    type: 'object',
    required: ['statusCode', 'error', 'message'],
    properties: {
      statusCode: { type: 'integer' },
      error: { type: 'string' },
      message: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      requestId: { type: 'string' },
    },
  };
  const error = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  const retryAfter = { 'Retry-After': { schema: { type: 'integer', minimum: 1 }, description: 'Seconds to wait.' } };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      const responses = (op.responses ??= {});
      const add = (status: string, description: string, headers?: Record<string, unknown>) => {
        responses[status] ??= { description, content: error, ...(headers ? { headers } : {}) };
      };
      const isPublic = op[PUBLIC_EXTENSION] === true || (path.endsWith('/metrics') && options.metricsPublic);
      delete op[PUBLIC_EXTENSION];
      if (isPublic) {
        op.security = [];
        delete op[ROLE_EXTENSION];
      } else {
        op[ROLE_EXTENSION] ??= method === 'get' ? 'viewer' : 'operator';
        add('401', 'No API key, or an unknown one (X-API-Key, Authorization: Bearer, or the dashboard session).');
        add('403', `Needs the ${String(op[ROLE_EXTENSION])} role or above; the message names it.`);
      }
      add('429', 'Rate limit exceeded.', retryAfter);
      add('503', 'A dependency (Temporal or PostgreSQL) is unavailable; retry later.', retryAfter);
      const params = op.parameters ?? [];
      const hasInput = params.some((p) => p.in === 'path' || p.in === 'query') || op.requestBody !== undefined;
      if (hasInput || method !== 'get')
        add('400', 'A parameter or body not as documented; the message names the field.');
      const unusable =
        'Well-formed, but the values cannot be used (an impossible date, a partition of another kind, an inverted or too long range, an unknown name); the message names the field.';
      const reused = 'This Idempotency-Key was used for another request.';
      if (hasInput || method !== 'get')
        add('422', [hasInput ? unusable : '', method !== 'get' ? reused : ''].filter(Boolean).join(' Or: '));
      if (params.some((p) => p.in === 'path')) add('404', 'No such resource.');
      if (method !== 'get') {
        add('413', 'The body is over 64 KB.');
        add('415', 'The body is not JSON (Content-Type: application/json).');
        add('409', 'A request with this Idempotency-Key is still running.', retryAfter);
      }
    }
  }
}

/** Path templates of the document as matchers, with the methods each one has. */
export function documentedMethods(document: OpenAPIObject): { pattern: RegExp; methods: string[] }[] {
  return Object.entries(document.paths).map(([path, item]) => ({
    pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
    methods: METHODS.filter((m) => (item as Record<string, unknown>)[m] !== undefined).map((m) => m.toUpperCase()),
  }));
}

/**
 * A middleware answering 405 with `Allow` for a method a documented path does not have (instead of a 404 that
 * says the path does not exist). HEAD is allowed where GET is; OPTIONS is left to the router. The matchers are
 * read through `paths()`, filled once the document is built.
 */
export function methodNotAllowed(paths: () => { pattern: RegExp; methods: string[] }[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'OPTIONS') return next();
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const route = paths().find((p) => p.pattern.test(req.path));
    if (!route || route.methods.includes(method)) return next();
    res.setHeader('Allow', [...route.methods, ...(route.methods.includes('GET') ? ['HEAD'] : [])].join(', '));
    next(new HttpException(`${req.method} is not allowed here; allowed: ${route.methods.join(', ')}`, 405));
  };
}

/** `[from path, method, status, link name, target operationId, parameters]`: how answers lead to other operations. */
const LINKS: [string, string, string, string, string, Record<string, string>][] = [
  ['/api/v1/pipelines', 'get', '200', 'GetPipeline', 'PipelinesController_get', { id: '$response.body#/0/id' }],
  ['/api/v1/pipelines', 'get', '200', 'StartRun', 'RunsController_start', { id: '$response.body#/0/id' }],
  ['/api/v1/pipelines', 'get', '200', 'StartBackfill', 'BackfillsController_start', { id: '$response.body#/0/id' }],
  ['/api/v1/pipelines/{id}/runs', 'post', '202', 'GetRun', 'RunsController_get', { runId: '$response.body#/runId' }],
  [
    '/api/v1/pipelines/{id}/runs',
    'post',
    '202',
    'CancelRun',
    'RunsController_cancel',
    { runId: '$response.body#/runId' },
  ],
  ['/api/v1/runs', 'get', '200', 'GetRun', 'RunsController_get', { runId: '$response.body#/items/0/runId' }],
  ...(['get', 'pause', 'resume', 'cancel', 'concurrency', 'retryFailed'] as const).map(
    (op): [string, string, string, string, string, Record<string, string>] => [
      '/api/v1/pipelines/{id}/backfills',
      'post',
      '202',
      `Backfill_${op}`,
      `BackfillsController_${op}`,
      { id: '$response.body#/backfillId' },
    ],
  ),
  ...(['get', 'pause', 'resume', 'trigger'] as const).map(
    (op): [string, string, string, string, string, Record<string, string>] => [
      '/api/v1/schedules',
      'get',
      '200',
      `Schedule_${op}`,
      `SchedulesController_${op}`,
      { id: '$response.body#/0/scheduleId' },
    ],
  ),
  ['/api/v1/feature-sets', 'get', '200', 'GetFeatureSet', 'FeaturesController_get', { id: '$response.body#/0/id' }],
  [
    '/api/v1/feature-exports',
    'post',
    '202',
    'GetExport',
    'FeaturesController_getExport',
    { id: '$response.body#/exportId' },
  ],
  ['/api/v1/alerts', 'get', '200', 'GetAlert', 'AlertsController_get', { id: '$response.body#/items/0/id' }],
  ['/api/v1/alerts', 'get', '200', 'AckAlert', 'AlertsController_ack', { id: '$response.body#/items/0/id' }],
  ['/api/v1/alert-silences', 'post', '201', 'ExpireSilence', 'AlertsController_expire', { id: '$response.body#/id' }],
];

/**
 * OpenAPI links from the answers that hand out ids (a run, a backfill, an export, a silence, the lists) to the
 * operations that take them, so that a client (and a stateful fuzzer) can follow them to real resources.
 */
export function documentLinks(document: OpenAPIObject): void {
  const operations = new Set<string>();
  for (const item of Object.values(document.paths))
    for (const method of METHODS) {
      const id = (item as Record<string, { operationId?: string } | undefined>)[method]?.operationId;
      if (id) operations.add(id);
    }
  for (const [path, method, status, name, operationId, parameters] of LINKS) {
    const op = (document.paths[path] as Record<string, Operation | undefined> | undefined)?.[method];
    const response = op?.responses?.[status] as { links?: Record<string, unknown> } | undefined;
    if (!response) throw new Error(`OpenAPI link ${name}: no ${method.toUpperCase()} ${path} answering ${status}`);
    if (!operations.has(operationId)) throw new Error(`OpenAPI link ${name}: no operation ${operationId}`);
    (response.links ??= {})[name] = { operationId, parameters };
  }
}
