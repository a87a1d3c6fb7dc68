import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { PipelinesService, type PipelineView } from './pipelines.service.js';

/** The pipeline registry. */
@ApiTags('pipelines')
@Controller('pipelines')
export class PipelinesController {
  constructor(private readonly pipelines: PipelinesService) {}

  /** Every registered pipeline with its partitioning, freshness SLA and latest runs. */
  @Get()
  @ApiOkResponse({ description: 'The registry.' })
  list(): Promise<PipelineView[]> {
    return this.pipelines.list();
  }

  /** One pipeline. */
  @Get(':id')
  @ApiOkResponse({ description: 'The pipeline.' })
  @ApiNotFoundResponse({ description: 'No pipeline has this id.' })
  get(@Param('id') id: string): Promise<PipelineView> {
    return this.pipelines.get(id);
  }
}
