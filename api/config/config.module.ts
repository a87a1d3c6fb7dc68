import { Global, Module } from '@nestjs/common';
import { loadConfig, type FabricaConfig } from '../../worker/config.js';

/** Injection token of the validated {@link FabricaConfig}. */
export const CONFIG = Symbol('FABRICA_CONFIG');

/** Provides the configuration, validated once at start-up (an invalid setting stops the API before it listens). */
@Global()
@Module({ providers: [{ provide: CONFIG, useFactory: (): FabricaConfig => loadConfig() }], exports: [CONFIG] })
export class ConfigModule {}
