import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CreateRunDto } from './dto/create-run.dto.js';
import { ListRunsDto } from './dto/list-runs.dto.js';
import { RunsService, type RunView } from './runs.service.js';

/** Partition runs. */
@ApiTags('runs')
@Controller()
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  /** Starts (or returns the in-flight) run of one partition. */
  @Post('pipelines/:id/runs')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'The run (new, or the one already in flight for this partition).' })
  @ApiBadRequestResponse({ description: 'Malformed body; the message names the field.' })
  @ApiNotFoundResponse({ description: 'Unknown pipeline.' })
  start(@Param('id') id: string, @Body() body: CreateRunDto): Promise<RunView> {
    return this.runs.start(id, body.partition, body.force ?? false);
  }

  /** Runs, newest first, filtered and paged. */
  @Get('runs')
  @ApiOkResponse({ description: 'A page of runs.' })
  list(@Query() query: ListRunsDto) {
    return this.runs.list(query);
  }

  /** One run: status, steps with timings and counts, quality results, Temporal Web UI link. */
  @Get('runs/:runId')
  @ApiOkResponse({ description: 'The run.' })
  @ApiNotFoundResponse({ description: 'Unknown run.' })
  get(@Param('runId') runId: string): Promise<RunView> {
    return this.runs.get(runId);
  }

  /** Requests cancellation of a running run. */
  @Post('runs/:runId/cancel')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'Cancellation requested.' })
  @ApiConflictResponse({ description: 'The run has already finished.' })
  cancel(@Param('runId') runId: string): Promise<RunView> {
    return this.runs.cancel(runId);
  }
}
