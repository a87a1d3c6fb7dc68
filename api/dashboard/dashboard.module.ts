import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller.js';
import { DashboardService } from './dashboard.service.js';

/** The web dashboard's JSON endpoints (`/api/v1/dashboard/…`); its pages are mounted by {@link mountDashboard}. */
@Module({ controllers: [DashboardController], providers: [DashboardService] })
export class DashboardModule {}
