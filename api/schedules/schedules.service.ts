import { Inject, Injectable } from '@nestjs/common';
import { Client, ScheduleNotFoundError } from '@temporalio/client';
import { batchKind, batchScheduleId, sweepScheduleId } from '../../workflows/ids.js';
import { PIPELINES } from '../../activities/registry/pipelines.js';
import { NotFoundError } from '../common/errors.js';
import { TEMPORAL_CLIENT } from '../temporal/temporal.module.js';
import { TEMPORAL_DEADLINE_MS } from '../temporal/deadline.js';
import { apiLog } from '../logging/request-context.js';

/** A schedule as the API shows it. */
export interface ScheduleView {
  scheduleId: string;
  pipeline: string;
  kind: 'hourly' | 'daily' | 'sweep';
  paused: boolean;
  note: string;
  nextActionTimes: Date[];
  recentActions: { scheduledAt: Date; takenAt: Date; workflowId: string }[];
  numActionsTaken: number;
  numActionsSkippedOverlap: number;
  numActionsMissedCatchupWindow: number;
}

/** Reads and steers the pipelines' Temporal Schedules (created by the worker from the specs). */
@Injectable()
export class SchedulesService {
  constructor(@Inject(TEMPORAL_CLIENT) private readonly client: Client) {}

  private known(): { scheduleId: string; pipeline: string; kind: 'hourly' | 'daily' | 'sweep' }[] {
    return PIPELINES.filter((p) => p.schedule).flatMap((p) => [
      { scheduleId: batchScheduleId(p), pipeline: p.id, kind: batchKind(p) },
      { scheduleId: sweepScheduleId(p.id), pipeline: p.id, kind: 'sweep' as const },
    ]);
  }

  /** Every pipeline schedule with its state (schedules not created yet are left out). */
  async list(): Promise<ScheduleView[]> {
    const views = await Promise.all(
      this.known().map((k) =>
        this.get(k.scheduleId).catch((err: unknown) => {
          if (err instanceof NotFoundError) return undefined;
          throw err;
        }),
      ),
    );
    return views.filter((v): v is ScheduleView => v !== undefined);
  }

  /** One schedule. */
  async get(scheduleId: string): Promise<ScheduleView> {
    const k = this.known().find((s) => s.scheduleId === scheduleId);
    if (!k) throw new NotFoundError('schedule', scheduleId);
    const d = await this.client
      .withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => this.client.schedule.getHandle(scheduleId).describe())
      .catch((err: unknown) => {
        if (err instanceof ScheduleNotFoundError) throw new NotFoundError('schedule', scheduleId);
        throw err;
      });
    return {
      ...k,
      paused: d.state.paused,
      note: d.state.note ?? '',
      nextActionTimes: d.info.nextActionTimes.slice(0, 5),
      recentActions: d.info.recentActions
        .slice(-10)
        .map((a) => ({ scheduledAt: a.scheduledAt, takenAt: a.takenAt, workflowId: a.action.workflow.workflowId })),
      numActionsTaken: d.info.numActionsTaken,
      numActionsSkippedOverlap: d.info.numActionsSkippedOverlap,
      numActionsMissedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    };
  }

  /** Pauses, resumes, or fires a schedule now (the firing follows the schedule's overlap policy). */
  async act(scheduleId: string, action: 'pause' | 'resume' | 'trigger', by: string): Promise<ScheduleView> {
    await this.get(scheduleId);
    const handle = this.client.schedule.getHandle(scheduleId);
    const note = `${action}d through the API by ${by}`;
    await this.client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      action === 'pause' ? handle.pause(note) : action === 'resume' ? handle.unpause(note) : handle.trigger(),
    );
    apiLog.info(`schedule ${action}`, { scheduleId, by });
    return this.get(scheduleId);
  }
}
