import { Module } from '@nestjs/common';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsService } from './datasets.service.js';

/** Dataset partition endpoints (viewer role: every route here is a GET). */
@Module({ controllers: [DatasetsController], providers: [DatasetsService] })
export class DatasetsModule {}
