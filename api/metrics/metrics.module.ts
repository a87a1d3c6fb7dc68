import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { Registry } from 'prom-client';
import { HttpMetrics, HttpMetricsMiddleware, METRICS_REGISTRY } from './http-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** `GET /metrics`, and the HTTP metrics middleware on every route. */
@Module({
  controllers: [MetricsController],
  providers: [{ provide: METRICS_REGISTRY, useFactory: () => new Registry() }, HttpMetrics, MetricsService],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('{*path}');
  }
}
