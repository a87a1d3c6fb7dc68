import { Module } from '@nestjs/common';
import { PipelinesController } from './pipelines.controller.js';
import { PipelinesService } from './pipelines.service.js';

/** The pipeline registry endpoints. */
@Module({ controllers: [PipelinesController], providers: [PipelinesService], exports: [PipelinesService] })
export class PipelinesModule {}
