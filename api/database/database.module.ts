import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import type { FabricaConfig } from '../../worker/config.js';
import { CONFIG } from '../config/config.module.js';

/** Injection token of the warehouse pool (read side of the API: catalog, marts, features). */
export const WAREHOUSE = Symbol('WAREHOUSE');

/** Provides the warehouse connection pool. */
@Global()
@Module({
  providers: [
    {
      provide: WAREHOUSE,
      inject: [CONFIG],
      useFactory: (config: FabricaConfig) => {
        const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, application_name: 'fabrica-api' });
        pool.on('error', () => undefined); // an idle client lost its server; the next query reconnects
        // A checked-out client losing its server emits 'error' on itself: its query rejects (503), never a crash.
        pool.on('connect', (client) => client.on('error', () => undefined));
        return pool;
      },
    },
  ],
  exports: [WAREHOUSE],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(WAREHOUSE) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
