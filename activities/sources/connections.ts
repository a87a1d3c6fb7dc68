import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';

/**
 * The connections of the external sources, by configuration setting (`RECORDS_DATABASE_URL`, `CATALOG_API_URL`…):
 * one small pool per source database, created on first use; base URLs of HTTP sources. A source whose setting is
 * absent is not configured: its syncs fail at once, naming the setting.
 */
export class SourceConnections {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly settings: Readonly<Record<string, string | undefined>> = {}) {}

  /** Whether the setting has a value. */
  configured(setting: string): boolean {
    return Boolean(this.settings[setting]);
  }

  /** The pool of a source database (at most 2 connections: a sync reads with one). */
  database(setting: string): pg.Pool {
    let pool = this.pools.get(setting);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: this.require(setting),
        max: 2,
        application_name: 'fabrica-source',
        // The role is read-only at the source; asking for read-only sessions as well costs nothing.
        options: '-c default_transaction_read_only=on',
        connectionTimeoutMillis: 15_000,
      });
      pool.on('error', (err) =>
        console.error(JSON.stringify({ level: 'warn', msg: `source pool ${setting}`, err: err.message })),
      );
      // A checked-out client's socket dying emits 'error' on the client (no pool listener): its query already
      // rejects, so only log it instead of crashing the worker.
      pool.on('connect', (client) =>
        client.on('error', (err) =>
          console.error(JSON.stringify({ level: 'warn', msg: `source connection ${setting}`, err: err.message })),
        ),
      );
      this.pools.set(setting, pool);
    }
    return pool;
  }

  /** The base URL of an HTTP source, without a trailing slash. */
  httpBase(setting: string): string {
    return this.require(setting).replace(/\/+$/, '');
  }

  /** Closes the pools. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end()));
  }

  private require(setting: string): string {
    const value = this.settings[setting];
    if (!value)
      throw ApplicationFailure.nonRetryable(`source not configured: ${setting} is not set`, 'SourceNotConfigured');
    return value;
  }
}
