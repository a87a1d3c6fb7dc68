import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/auth.decorators.js';
import { HealthService, type HealthReport, type ReadinessReport } from './health.service.js';

/** Liveness and readiness: open to everyone (no API key), never cached. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** 200 when Temporal, PostgreSQL, the lake and at least one worker are all up; 503 otherwise, naming what is down. */
  @Get()
  @Public()
  @ApiOkResponse({ description: 'Every dependency is up.' })
  @ApiServiceUnavailableResponse({ description: 'At least one dependency is down; `checks` says which.' })
  async get(@Res({ passthrough: true }) res: Response): Promise<HealthReport> {
    const report = await this.health.report();
    res.status(report.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    res.setHeader('Cache-Control', 'no-store');
    return report;
  }

  /** Liveness: 200 while the process serves HTTP; it never looks at a dependency (a database outage is no restart). */
  @Get('live')
  @Public()
  @ApiOkResponse({ description: 'The process serves HTTP.' })
  live(@Res({ passthrough: true }) res: Response): { status: 'ok' } {
    res.setHeader('Cache-Control', 'no-store');
    return { status: 'ok' };
  }

  /** Readiness: 200 when Temporal, PostgreSQL and the lake answer; 503 naming what is down (take it out of rotation). */
  @Get('ready')
  @Public()
  @ApiOkResponse({ description: 'Temporal, PostgreSQL and the lake are reachable.' })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down; `down` names it.' })
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadinessReport> {
    const report = await this.health.readiness();
    res.status(report.status === 'ready' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    res.setHeader('Cache-Control', 'no-store');
    return report;
  }
}
