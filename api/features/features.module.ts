import { Module } from '@nestjs/common';
import { FeaturesController } from './features.controller.js';
import { FeaturesService } from './features.service.js';

/** Feature-set, export and online-feature endpoints. */
@Module({ controllers: [FeaturesController], providers: [FeaturesService] })
export class FeaturesModule {}
