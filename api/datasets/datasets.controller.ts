import { Controller, Get, Param } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { DatasetsService, type PartitionView } from './datasets.service.js';
import { PartitionParamsDto } from './dto/partition-params.dto.js';

/** Dataset partitions: their published state and history, from the run catalog. */
@ApiTags('datasets')
@Controller('datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  /** What happened to one partition: published content, loads, runs, lineage, quality, landed files. */
  @Get(':name/partitions/:partition')
  @ApiOkResponse({ description: 'The partition (`published` is null when nothing was ever loaded).' })
  @ApiBadRequestResponse({ description: 'Malformed partition key; the message names the field.' })
  @ApiNotFoundResponse({ description: 'No registered pipeline loads this dataset.' })
  get(@Param() params: PartitionParamsDto): Promise<PartitionView> {
    return this.datasets.partition(params.name, params.partition);
  }
}
