import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { ALERT_KINDS } from '../../../worker/alert-channels.js';

/** Free text: anything but U+0000 (which no body may hold; see `checkJsonBody`). */
const NO_NUL = '^[^\\u0000]*$';

/** Query of `GET /alerts`. */
export class ListAlertsDto {
  @ApiPropertyOptional({ enum: ['open', 'resolved', 'all'], default: 'open' })
  @IsOptional()
  @IsIn(['open', 'resolved', 'all'])
  state: 'open' | 'resolved' | 'all' = 'open';

  @ApiPropertyOptional({ example: 'factory-machine-signals', pattern: '^[a-z][a-z0-9:-]{1,80}$' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9:-]{1,80}$/, { message: 'pipeline must be a pipeline id' })
  pipeline?: string;

  @ApiPropertyOptional({ enum: ALERT_KINDS })
  @IsOptional()
  @IsIn([...ALERT_KINDS])
  kind?: string;

  @ApiPropertyOptional({ type: 'integer', default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit = 100;
}

/** Query of `GET /alert-silences`. */
export class ListSilencesDto {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: 'Also ended silences.' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'all must be true or false' })
  all?: 'true' | 'false';
}

/** Body of `POST /alerts/{id}/ack`. */
export class AckAlertDto {
  @ApiPropertyOptional({ maxLength: 500, pattern: NO_NUL, description: 'Why, or who is on it.' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  comment?: string;
}

/** Body of `POST /alert-silences`. */
export class CreateSilenceDto {
  @ApiPropertyOptional({
    description: 'Only alerts of this pipeline (all when absent).',
    pattern: '^[a-z][a-z0-9:-]{1,80}$',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9:-]{1,80}$/, { message: 'pipeline must be a pipeline id' })
  pipeline?: string;

  @ApiPropertyOptional({ enum: ALERT_KINDS })
  @IsOptional()
  @IsIn([...ALERT_KINDS])
  kind?: string;

  @ApiPropertyOptional({
    description: 'Only alerts whose partition key starts with this (e.g. a machine "M07@").',
    minLength: 1,
    maxLength: 120,
    pattern: NO_NUL,
  })
  @IsOptional()
  @IsString()
  @Length(1, 120)
  partitionPrefix?: string;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: 43200,
    description: 'How long the silence lasts, in minutes (at most 30 days).',
  })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(43_200)
  minutes!: number;

  @ApiProperty({ minLength: 1, maxLength: 500, pattern: NO_NUL })
  @IsString()
  @Length(1, 500)
  reason!: string;
}

/** Query of `GET /alert-deliveries`. */
export class ListDeliveriesDto {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'failed', 'silenced'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'failed', 'silenced'])
  status?: string;

  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_.-]{1,64}$' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'channel must be a channel id' })
  channel?: string;

  @ApiPropertyOptional({ type: 'integer', default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit = 100;
}
