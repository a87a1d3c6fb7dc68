import { ApiProperty } from '@nestjs/swagger';
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
  @Matches(/^[A-Za-z0-9_-]{1,32}@\d{4}-\d{2}-\d{2}T\d{2}$/, { message: 'partition must look like M07@2026-11-20T10' })
  partition!: string;
}
