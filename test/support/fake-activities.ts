import type { IngestResult, PipelineActivities, StageResult } from '../../workflows/steps.js';

/** A call the fake activities recorded. */
export interface Call {
  name: keyof PipelineActivities;
  attempt: number;
}

/** Scriptable fakes of the pipeline activities for workflow tests (faults injected per step). */
export function fakeActivities(script: {
  failures?: Partial<Record<keyof PipelineActivities, (attempt: number) => Error | undefined>>;
  alreadyPublished?: boolean;
}) {
  const calls: Call[] = [];
  const counts = new Map<string, number>();
  const outcomes: unknown[] = [];
  const step =
    <T>(name: keyof PipelineActivities, value: T) =>
    async (input?: unknown): Promise<T> => {
      const attempt = (counts.get(name) ?? 0) + 1;
      counts.set(name, attempt);
      calls.push({ name, attempt });
      if (name === 'recordRunFinished') outcomes.push((input as { outcome: unknown }).outcome);
      const failure = script.failures?.[name]?.(attempt);
      if (failure) throw failure;
      return value;
    };
  const ingest: IngestResult = {
    sourceKey: 'M07_20261120T10.txt',
    rawKey: 'raw/x',
    sha256: 'ab'.repeat(32),
    bytes: 10,
    alreadyPublished: script.alreadyPublished ?? false,
  };
  const stage: StageResult = {
    stagedKey: 's',
    quarantineKey: 'q',
    profileKey: 'p',
    dataLines: 1,
    rows: 1,
    quarantined: 0,
    duplicates: 0,
    quarantinedByReason: {},
    encoding: 'utf-8',
    extraColumns: [],
    facts: { firmware: '2.4.1' },
    window: { start: '2026-11-20T13:00:00.000Z', end: '2026-11-20T14:00:00.000Z', date: '2026-11-20' },
  };
  const activities: PipelineActivities = {
    recordRunStarted: step('recordRunStarted', undefined),
    ingestPartition: step('ingestPartition', ingest),
    stagePartition: step('stagePartition', stage),
    transformPartition: step('transformPartition', { outputs: {} }),
    loadPartition: step('loadPartition', { status: 'loaded' as const, rows: {} }),
    servePartition: step('servePartition', { outputs: {}, dependents: [] }),
    recordRunFinished: step('recordRunFinished', undefined),
    applyServeHandoff: step('applyServeHandoff', { applied: true, rows: 0, attempt: 1 }),
    finishServe: step('finishServe', { outputs: {}, dependents: [] }),
  };
  return { activities, calls, outcomes };
}
