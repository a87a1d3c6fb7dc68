import type pg from 'pg';
import type { BackfillActivities } from '../workflows/backfill.workflow.js';
import type { RelayActivities, SensorActivities } from '../workflows/landing-sensor.workflow.js';
import type { ScheduledActivities } from '../workflows/scheduled.workflow.js';
import type { PipelineActivities } from '../workflows/steps.js';
import type { SourceActivities } from '../workflows/source-sync.workflow.js';
import type { ExportActivities } from '../workflows/feature-export.workflow.js';
import type { AlertActivities } from '../workflows/alert-delivery.workflow.js';
import { createAlertActivities } from './alerts/index.js';
import { alertSinkFor, type AlertConfig } from './alerts/sink.js';
import { createBackfillActivities } from './backfill.js';
import { createExportActivities } from './export.js';
import { Catalog } from './catalog.js';
import { toApplicationFailure } from './failures.js';
import { createIngest } from './ingest.js';
import { createLoad } from './load.js';
import { createSensorActivities } from './sensor.js';
import { createEdgeSourceActivities, createSourceActivities, type SourceConnections } from './sources/index.js';
import { createApplyHandoff, createServe } from './serve.js';
import { createRelayActivities } from './relay.js';
import { createStage } from './stage.js';
import { createSweepActivities } from './sweep.js';
import { createTransform } from './transform.js';
import type { ObjectStore } from './storage/object-store.js';

/** Everything the activities use; injected by the worker, never read from the environment. */
export interface ActivityDeps {
  warehouse: pg.Pool;
  inventory: pg.Pool;
  lake: ObjectStore;
  landing: ObjectStore;
  /** Connections of the external sources (records database, catalog API); absent: none configured. */
  sources?: SourceConnections;
  /** Alert channels and delivery settings; absent: alerts are rows in `ops.alerts` only. */
  alerts?: AlertConfig;
  /** The cloud's landing area an edge worker relays the plant's landing folder into (absent: nothing to relay). */
  relay?: ObjectStore;
}

/** The activities of the edge task queue: the plant's side of the pipelines. */
export type EdgeActivities = RelayActivities &
  Pick<PipelineActivities, 'applyServeHandoff'> &
  Pick<SourceActivities, 'extractSourceAtEdge'>;

/** Every activity the worker registers. */
export type AllActivities = PipelineActivities &
  RelayActivities &
  SensorActivities &
  BackfillActivities &
  ScheduledActivities &
  ExportActivities &
  SourceActivities &
  AlertActivities;

/** Wraps an activity so a data fault leaves it as a non-retryable ApplicationFailure with its stable type. */
function dataFaultsAsFailures<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw toApplicationFailure(err);
    }
  };
}

/**
 * The edge worker's activities, bound to what the plant's network reaches: the landing folder, the lake (outbound),
 * the inventory database, the sources placed at the edge (the records database). Nothing here touches the warehouse.
 */
export function createEdgeActivities(
  deps: Pick<ActivityDeps, 'lake' | 'landing' | 'inventory' | 'relay' | 'sources'>,
): EdgeActivities {
  const activities: EdgeActivities = {
    ...createRelayActivities(deps),
    applyServeHandoff: createApplyHandoff({ lake: deps.lake, targets: { inventory: deps.inventory } }),
    ...createEdgeSourceActivities(deps),
  };
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      dataFaultsAsFailures(fn as (...a: unknown[]) => Promise<unknown>),
    ]),
  ) as unknown as EdgeActivities;
}

/** All activities of Fábrica, bound to their dependencies. */
export function createActivities(deps: ActivityDeps): AllActivities {
  const catalog = new Catalog(deps.warehouse, alertSinkFor(deps));
  const activities: AllActivities = {
    recordRunStarted: ({ ctx }) => catalog.runStarted(ctx),
    recordRunFinished: ({ ctx, outcome }) => catalog.runFinished(ctx, outcome),
    ingestPartition: createIngest(deps),
    stagePartition: createStage(deps),
    transformPartition: createTransform(deps),
    loadPartition: createLoad(deps),
    ...createServe({ ...deps, targets: { inventory: deps.inventory } }),
    ...createEdgeActivities(deps),
    ...createSensorActivities(deps),
    ...createBackfillActivities(deps),
    ...createSweepActivities(deps),
    ...createExportActivities(deps),
    ...createSourceActivities(deps),
    ...createAlertActivities({
      warehouse: deps.warehouse,
      channels: deps.alerts?.channels ?? [],
      publicUrl: deps.alerts?.publicUrl ?? 'http://localhost:3000',
    }),
  };
  const wrapped = Object.entries(activities).map(([name, fn]) => [
    name,
    dataFaultsAsFailures(fn as (...a: unknown[]) => Promise<unknown>),
  ]);
  return Object.fromEntries(wrapped) as typeof activities;
}
