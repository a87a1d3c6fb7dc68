import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  type PipeTransform,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../auth/auth.guard.js';
import { AlertsService } from './alerts.service.js';
import { AckAlertDto, CreateSilenceDto, ListAlertsDto, ListDeliveriesDto, ListSilencesDto } from './dto/alerts.dto.js';

const idParam = { name: 'id', schema: { type: 'integer', minimum: 1, maximum: 999999999999999 } } as const;

/** A positive integer id of at most 15 digits (else 400 naming the parameter). */
const id: PipeTransform<string, number> = {
  transform(value: string) {
    if (!/^[1-9]\d{0,14}$/.test(value)) throw new BadRequestException('id must be a positive integer');
    return Number(value);
  },
};

/** Alerts, their deliveries to the configured channels, acknowledgements and silences. */
@ApiTags('alerts')
@Controller()
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  /** Alerts, newest first (open ones by default). */
  @Get('alerts')
  @ApiOkResponse({ description: 'A list of alerts.' })
  @ApiBadRequestResponse({ description: 'A bad filter; the message names the field.' })
  list(@Query() q: ListAlertsDto) {
    return this.alerts.list(q);
  }

  /** One alert with every delivery of it. */
  @Get('alerts/:id')
  @ApiParam(idParam)
  @ApiOkResponse({ description: 'The alert and its deliveries.' })
  @ApiNotFoundResponse({ description: 'Unknown alert.' })
  get(@Param('id', id) alertId: number) {
    return this.alerts.get(alertId);
  }

  /** Acknowledges an alert: someone is on it, so no reminder is sent for it (operator). */
  @Post('alerts/:id/ack')
  @HttpCode(200)
  @ApiParam(idParam)
  @ApiOkResponse({ description: 'The acknowledged alert.' })
  @ApiNotFoundResponse({ description: 'Unknown alert.' })
  @ApiForbiddenResponse({ description: 'Needs the operator role.' })
  ack(@Param('id', id) alertId: number, @Body() body: AckAlertDto, @Req() req: AuthenticatedRequest) {
    return this.alerts.ack(alertId, req.apiKey?.name ?? 'unknown', body.comment);
  }

  /** Deliveries (messages to channels), newest first, with their status, attempts and last error. */
  @Get('alert-deliveries')
  @ApiOkResponse({ description: 'A list of deliveries.' })
  deliveries(@Query() q: ListDeliveriesDto) {
    return this.alerts.deliveries(q);
  }

  /** The configured channels and their routes (no secret, no credentials). */
  @Get('alert-channels')
  @ApiOkResponse({ description: 'The channels.' })
  channels() {
    return this.alerts.channels();
  }

  /** Silences (active ones unless `all=true`). */
  @Get('alert-silences')
  @ApiOkResponse({ description: 'A list of silences.' })
  silences(@Query() q: ListSilencesDto) {
    return this.alerts.silences(q.all === 'true');
  }

  /** Silences matching alerts for a while: they are recorded, not sent (operator). */
  @Post('alert-silences')
  @ApiCreatedResponse({ description: 'The silence.' })
  @ApiBadRequestResponse({ description: 'A bad field; the message names it.' })
  @ApiForbiddenResponse({ description: 'Needs the operator role.' })
  silence(@Body() body: CreateSilenceDto, @Req() req: AuthenticatedRequest) {
    return this.alerts.silence(body, req.apiKey?.name ?? 'unknown');
  }

  /** Ends a silence now (operator). */
  @Post('alert-silences/:id/expire')
  @HttpCode(200)
  @ApiParam(idParam)
  @ApiOkResponse({ description: 'The ended silence.' })
  @ApiNotFoundResponse({ description: 'Unknown silence.' })
  expire(@Param('id', id) silenceId: number) {
    return this.alerts.expire(silenceId);
  }
}
