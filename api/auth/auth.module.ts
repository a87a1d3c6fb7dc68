import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './auth.guard.js';
import { AuthState } from './auth.state.js';
import { SessionController } from './session.controller.js';

/** Registers the API-key guard for every route, and the dashboard's session endpoints. */
@Module({
  controllers: [SessionController],
  providers: [AuthState, { provide: APP_GUARD, useClass: ApiKeyGuard }],
  exports: [AuthState],
})
export class AuthModule {}
