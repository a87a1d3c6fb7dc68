import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PARTITION_KEY_PATTERN } from '../../workflows/partitions.js';

/** A partition-key field (`<machine>@<YYYY-MM-DDTHH>`, plant local hour), documented and validated in one place. */
export function IsPartitionKey(options: { optional?: boolean } = {}): PropertyDecorator {
  const doc = {
    example: 'M07@2026-11-20T10',
    description: 'Partition key: <machine>@<YYYY-MM-DDTHH> (plant local hour).',
  };
  return applyDecorators(
    ...(options.optional ? [ApiPropertyOptional(doc), IsOptional()] : [ApiProperty(doc)]),
    IsString(),
    MaxLength(64),
    Matches(PARTITION_KEY_PATTERN, { message: 'partition must look like M07@2026-11-20T10' }),
  );
}
