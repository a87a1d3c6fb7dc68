import { ApiPropertyOptional } from '@nestjs/swagger';
import { PARTITION_KEY_PATTERN } from '../../../workflows/partitions.js';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** Query of `GET /runs`. */
export class ListRunsDto {
  @ApiPropertyOptional({ example: 'factory-machine-signals' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{1,62}$/, { message: 'pipeline must be a pipeline id' })
  pipeline?: string;

  @ApiPropertyOptional({ enum: ['running', 'succeeded', 'unchanged', 'failed'] })
  @IsOptional()
  @IsIn(['running', 'succeeded', 'unchanged', 'failed'])
  status?: string;

  @ApiPropertyOptional({ example: 'M07@2026-11-20T10' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(PARTITION_KEY_PATTERN, { message: 'partition must look like M07@2026-11-20T10' })
  partition?: string;

  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  page = 1;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  pageSize = 50;
}
