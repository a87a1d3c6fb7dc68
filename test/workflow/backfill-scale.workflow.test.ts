import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { backfillProgressQuery, type BackfillProgress } from '../../workflows/backfill-messages.js';
import { backfillWorkflow } from '../../workflows/backfill.workflow.js';
import { factoryMachineSignals as spec } from '../../workflows/pipelines/factory-machine-signals.pipeline.js';
import type { IngestResult, PipelineActivities, RunContext } from '../../workflows/steps.js';
import { testServices } from '../support/services.js';

/**
 * Fault matrix row 10: a backfill of many partitions on the real dev server, whose history limit is
 * lowered for the tests (`limit.historyCount.suggestContinueAsNew` = 600 events, global setup): it completes,
 * continues as new many times, its progress never goes backwards, and no partition runs twice. The workflows are
 * the real ones; the partitions' activities are instant stand-ins (the data is already published, so each run is
 * ingest → unchanged), because this row is about orchestration at scale — real steps are proved by the other rows.
 */
/**
 * 15 machines × 12 working hours × `FABRICA_BACKFILL_SCALE_DAYS` working days (default 3: 540 partitions, what CI
 * affords at today's orchestration speed — about 4 partitions/s on this machine; 28 days make the 5,040).
 */
const DAYS = Number(process.env.FABRICA_BACKFILL_SCALE_DAYS ?? 3);
const TOTAL = 15 * 12 * DAYS;
const TO = (() => {
  const d = new Date('2026-09-01T00:00:00Z');
  for (let left = DAYS - 1; left > 0;) {
    d.setUTCDate(d.getUTCDate() + 1);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) left--;
  }
  return `${d.toISOString().slice(0, 10)}T17`;
})();

describe('a large backfill under lowered history limits', () => {
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address: testServices().temporalAddress });
    client = new Client({ connection });
  });
  afterAll(() => connection.close());

  it('completes across many continue-as-new runs, progress monotonic, every partition run exactly once', async () => {
    const runs = new Map<string, number>();
    const ingest = async ({ ctx }: { ctx: RunContext }): Promise<IngestResult> => {
      runs.set(ctx.partition, (runs.get(ctx.partition) ?? 0) + 1);
      return {
        sourceKey: `${ctx.partition}.txt`,
        rawKey: 'r',
        sha256: 'ab'.repeat(32),
        bytes: 1,
        alreadyPublished: true,
      };
    };
    const unused = (name: string) => () => Promise.reject(new Error(`${name} must not run for a published partition`));
    const activities: PipelineActivities & { selectPartitions: () => Promise<string[]> } = {
      recordRunStarted: async () => undefined,
      ingestPartition: ingest,
      stagePartition: unused('stage'),
      transformPartition: unused('transform'),
      loadPartition: unused('load'),
      servePartition: unused('serve'),
      recordRunFinished: async () => undefined,
      applyServeHandoff: unused('applyServeHandoff'),
      finishServe: unused('finishServe'),
      selectPartitions: unused('selectPartitions'),
    };
    const taskQueue = `bf-scale-${randomUUID()}`;
    const native = await NativeConnection.connect({ address: testServices().temporalAddress });
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowBundle: { codePath: testServices().workflowBundle },
      activities,
      maxConcurrentWorkflowTaskExecutions: 40,
    });
    try {
      const seen: BackfillProgress[] = [];
      const result = await worker.runUntil(async () => {
        // 15 machines × 12 working hours × 28 working days = 5,040 partitions.
        const handle = await client.workflow.start(backfillWorkflow, {
          workflowId: `bf-scale-${taskQueue}`,
          taskQueue,
          args: [{ backfillId: 'scale', spec, from: '2026-09-01T06', to: TO, mode: 'all', maxConcurrency: 48 }],
        });
        const watching = (async () => {
          for (;;) {
            const p = await handle.query(backfillProgressQuery).catch(() => undefined);
            if (p) seen.push(p);
            if (p?.status === 'completed') return;
            const d = await handle.describe();
            if (d.status.name !== 'RUNNING' && d.status.name !== 'CONTINUED_AS_NEW') return;
            await new Promise((r) => setTimeout(r, 1000));
          }
        })();
        const r = await handle.result();
        await watching;
        return r;
      });
      expect(result).toMatchObject({
        status: 'completed',
        total: TOTAL,
        done: TOTAL,
        failed: 0,
        remaining: 0,
        running: 0,
      });
      expect(result.workflowRuns).toBeGreaterThan(2);
      // Every partition ran once: none twice, none lost across the continue-as-new hand-overs.
      expect(runs.size).toBe(TOTAL);
      expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
      // Progress, as any client polling it sees it, never goes backwards — including across continue-as-new.
      expect(seen.length).toBeGreaterThan(5);
      const backwards = seen.filter((p, i) => i > 0 && (p.done < seen[i - 1]!.done || p.total !== TOTAL));
      expect(backwards).toEqual([]);
      expect(new Set(seen.map((p) => p.workflowRuns)).size).toBeGreaterThan(1);
    } finally {
      await native.close();
    }
  }, 900_000);
});
