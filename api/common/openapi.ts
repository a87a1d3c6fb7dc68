import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = {
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
  [extension: `x-${string}`]: unknown;
};

/** Vendor extension the {@link Public} decorator leaves on an operation: it needs no key. */
export const PUBLIC_EXTENSION = 'x-fabrica-public';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * Documents the answers every operation can give besides its own, as the server really gives them: the global
 * guard (401 no or unknown key, 403 role too low, 429 rate limit with `Retry-After`), validation (400 naming the
 * field, for any operation with parameters or a body), the body checks (413 over 64 KB, 415 not JSON), unknown
 * path resources (404), `Idempotency-Key` (409 in flight, 422 reused for another request) and a dependency down
 * (503 with `Retry-After`). Public operations say they need no key (`security: []`).
 */
export function documentCommonAnswers(document: OpenAPIObject): void {
  document.components ??= {};
  document.components.schemas ??= {};
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
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      const responses = (op.responses ??= {});
      const add = (status: string, description: string, headers?: Record<string, unknown>) => {
        responses[status] ??= { description, content: error, ...(headers ? { headers } : {}) };
      };
      const isPublic = op[PUBLIC_EXTENSION] === true;
      delete op[PUBLIC_EXTENSION];
      if (isPublic) op.security = [];
      else {
        add('401', 'No API key, or an unknown one (X-API-Key, Authorization: Bearer, or the dashboard session).');
        add('403', 'The key’s role may not do this; the message names the role needed.');
      }
      add('429', 'Rate limit exceeded.', retryAfter);
      add('503', 'A dependency (Temporal or PostgreSQL) is unavailable; retry later.', retryAfter);
      const params = op.parameters ?? [];
      const hasInput = params.some((p) => p.in === 'path' || p.in === 'query') || op.requestBody !== undefined;
      if (hasInput || method !== 'get') add('400', 'A bad parameter or body; the message names the field.');
      if (params.some((p) => p.in === 'path')) add('404', 'No such resource.');
      if (method !== 'get') {
        add('413', 'The body is over 64 KB.');
        add('415', 'The body is not JSON (Content-Type: application/json).');
        add('409', 'A request with this Idempotency-Key is still running.', retryAfter);
        add('422', 'This Idempotency-Key was used for another request.');
      }
    }
  }
}
