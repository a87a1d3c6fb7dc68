import { Context } from '@temporalio/activity';

/** The current activity's context, or undefined when the code runs outside an activity (unit tests, benchmarks). */
function current(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats progress details (the SDK throttles the actual RPCs). */
export function heartbeat(details?: unknown): void {
  current()?.heartbeat(details);
}

/** Signal aborted when the activity is cancelled or its worker shuts down; never aborted outside an activity. */
export function cancellationSignal(): AbortSignal {
  return current()?.cancellationSignal ?? new AbortController().signal;
}

/** Attempt number of the running activity (1 outside an activity). */
export function attempt(): number {
  return current()?.info.attempt ?? 1;
}

/** Throws the cancellation reason when the activity was cancelled (call it in long loops next to `heartbeat`). */
export function throwIfCancelled(): void {
  const signal = current()?.cancellationSignal;
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('activity cancelled');
}

/** Logs a warning through the activity's logger (the worker's structured log); nothing outside an activity. */
export function warn(message: string, attrs: Record<string, unknown> = {}): void {
  current()?.log.warn(message, attrs);
}

/**
 * Heartbeats every few seconds while `work` runs, for steps made of a few long statements rather than a loop: a
 * dead or frozen worker is then noticed within the heartbeat timeout instead of at the end of start-to-close.
 */
export async function withLiveness<T>(work: () => Promise<T>, everyMs = 5000): Promise<T> {
  if (!current()) return work();
  const timer = setInterval(() => heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
