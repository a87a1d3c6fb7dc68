import { ApiProperty } from '@nestjs/swagger';
import { PARTITION_KEY_PATTERN } from '../../../workflows/partitions.js';
import { IsString, Matches, MaxLength } from 'class-validator';

/** Path of `GET /datasets/{name}/partitions/{partition}`. */
export class PartitionParamsDto {
  /** A dataset some registered pipeline loads (`spec.load.datasets`). */
  @ApiProperty({ example: 'machine_yield_hourly', description: 'Dataset loaded by a registered pipeline.' })
  @IsString()
  @MaxLength(63)
  name!: string;

  /** Partition key: `<machine>@<YYYY-MM-DDTHH>` (local plant hour). */
  @ApiProperty({
    example: 'M07@2026-11-20T10',
    description: 'Partition key: <machine>@<YYYY-MM-DDTHH> (plant local hour).',
  })
  @IsString()
  @MaxLength(64)
  @Matches(PARTITION_KEY_PATTERN, { message: 'partition must look like M07@2026-11-20T10' })
  partition!: string;
}
