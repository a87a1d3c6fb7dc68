import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, Registry } from 'prom-client';

/** Injection token of the API's Prometheus {@link Registry} (one per application, so tests can build several apps). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

const LABELS = ['method', 'route', 'status'] as const;

/** HTTP request count and latency, labelled by method, route template (never the raw path) and status. */
@Injectable()
export class HttpMetrics {
  private readonly requests: Counter<(typeof LABELS)[number]>;
  private readonly duration: Histogram<(typeof LABELS)[number]>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.requests = new Counter({
      name: 'fabrica_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status.',
      labelNames: LABELS,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'fabrica_http_request_duration_seconds',
      help: 'HTTP request latency in seconds, by method, route template and status.',
      labelNames: LABELS,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /** Records one answered request. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
  }
}

/**
 * Times every request until its response is sent. The route label is Express's matched template
 * (`/api/v1/runs/:runId`) so series stay few; requests that matched no route share `unmatched`. Guard rejections
 * (401/403/429) are counted too, which an interceptor would miss.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: HttpMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Nest answers unknown paths from a catch-all route (`*path`): every real route starts with the global prefix.
      const template = typeof route === 'string' && route.startsWith('/') ? route : 'unmatched';
      this.metrics.observe(req.method, template, res.statusCode, seconds);
    });
    next();
  }
}
