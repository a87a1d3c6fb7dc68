import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsPartitionKey } from '../../common/partition-key.decorator.js';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** Query of `GET /runs`. */
export class ListRunsDto {
  @ApiPropertyOptional({ example: 'factory-machine-signals', pattern: '^[a-z][a-z0-9-]{1,62}$' })
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

  @ApiPropertyOptional({ type: 'integer', default: 1, minimum: 1, maximum: 100_000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100_000)
  page = 1;

  @ApiPropertyOptional({ type: 'integer', default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  pageSize = 50;
}
