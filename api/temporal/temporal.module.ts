import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Client } from '@temporalio/client';
import { lazyTemporalConnection } from '../../worker/temporal-connection.js';
import type { FabricaConfig } from '../../worker/config.js';
import { CONFIG } from '../config/config.module.js';

/** Injection token of the Temporal {@link Client}. */
export const TEMPORAL_CLIENT = Symbol('TEMPORAL_CLIENT');

/**
 * Provides one Temporal client (TLS, mTLS and API key as configured); it connects lazily so the API starts (and
 * reports 503) while Temporal is down.
 */
@Global()
@Module({
  providers: [
    {
      provide: TEMPORAL_CLIENT,
      inject: [CONFIG],
      useFactory: (config: FabricaConfig) =>
        new Client({
          connection: lazyTemporalConnection(config.temporal),
          namespace: config.temporal.namespace,
        }),
    },
  ],
  exports: [TEMPORAL_CLIENT],
})
export class TemporalModule implements OnApplicationShutdown {
  constructor(@Inject(TEMPORAL_CLIENT) private readonly client: Client) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.connection.close();
  }
}
