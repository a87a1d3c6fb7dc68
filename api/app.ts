import 'reflect-metadata';
import { type INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module.js';
import { ApiExceptionFilter } from './common/exception.filter.js';

/** Builds (without listening) the API application with its global prefix, validation and OpenAPI documents. */
export async function createApp(options: { logger?: false | undefined } = {}): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule, { logger: options.logger ?? ['error', 'warn'], abortOnError: false });
  app.setGlobalPrefix('api/v1');
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  app.useGlobalFilters(new ApiExceptionFilter());
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Fábrica API')
      .setDescription('Start and follow pipeline runs, backfills and feature exports on Temporal.')
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/v1/openapi.json' });
  return app;
}
