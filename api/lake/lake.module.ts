import { Global, Module } from '@nestjs/common';
import type { FabricaConfig } from '../../worker/config.js';
import { storeFor } from '../../worker/dependencies.js';
import { CONFIG } from '../config/config.module.js';

/** Injection token of the lake's {@link ObjectStore}. */
export const LAKE = Symbol('LAKE');

/** Provides the lake's object store. */
@Global()
@Module({
  providers: [{ provide: LAKE, inject: [CONFIG], useFactory: (config: FabricaConfig) => storeFor(config.lake) }],
  exports: [LAKE],
})
export class LakeModule {}
