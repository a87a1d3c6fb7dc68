import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { EXPORT_FORMATS, type ExportFormat } from '../../../workflows/features/spec.js';

const DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const FEATURE_SET = /^[a-z][a-z0-9-]{0,62}$/;
const INSTANT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** Body of `POST /feature-exports`. */
export class CreateExportDto {
  @ApiProperty({
    example: 'machine-maintenance-daily',
    maxLength: 63,
    pattern: FEATURE_SET.source,
    description: 'A registered feature set (GET /feature-sets).',
  })
  @IsString()
  @MaxLength(63)
  @Matches(FEATURE_SET, { message: 'featureSet must be a feature set id like machine-maintenance-daily' })
  featureSet!: string;

  @ApiProperty({
    example: '2026-11-02',
    pattern: DAY.source,
    description: 'First plant-local day (YYYY-MM-DD), inclusive.',
  })
  @IsString()
  @Matches(DAY, { message: 'from must be a day YYYY-MM-DD' })
  from!: string;

  @ApiProperty({
    example: '2026-11-20',
    pattern: DAY.source,
    description: 'Last plant-local day (YYYY-MM-DD), inclusive.',
  })
  @IsString()
  @Matches(DAY, { message: 'to must be a day YYYY-MM-DD' })
  to!: string;

  @ApiPropertyOptional({
    example: '2026-11-21T03:00:00Z',
    pattern: INSTANT.source,
    description:
      'Knowledge cut-off (ISO-8601 instant with offset): only data published/known by then is used. Default: when ' +
      'the export first starts (fixed for its retries and repeats).',
  })
  @IsOptional()
  @IsString()
  @Matches(INSTANT, { message: 'asOf must be an ISO-8601 instant with an offset, e.g. 2026-11-21T03:00:00Z' })
  asOf?: string;

  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'parquet' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;

  @ApiPropertyOptional({ default: false, description: 'Training export: adds the label column.' })
  @IsOptional()
  @IsBoolean()
  training?: boolean;

  @ApiPropertyOptional({
    description: 'Largest file, in MiB (a file closes at the first row group past it). Default 128.',
    type: 'integer',
    minimum: 1,
    maximum: 1024,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  maxFileMiB?: number;
}
