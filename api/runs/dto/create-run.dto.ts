import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PARTITION_KEY_PATTERN } from '../../../workflows/partitions.js';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** Body of `POST /pipelines/{id}/runs`. */
export class CreateRunDto {
  /** Partition key: `<machine>@<YYYY-MM-DDTHH>` (local plant hour). */
  @ApiProperty({
    example: 'M07@2026-11-20T10',
    description: 'Partition key: <machine>@<YYYY-MM-DDTHH> (plant local hour).',
  })
  @IsString()
  @MaxLength(64)
  @Matches(PARTITION_KEY_PATTERN, { message: 'partition must look like M07@2026-11-20T10' })
  partition!: string;

  /** Re-process even if the partition already holds this content. */
  @ApiPropertyOptional({
    default: false,
    description: 'Re-process even when the partition already holds this exact content.',
  })
  @IsOptional()
  @IsBoolean()
  force?: boolean;
}
