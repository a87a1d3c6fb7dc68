import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiParam,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CreateExportDto } from './dto/create-export.dto.js';
import { FeaturesService, type ExportView, type FeatureSetView, type OnlineFeatures } from './features.service.js';

/** Feature sets, point-in-time-correct exports to the lake, and online feature vectors. */
@ApiTags('features')
@Controller()
export class FeaturesController {
  constructor(private readonly features: FeaturesService) {}

  /** The registered feature sets with their columns and label. */
  @Get('feature-sets')
  @ApiOkResponse({ description: 'Every feature set.' })
  list(): FeatureSetView[] {
    return this.features.list();
  }

  /** One feature set. */
  @Get('feature-sets/:id')
  @ApiOkResponse({ description: 'The feature set.' })
  @ApiNotFoundResponse({ description: 'Unknown feature set.' })
  get(@Param('id') id: string): FeatureSetView {
    return this.features.get(id);
  }

  /** Starts an export of a feature set over a range of days (or returns the one for the same request). */
  @Post('feature-exports')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'The export, with its progress.' })
  @ApiBadRequestResponse({
    description:
      'Unknown feature set, malformed/inverted/oversized range, asOf in the future; the message names the field.',
  })
  start(@Body() body: CreateExportDto): Promise<ExportView> {
    return this.features.startExport(body);
  }

  /** An export: progress while it runs, its manifest (files, checksums, schema, lineage) when done. */
  @Get('feature-exports/:id')
  @ApiOkResponse({ description: 'The export.' })
  @ApiNotFoundResponse({ description: 'Unknown export.' })
  getExport(@Param('id') id: string): Promise<ExportView> {
    return this.features.getExport(id);
  }

  /** The latest feature vector of an entity (e.g. a machine), computed by the same query as exports. */
  @Get('features/:featureSet/:entityId')
  @ApiParam({ name: 'featureSet', schema: { type: 'string', example: 'machine-maintenance-daily' } })
  @ApiParam({ name: 'entityId', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$', example: 'M07' } })
  @ApiOkResponse({ description: 'The feature vector.' })
  @ApiNotFoundResponse({ description: 'Unknown feature set, or no data for the entity.' })
  online(@Param('featureSet') featureSet: string, @Param('entityId') entityId: string): Promise<OnlineFeatures> {
    return this.features.online(featureSet, entityId);
  }
}
