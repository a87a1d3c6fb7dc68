import { BadRequestException, HttpException, HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Deepest nesting a request body may have: the API's bodies are flat, and the validator recurses per level. */
export const MAX_JSON_DEPTH = 32;

/** Keys the transformer silently drops (prototype-pollution guard): refused rather than ignored. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * What is wrong with a parsed JSON body, if anything: nesting deeper than `maxDepth` levels, a forbidden key, or a
 * NUL character in a string or a key.
 * Iterative, so a hostile body cannot overflow the stack here.
 */
export function jsonBodyProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    // PostgreSQL text cannot hold U+0000: refused here, for every field, rather than failing deep in a query.
    if (typeof v === 'string' && v.includes('\u0000')) return 'the body may not contain NUL characters (\\u0000)';
    if (typeof v !== 'object' || v === null) continue;
    if (depth > maxDepth) return `the body is nested deeper than ${maxDepth} levels`;
    for (const [key, child] of Object.entries(v)) {
      if (FORBIDDEN_KEYS.has(key)) return `the body may not have a field named ${key}`;
      if (key.includes('\u0000')) return 'the body may not contain NUL characters (\\u0000)';
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Before the JSON parser: a body on a POST, PUT, PATCH or DELETE must be `application/json` (415 otherwise, rather
 * than a body silently ignored and a confusing "field missing").
 */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  if (req.method !== 'GET' && req.method !== 'HEAD' && hasBody(req) && !req.is('application/json'))
    next(new HttpException('the body must be application/json', HttpStatus.UNSUPPORTED_MEDIA_TYPE));
  else next();
}

/**
 * After the JSON parser: refuses a body nested deeper than {@link MAX_JSON_DEPTH} (64 KB of `[[[[…` would exhaust
 * the stack of the recursive transformer and validator: a 500) or with a `__proto__`/`constructor`/`prototype` key.
 */
export function checkJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const problem = jsonBodyProblem(req.body);
  if (problem) next(new BadRequestException(problem));
  else next();
}
