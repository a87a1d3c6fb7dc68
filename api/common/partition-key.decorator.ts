import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PARTITION_KEY_PATTERN } from '../../workflows/partitions.js';

/**
 * A partition-key field, documented and validated in one place: `<entity>@<YYYY-MM-DDTHH>` (entity-hour),
 * `<entity>@<YYYY-MM-DD>` (entity-day) or `<YYYY-MM-DD>` (day); the pipeline's own kind is checked by its service.
 */
export function IsPartitionKey(options: { optional?: boolean } = {}): PropertyDecorator {
  const doc = {
    example: 'M07@2026-11-20T10',
    pattern: PARTITION_KEY_PATTERN.source,
    maxLength: 64,
    description:
      "Partition key of the pipeline's kind: <entity>@<YYYY-MM-DDTHH> (entity-hour), <entity>@<YYYY-MM-DD> (entity-day) or <YYYY-MM-DD> (day), local time.",
  };
  return applyDecorators(
    ...(options.optional ? [ApiPropertyOptional(doc), IsOptional()] : [ApiProperty(doc)]),
    IsString(),
    MaxLength(64),
    Matches(PARTITION_KEY_PATTERN, {
      message: 'partition must look like M07@2026-11-20T10, M07@2026-11-20 or 2026-11-20',
    }),
  );
}
