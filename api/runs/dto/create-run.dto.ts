import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsPartitionKey } from '../../common/partition-key.decorator.js';
import { IsBoolean, IsOptional } from 'class-validator';

/** Body of `POST /pipelines/{id}/runs`. */
export class CreateRunDto {
  /** Partition key: `<machine>@<YYYY-MM-DDTHH>` (local plant hour). */
  @IsPartitionKey()
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
