import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Pipeline id of a run. */
export const PIPELINE = defineSearchAttributeKey('Pipeline', SearchAttributeType.KEYWORD);
/** Partition key of a run. */
export const PARTITION = defineSearchAttributeKey('Partition', SearchAttributeType.KEYWORD);
/** How the run started (sensor, manual, backfill, schedule, sweep). */
export const RUN_KIND = defineSearchAttributeKey('RunKind', SearchAttributeType.KEYWORD);
/** Where the run is: `Running`, `Succeeded`, `Unchanged`, or `Failed:<FailureType>`. */
export const PIPELINE_STATUS = defineSearchAttributeKey('PipelineStatus', SearchAttributeType.KEYWORD);
/** Set by Temporal on workflows a Schedule starts: the time the action was scheduled for. */
export const SCHEDULED_START_TIME = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);
