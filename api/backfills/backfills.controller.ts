import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { BackfillsService, type BackfillView } from './backfills.service.js';
import { CreateBackfillDto, SetConcurrencyDto } from './dto/create-backfill.dto.js';

/** Backfills: durable re-processing of a range of partitions. */
@ApiTags('backfills')
@Controller()
export class BackfillsController {
  constructor(private readonly backfills: BackfillsService) {}

  /** Starts a backfill (or returns the running one for the same request). */
  @Post('pipelines/:id/backfills')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'The backfill, with its progress.' })
  @ApiBadRequestResponse({
    description: 'Malformed, inverted or oversized range, unknown machines; the message names the field.',
  })
  @ApiNotFoundResponse({ description: 'Unknown pipeline.' })
  start(@Param('id') id: string, @Body() body: CreateBackfillDto): Promise<BackfillView> {
    return this.backfills.start(id, body);
  }

  /** Live progress: done, failed, running, remaining, rows, bytes, throughput, ETA; failures with their errors. */
  @Get('backfills/:id')
  @ApiOkResponse({ description: 'The backfill.' })
  @ApiNotFoundResponse({ description: 'Unknown backfill.' })
  get(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.get(id);
  }

  /** Starts no new partition until resumed. */
  @Post('backfills/:id/pause')
  @HttpCode(202)
  @ApiConflictResponse({ description: 'Not running.' })
  pause(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.signal(id, 'pause');
  }

  /** Resumes a paused backfill. */
  @Post('backfills/:id/resume')
  @HttpCode(202)
  @ApiConflictResponse({ description: 'Not running.' })
  resume(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.signal(id, 'resume');
  }

  /** Cancels: no new partition starts; in-flight ones commit whole or not at all. The backfill can be started again. */
  @Post('backfills/:id/cancel')
  @HttpCode(202)
  @ApiConflictResponse({ description: 'Not running.' })
  cancel(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.signal(id, 'cancel');
  }

  /** Changes `maxConcurrency` while it runs. */
  @Post('backfills/:id/concurrency')
  @HttpCode(202)
  @ApiConflictResponse({ description: 'Not running.' })
  concurrency(@Param('id') id: string, @Body() body: SetConcurrencyDto): Promise<BackfillView> {
    return this.backfills.setConcurrency(id, body.maxConcurrency);
  }

  /** Starts a backfill of just the partitions that failed, over the same range and machines. */
  @Post('backfills/:id/retry-failed')
  @HttpCode(202)
  @ApiConflictResponse({ description: 'The backfill is still running.' })
  retryFailed(@Param('id') id: string): Promise<BackfillView> {
    return this.backfills.retryFailed(id);
  }
}
