import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { EXPORT_FORMATS, type ExportFormat } from '../../../workflows/features/spec.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Body of `POST /feature-exports`. */
export class CreateExportDto {
  @ApiProperty({ example: 'machine-maintenance-daily', description: 'A registered feature set (GET /feature-sets).' })
  @IsString()
  @MaxLength(63)
  featureSet!: string;

  @ApiProperty({ example: '2026-11-02', description: 'First plant-local day (YYYY-MM-DD), inclusive.' })
  @IsString()
  @Matches(DAY, { message: 'from must be a day YYYY-MM-DD' })
  from!: string;

  @ApiProperty({ example: '2026-11-20', description: 'Last plant-local day (YYYY-MM-DD), inclusive.' })
  @IsString()
  @Matches(DAY, { message: 'to must be a day YYYY-MM-DD' })
  to!: string;

  @ApiPropertyOptional({
    example: '2026-11-21T03:00:00Z',
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
    minimum: 1,
    maximum: 1024,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  maxFileMiB?: number;
}
