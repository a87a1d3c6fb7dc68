/**
 * How long an API call waits on Temporal before answering 503 with `Retry-After`: long enough for a busy server,
 * short enough that an unreachable one is a prompt, clear answer rather than the SDK's long retry loop.
 */
export const TEMPORAL_DEADLINE_MS = 10_000;
