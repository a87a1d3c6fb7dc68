import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type pg from 'pg';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import { mountDashboard } from './dashboard/static.js';
import { ApiExceptionFilter } from './common/exception.filter.js';
import { checkJsonBody, requireJsonBody } from './common/json-body.js';
import { documentCommonAnswers, documentedMethods, documentLinks, methodNotAllowed } from './common/openapi.js';
import type { FabricaConfig } from '../worker/config.js';
import { CONFIG } from './config/config.module.js';
import { WAREHOUSE } from './database/database.module.js';
import { documentIdempotencyKey, IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { reenterRequestContext, requestIdMiddleware } from './logging/request-logging.js';

/**
 * Builds (without listening) the API application with its global prefix, request ids and access log, validation,
 * `Idempotency-Key` support and OpenAPI documents. `logger: false` (tests) also drops the info-level request log
 * lines unless `accessLog` is set; errors are always logged.
 */
export async function createApp(
  options: { logger?: false | undefined; accessLog?: boolean } = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger: options.logger ?? ['error', 'warn'],
    abortOnError: false,
    bodyParser: false,
    // The raw body is kept for the Idempotency-Key fingerprint (at most the 64 KB below).
    rawBody: true,
  });
  app.setGlobalPrefix('api/v1');
  // First of all: the request id, its response header, and the access log line (also for requests refused early).
  app.use(requestIdMiddleware({ verbose: options.accessLog ?? options.logger !== false }));
  // The web dashboard's pages and assets, outside the /api/v1 prefix (its data comes from /api/v1/dashboard).
  mountDashboard(app);
  // A documented path asked with a method it does not have: 405 with Allow (the matchers come from the document).
  let documented: ReturnType<typeof documentedMethods> = [];
  app.use(methodNotAllowed(() => documented));
  // Bodies are JSON (else 415), at most 64 KB (every body this API accepts is small; else 413), shallow (else 400).
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: '64kb' });
  app.use(checkJsonBody);
  app.use(reenterRequestContext);
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  app.useGlobalFilters(new ApiExceptionFilter());
  app.useGlobalInterceptors(new IdempotencyInterceptor(app.get<pg.Pool>(WAREHOUSE)));
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Fábrica API')
      .setDescription('Start and follow pipeline runs, backfills and feature exports on Temporal.')
      .setVersion('1')
      .addApiKey({ type: 'apiKey', name: 'X-API-Key', in: 'header' }, 'api-key')
      .addSecurityRequirements('api-key')
      .addGlobalParameters({
        name: 'X-Request-Id',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        description:
          'Echoed in the response and in every log line of the request when it is 1 to 128 of A-Z a-z 0-9 . _ : - (any other value, or none, gets a new UUID instead).',
      })
      .build(),
  );
  documentIdempotencyKey(document);
  documentCommonAnswers(document, { metricsPublic: app.get<FabricaConfig>(CONFIG).api.metricsPublic });
  documentLinks(document);
  documented = documentedMethods(document);
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/v1/openapi.json' });
  return app;
}
