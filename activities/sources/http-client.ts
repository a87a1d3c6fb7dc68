import { ApplicationFailure } from '@temporalio/common';
import type { HttpJsonSourceSpec } from '../../workflows/sources/spec.js';
import { cancellationSignal, heartbeat, throwIfCancelled } from '../activity-context.js';

/** The request policy of an HTTP source. */
export type RequestPolicy = HttpJsonSourceSpec['request'];

/**
 * When to retry after a `429`, from its `Retry-After` header: delay-seconds or an HTTP date, as an epoch-ms instant;
 * undefined when absent or unreadable (the normal backoff applies then).
 */
export function retryAfterInstant(header: string | null, receivedAtMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return receivedAtMs + Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(receivedAtMs, date) : undefined;
}

/** Exponential backoff before attempt `attempt + 1`: initial × 2^(attempt-1), capped. */
export function backoffMs(policy: RequestPolicy, attempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
}

/** Waits until the epoch-ms instant `until` (by the wall clock), heartbeating; throws when the activity is cancelled. */
async function sleepUntil(until: number, details: unknown): Promise<void> {
  const signal = cancellationSignal();
  while (Date.now() < until) {
    throwIfCancelled();
    heartbeat(details);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(until - Date.now(), 1000));
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }
  throwIfCancelled();
}

/** A request that will not be retried inside the activity (the activity fails; Temporal may retry it later). */
class GaveUp extends Error {
  override name = 'GaveUp';
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 197)}...` : flat;
}

/**
 * GETs `url` and returns the body of a 2xx response. Each attempt has its own timeout; 5xx, 408, timeouts and
 * connection errors are retried with exponential backoff, a 429 after its `Retry-After` (or the backoff), up to
 * `maxAttempts` attempts in all; then the activity fails retryably and Temporal's retry policy takes over. Any other
 * 4xx is refused for good (`SourceRequestRejected`): repeating the request cannot change the answer.
 * @param label how the request is named in errors (never contains the base URL, which may carry credentials)
 */
export async function getWithRetries(url: URL, policy: RequestPolicy, label: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    throwIfCancelled();
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    let reason: string;
    let retryAt: number | undefined;
    try {
      const res = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.any([timeout, cancellationSignal()]),
      });
      const body = await res.text();
      const receivedAt = Date.now();
      if (res.ok) return body;
      if (res.status === 429) {
        const header = res.headers.get('retry-after');
        retryAt = retryAfterInstant(header, receivedAt);
        if (retryAt !== undefined && retryAt - receivedAt > policy.maxRetryAfterSeconds * 1000)
          throw new GaveUp(`${label}: 429 with Retry-After ${header}, longer than ${policy.maxRetryAfterSeconds} s`);
        reason = `429 Too Many Requests (Retry-After ${header ?? 'absent'})`;
      } else if (res.status >= 500 || res.status === 408) {
        reason = `HTTP ${res.status}`;
      } else {
        throw ApplicationFailure.nonRetryable(
          `${label}: HTTP ${res.status}: ${preview(body)}`,
          'SourceRequestRejected',
          { status: res.status },
        );
      }
    } catch (err) {
      if (err instanceof ApplicationFailure || err instanceof GaveUp || cancellationSignal().aborted) throw err;
      reason = timeout.aborted
        ? `timed out after ${policy.timeoutMs} ms`
        : `connection error: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`;
    }
    if (attempt >= policy.maxAttempts)
      throw new GaveUp(`${label}: gave up after ${attempt} attempts (last: ${reason})`);
    await sleepUntil(retryAt ?? Date.now() + backoffMs(policy, attempt), { label, attempt, reason });
  }
}
