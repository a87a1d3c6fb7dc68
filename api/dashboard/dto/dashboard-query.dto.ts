import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsPartitionKey } from '../../common/partition-key.decorator.js';

const DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
/** An instant with its offset (an impossible one, e.g. month 13, is a 422 from the service). */
const INSTANT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2})$/;
const PIPELINE = /^[a-z][a-z0-9-]{1,62}$/;
const MACHINE = /^[A-Za-z0-9_-]{1,32}$/;

/** `now`: the instant the page is computed for (tests inject it; default the server's clock). */
export class NowQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-20T20:00:00-03:00',
    pattern: INSTANT.source,
    description: 'The instant the page is computed for (ISO-8601 with offset); default: the server’s clock.',
  })
  @IsOptional()
  @Matches(INSTANT, { message: 'now must be an ISO-8601 instant with an offset, e.g. 2026-11-20T20:00:00-03:00' })
  now?: string;
}

/** Query of `GET /dashboard/yield/heatmap`. */
export class HeatmapQueryDto extends NowQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-20',
    format: 'date',
    pattern: DAY.source,
    description: 'Plant-local day (YYYY-MM-DD); default: the day of `now`.',
  })
  @IsOptional()
  @Matches(DAY, { message: 'day must be a date YYYY-MM-DD' })
  day?: string;
}

/** A range of plant-local days. */
export class DayRangeQueryDto extends NowQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-16',
    format: 'date',
    pattern: DAY.source,
    description: 'First plant-local day (default: 6 days before `to`).',
  })
  @IsOptional()
  @Matches(DAY, { message: 'from must be a date YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-20',
    format: 'date',
    pattern: DAY.source,
    description: 'Last plant-local day, inclusive (default: the day of `now`).',
  })
  @IsOptional()
  @Matches(DAY, { message: 'to must be a date YYYY-MM-DD' })
  to?: string;
}

/** Query of `GET /dashboard/yield/trends`. */
export class TrendsQueryDto extends DayRangeQueryDto {
  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', pattern: MACHINE.source },
    maxItems: 50,
    example: ['M01', 'M07'],
    description: 'Machines (comma-separated); default: every machine with data in the range.',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').filter((s) => s !== '') : value,
  )
  @IsArray({ message: 'machines must be a comma-separated list of machine ids' })
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(MACHINE, { each: true, message: 'machines must be machine ids like M07' })
  machines?: string[];

  @ApiPropertyOptional({
    enum: ['hour', 'day', 'auto'],
    default: 'auto',
    description: 'Bucket of the series (auto: hours up to 3 days, else days).',
  })
  @IsOptional()
  @IsIn(['hour', 'day', 'auto'])
  bucket?: 'hour' | 'day' | 'auto';
}

/** Query of `GET /dashboard/yield/scrap`. */
export class ScrapQueryDto extends DayRangeQueryDto {
  @ApiPropertyOptional({ type: 'integer', default: 10, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

/** Query of `GET /dashboard/pipelines` (a window of hours ending at `now`). */
export class PipelinesQueryDto extends NowQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    default: 24,
    minimum: 1,
    maximum: 24 * 31,
    description: 'Hours before `now` shown.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 31)
  hours?: number;

  @ApiPropertyOptional({
    example: 'factory-machine-signals',
    pattern: PIPELINE.source,
    description: 'Only this pipeline.',
  })
  @IsOptional()
  @IsString()
  @Matches(PIPELINE, { message: 'pipeline must be a pipeline id' })
  pipeline?: string;
}

/** Query of `GET /dashboard/partition`. */
export class PartitionQueryDto {
  @ApiPropertyOptional({
    example: 'factory-machine-signals',
    default: 'factory-machine-signals',
    pattern: PIPELINE.source,
  })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  @Matches(PIPELINE, { message: 'pipeline must be a pipeline id' })
  pipeline?: string;

  @IsPartitionKey()
  partition!: string;
}
