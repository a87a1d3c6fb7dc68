import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { MAX_CONCURRENCY } from '../../../workflows/backfill-messages.js';

const PERIOD = /^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2})?$/;
const MACHINE = /^[A-Za-z0-9_-]{1,32}$/;

/** Body of `POST /pipelines/{id}/backfills`. */
export class CreateBackfillDto {
  @ApiProperty({
    example: '2026-01-05T06',
    pattern: PERIOD.source,
    description: 'First local period, inclusive: an hour YYYY-MM-DDTHH (hourly pipelines) or a day YYYY-MM-DD (daily).',
  })
  @IsString()
  @Matches(PERIOD, { message: 'from must be a local hour YYYY-MM-DDTHH or a day YYYY-MM-DD' })
  from!: string;

  @ApiProperty({
    example: '2026-12-31T17',
    pattern: PERIOD.source,
    description: 'Last local period, inclusive, of the same kind as from.',
  })
  @IsString()
  @Matches(PERIOD, { message: 'to must be a local hour YYYY-MM-DDTHH or a day YYYY-MM-DD' })
  to!: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', pattern: MACHINE.source },
    maxItems: 100,
    example: ['M01', 'M07'],
    description: 'Only these machines (default: all of the pipeline).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Matches(MACHINE, { each: true, message: 'machines must be machine ids like M07' })
  machines?: string[];

  @ApiPropertyOptional({ type: 'integer', default: 4, minimum: 1, maximum: MAX_CONCURRENCY })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_CONCURRENCY)
  maxConcurrency?: number;

  @ApiPropertyOptional({
    enum: ['all', 'missing', 'failed', 'dry-run'],
    default: 'all',
    description: 'dry-run = list what `all` would run.',
  })
  @IsOptional()
  @IsIn(['all', 'missing', 'failed', 'dry-run'])
  mode?: 'all' | 'missing' | 'failed' | 'dry-run';

  @ApiPropertyOptional({ default: false, description: 'List what the mode would run, run nothing.' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

/** Body of `POST /backfills/{id}/concurrency`. */
export class SetConcurrencyDto {
  @ApiProperty({ type: 'integer', example: 8, minimum: 1, maximum: MAX_CONCURRENCY })
  @IsInt()
  @Min(1)
  @Max(MAX_CONCURRENCY)
  maxConcurrency!: number;
}
