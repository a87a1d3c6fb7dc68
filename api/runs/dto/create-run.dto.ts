import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
  @Matches(/^[A-Za-z0-9_-]{1,32}@\d{4}-\d{2}-\d{2}T\d{2}$/, { message: 'partition must look like M07@2026-11-20T10' })
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
