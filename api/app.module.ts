import { Module } from '@nestjs/common';
import { AlertsModule } from './alerts/alerts.module.js';
import { AuthModule } from './auth/auth.module.js';
import { BackfillsModule } from './backfills/backfills.module.js';
import { ConfigModule } from './config/config.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { DatabaseModule } from './database/database.module.js';
import { DatasetsModule } from './datasets/datasets.module.js';
import { FeaturesModule } from './features/features.module.js';
import { HealthModule } from './health/health.module.js';
import { LakeModule } from './lake/lake.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PipelinesModule } from './pipelines/pipelines.module.js';
import { RunsModule } from './runs/runs.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { TemporalModule } from './temporal/temporal.module.js';

/** The Fábrica API. */
@Module({
  imports: [
    ConfigModule,
    AuthModule,
    TemporalModule,
    DatabaseModule,
    LakeModule,
    HealthModule,
    PipelinesModule,
    RunsModule,
    DatasetsModule,
    MetricsModule,
    BackfillsModule,
    SchedulesModule,
    FeaturesModule,
    DashboardModule,
    AlertsModule,
  ],
})
export class AppModule {}
