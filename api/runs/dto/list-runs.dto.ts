import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsPartitionKey } from '../../common/partition-key.decorator.js';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** Query of `GET /runs`. */
export class ListRunsDto {
  @ApiPropertyOptional({ example: 'factory-machine-signals' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{1,62}$/, { message: 'pipeline must be a pipeline id' })
  pipeline?: string;

  @ApiPropertyOptional({ enum: ['running', 'succeeded', 'unchanged', 'failed', 'cancelled'] })
  @IsOptional()
  @IsIn(['running', 'succeeded', 'unchanged', 'failed', 'cancelled'])
  status?: string;

  @IsPartitionKey({ optional: true })
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
