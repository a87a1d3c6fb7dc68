import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { MinRole } from '../auth/auth.decorators.js';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { SchedulesService, type ScheduleView } from './schedules.service.js';

/** The pipelines' schedules (hourly batch, nightly sweep): read by viewers, steered by admins. */
@ApiTags('schedules')
@Controller('schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  /** Every schedule with its next and recent firings. */
  @Get()
  @ApiOkResponse({ description: 'The schedules.' })
  list(): Promise<ScheduleView[]> {
    return this.schedules.list();
  }

  /** One schedule. */
  @Get(':id')
  @ApiNotFoundResponse({ description: 'Unknown schedule.' })
  get(@Param('id') id: string): Promise<ScheduleView> {
    return this.schedules.get(id);
  }

  /** Pauses a schedule. */
  @Post(':id/pause')
  @HttpCode(202)
  @MinRole('admin')
  @ApiAcceptedResponse({ description: 'Paused.' })
  @ApiForbiddenResponse({ description: 'Needs the admin role.' })
  pause(@Param('id') id: string, @Req() req: AuthenticatedRequest): Promise<ScheduleView> {
    return this.schedules.act(id, 'pause', req.apiKey?.name ?? 'unknown');
  }

  /** Resumes a schedule. */
  @Post(':id/resume')
  @HttpCode(202)
  @MinRole('admin')
  @ApiAcceptedResponse({ description: 'Resumed.' })
  resume(@Param('id') id: string, @Req() req: AuthenticatedRequest): Promise<ScheduleView> {
    return this.schedules.act(id, 'resume', req.apiKey?.name ?? 'unknown');
  }

  /** Fires a schedule now. */
  @Post(':id/trigger')
  @HttpCode(202)
  @MinRole('admin')
  @ApiAcceptedResponse({ description: 'Fired.' })
  trigger(@Param('id') id: string, @Req() req: AuthenticatedRequest): Promise<ScheduleView> {
    return this.schedules.act(id, 'trigger', req.apiKey?.name ?? 'unknown');
  }
}
