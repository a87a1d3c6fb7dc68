import { ApiProperty } from '@nestjs/swagger';
import { IsPartitionKey } from '../../common/partition-key.decorator.js';
import { IsString, MaxLength } from 'class-validator';

/** Path of `GET /datasets/{name}/partitions/{partition}`. */
export class PartitionParamsDto {
  /** A dataset some registered pipeline loads (`spec.load.datasets`). */
  @ApiProperty({
    example: 'machine_yield_hourly',
    maxLength: 63,
    description: 'Dataset loaded by a registered pipeline.',
  })
  @IsString()
  @MaxLength(63)
  name!: string;

  /** Partition key: `<machine>@<YYYY-MM-DDTHH>` (local plant hour). */
  @IsPartitionKey()
  partition!: string;
}
