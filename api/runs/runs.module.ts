import { Module } from '@nestjs/common';
import { PipelinesModule } from '../pipelines/pipelines.module.js';
import { RunsController } from './runs.controller.js';
import { RunsService } from './runs.service.js';

/** Partition run endpoints. */
@Module({ imports: [PipelinesModule], controllers: [RunsController], providers: [RunsService] })
export class RunsModule {}
