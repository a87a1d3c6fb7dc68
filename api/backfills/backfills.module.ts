import { Module } from '@nestjs/common';
import { PipelinesModule } from '../pipelines/pipelines.module.js';
import { BackfillsController } from './backfills.controller.js';
import { BackfillsService } from './backfills.service.js';

/** Backfill endpoints. */
@Module({ imports: [PipelinesModule], controllers: [BackfillsController], providers: [BackfillsService] })
export class BackfillsModule {}
