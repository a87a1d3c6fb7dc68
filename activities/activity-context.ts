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
