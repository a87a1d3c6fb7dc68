import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { MinRole } from '../auth/auth.decorators.js';
import { DashboardService } from './dashboard.service.js';
import {
  DayRangeQueryDto,
  HeatmapQueryDto,
  NowQueryDto,
  PartitionQueryDto,
  PipelinesQueryDto,
  ScrapQueryDto,
  TrendsQueryDto,
} from './dto/dashboard-query.dto.js';

const BAD = { description: 'A malformed query parameter; the message names the field.' };

/** The JSON behind the web dashboard (served at `/`); every route is read-only (viewer). */
@ApiTags('dashboard')
@MinRole('viewer')
@Controller('dashboard')
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  /** Machines × working hours of one plant-local day: yield %, or why a partition has none (failed, missing…). */
  @Get('yield/heatmap')
  @ApiOkResponse({ description: 'Cells with status (ok, empty, failed, incomplete, missing, running, pending).' })
  @ApiBadRequestResponse(BAD)
  heatmap(@Query() q: HeatmapQueryDto) {
    return this.dashboard.heatmap(q);
  }

  /** Per-machine yield, scrap, rework, downtime, cycle time, vibration, temperature and energy over days. */
  @Get('yield/trends')
  @ApiOkResponse({ description: 'Series per machine (hourly up to 3 days, else daily) and maintenance events.' })
  @ApiBadRequestResponse(BAD)
  trends(@Query() q: TrendsQueryDto) {
    return this.dashboard.trends(q);
  }

  /** The most scrapped SKUs over days, with their catalog cost. */
  @Get('yield/scrap')
  @ApiOkResponse({ description: 'SKUs by scrapped items; `scrapCost` null while the catalog lacks a cost.' })
  @ApiBadRequestResponse(BAD)
  scrap(@Query() q: ScrapQueryDto) {
    return this.dashboard.scrap(q);
  }

  /** The QA lab's reject rate per SKU over days. */
  @Get('yield/lab')
  @ApiOkResponse({ description: 'Samples, rejected and reject rate per SKU (`available: false` without the lab).' })
  @ApiBadRequestResponse(BAD)
  lab(@Query() q: DayRangeQueryDto) {
    return this.dashboard.lab(q);
  }

  /** Last partition published per pipeline and entity, staleness against the SLA, today's missing partitions. */
  @Get('freshness')
  @ApiOkResponse({
    description: 'Per pipeline: entities with staleness and status, missing and incomplete partitions.',
  })
  @ApiBadRequestResponse(BAD)
  freshness(@Query() q: NowQueryDto) {
    return this.dashboard.freshness(q);
  }

  /** Runs per hour by status, failures, quarantined rows by reason, landing → published latency. */
  @Get('pipelines')
  @ApiOkResponse({ description: 'Operations over the hours before `now`.' })
  @ApiBadRequestResponse(BAD)
  @ApiNotFoundResponse({ description: 'Unknown pipeline.' })
  pipelines(@Query() q: PipelinesQueryDto) {
    return this.dashboard.pipelines(q);
  }

  /** Running and paused backfills of this deployment (Temporal visibility), with progress. */
  @Get('backfills')
  @ApiOkResponse({ description: 'Backfills still running, with their progress.' })
  backfills() {
    return this.dashboard.backfills();
  }

  /** The 20 most recent feature exports, with their manifests. */
  @Get('exports')
  @ApiOkResponse({ description: 'Recent feature exports.' })
  exports() {
    return this.dashboard.exports();
  }

  /** What happened to one partition, for a person: files, runs and steps, quality, quarantined rows, lineage. */
  @Get('partition')
  @ApiOkResponse({ description: 'The partition’s story.' })
  @ApiBadRequestResponse(BAD)
  @ApiNotFoundResponse({ description: 'Unknown pipeline.' })
  partition(@Query() q: PartitionQueryDto) {
    return this.dashboard.partition(q);
  }
}
