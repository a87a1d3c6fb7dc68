import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';

/** The delivery settings a group's workflow runs with (from the worker's configuration when it was started). */
export interface AlertGroupSettings {
  /** Seconds a group waits for more alerts before a message (grouping). */
  groupWaitSeconds: number;
  /** Seconds after which open, unacknowledged alerts are sent again (0: never). */
  repeatIntervalSeconds: number;
  /** Seconds a delivery is retried while its channel is down before it is marked failed. */
  retryForSeconds: number;
}

/** Input of {@link alertDeliveryWorkflow}. */
export interface AlertGroupInput {
  groupKey: string;
  settings: AlertGroupSettings;
}

/** One planned message: a row of `ops.alert_deliveries` still to send. */
export interface PlannedDelivery {
  id: number;
  channel: string;
  event: 'firing' | 'resolved';
}

/** What {@link AlertActivities.planAlertDeliveries} decided. */
export interface DeliveryPlan {
  /** Pending messages (new ones and any left from an earlier plan). */
  deliveries: PlannedDelivery[];
  /** Whether the group still has unresolved alerts (the workflow then keeps waiting for changes). */
  open: boolean;
}

/** Activities of the alert delivery workflow. */
export interface AlertActivities {
  /**
   * In one transaction: decides the group's next messages per routed channel (new alerts, a reminder, a resolution)
   * and records them as pending deliveries with their idempotency keys. Idempotent: a retry finds the same rows.
   */
  planAlertDeliveries(input: { groupKey: string; reminder: boolean }): Promise<DeliveryPlan>;
  /** Sends one pending delivery (no-op once delivered); a 4xx/5xx-permanent answer fails it as `DeliveryRejected`. */
  deliverAlert(input: { deliveryId: number }): Promise<void>;
  /** Marks a delivery failed after its retries ran out. */
  recordDeliveryGaveUp(input: { deliveryId: number; message: string }): Promise<void>;
}

/** Signalled (signal-with-start) whenever an alert of the group is raised, resolved or acknowledged. */
export const alertChangedSignal = defineSignal('alertChanged');

/** Failure types a delivery is never retried for. */
export const DELIVERY_PERMANENT_FAILURES = ['DeliveryRejected', 'ChannelUnknown', 'DeliveryNotFound'];

/**
 * Delivers one alert group's messages, durably: started (or signalled) by whatever raises or resolves an alert of
 * the group. It waits `groupWaitSeconds` so that alerts raised together go out as one message per channel, sends
 * each planned message with retries and backoff while its channel is down (a permanent refusal fails that delivery
 * visibly), re-sends open unacknowledged alerts every `repeatIntervalSeconds`, sends a "resolved" message when
 * every alert it announced is resolved, and ends when the group has no open alert.
 */
export async function alertDeliveryWorkflow(input: AlertGroupInput): Promise<{ messages: number; failed: number }> {
  const { groupKey, settings } = input;
  let changed = true;
  setHandler(alertChangedSignal, () => {
    changed = true;
  });
  const catalog = proxyActivities<AlertActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  const channel = proxyActivities<AlertActivities>({
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: `${Math.max(1, settings.retryForSeconds)} seconds`,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      nonRetryableErrorTypes: DELIVERY_PERMANENT_FAILURES,
    },
  });
  let messages = 0;
  let failed = 0;
  let reminder = false;
  for (;;) {
    if (changed && settings.groupWaitSeconds > 0) await sleep(settings.groupWaitSeconds * 1000);
    changed = false;
    const plan = await catalog.planAlertDeliveries({ groupKey, reminder });
    reminder = false;
    await Promise.all(
      plan.deliveries.map(async (d) => {
        try {
          await channel.deliverAlert({ deliveryId: d.id });
          messages++;
        } catch (err) {
          failed++;
          const cause = (err as { cause?: unknown }).cause;
          const message = cause instanceof ApplicationFailure ? cause.message : (err as Error).message;
          await catalog.recordDeliveryGaveUp({ deliveryId: d.id, message });
        }
      }),
    );
    if (!plan.open && !changed) return { messages, failed };
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof alertDeliveryWorkflow>(input);
    const repeat = settings.repeatIntervalSeconds > 0 ? settings.repeatIntervalSeconds * 1000 : undefined;
    const woke = repeat === undefined ? (await condition(() => changed), true) : await condition(() => changed, repeat);
    if (!woke) reminder = true;
  }
}

