import { Context } from '@temporalio/activity';
import type { AlertChannel } from '../../worker/alert-channels.js';
import { alertGroupWorkflowId } from '../../workflows/ids.js';
import type { AlertGroupSettings } from '../../workflows/alert-delivery.workflow.js';

/** Told about alert groups whose alerts were raised, resolved or acknowledged. */
export interface AlertSink {
  changed(groupKeys: readonly string[]): Promise<void>;
}

/**
 * Signals (signal-with-start) each group's delivery workflow from inside an activity, on the activity's own task
 * queue. A raise whose signal is lost (the activity's last attempt failed after its insert) is picked up by the
 * sweep's re-dispatch of unplanned alerts.
 */
export function temporalAlertSink(settings: AlertGroupSettings): AlertSink {
  return {
    async changed(groupKeys) {
      const ctx = Context.current();
      for (const groupKey of new Set(groupKeys))
        await ctx.client.workflow.signalWithStart('alertDeliveryWorkflow', {
          workflowId: alertGroupWorkflowId(groupKey),
          taskQueue: ctx.info.taskQueue,
          args: [{ groupKey, settings }],
          signal: 'alertChanged',
          signalArgs: [],
        });
    },
  };
}

/** Alert delivery configuration of the activities (from the worker's configuration). */
export interface AlertConfig {
  channels: AlertChannel[];
  settings: AlertGroupSettings;
  /** Base URL of the dashboard, for links in messages. */
  publicUrl: string;
}

/** The sink of activities configured with channels; none (rows only) when no channel is configured. */
export function alertSinkFor(deps: { alerts?: AlertConfig }): AlertSink | undefined {
  return deps.alerts && deps.alerts.channels.length > 0 ? temporalAlertSink(deps.alerts.settings) : undefined;
}
