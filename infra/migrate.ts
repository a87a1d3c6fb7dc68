import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from './paths.js';

/** A migration set: a folder of `NNN_name.sql` files applied in order to one database. */
export type MigrationSet = 'warehouse' | 'inventory';

/** Result of {@link migrate}. */
export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

/**
 * Applies the versioned SQL migrations of `set` that the database has not seen yet, each in its own transaction,
 * under an advisory lock so that concurrent starters (API, worker, tests) never race. A migration edited after it
 * was applied stops start-up (its checksum no longer matches).
 */
export async function migrate(databaseUrl: string, set: MigrationSet): Promise<MigrationResult> {
  const dir = path.join(projectRoot, 'infra', 'migrations', set);
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`fabrica.migrations.${set}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS fabrica_meta;
      CREATE TABLE IF NOT EXISTS fabrica_meta.schema_migrations (
        migration_set text NOT NULL, version text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (migration_set, version))`);
    const done = await client.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM fabrica_meta.schema_migrations WHERE migration_set = $1',
      [set],
    );
    const known = new Map(done.rows.map((r) => [r.version, r.checksum]));
    const applied: string[] = [];
    for (const file of files) {
      const sql = readFileSync(path.join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const seen = known.get(file);
      if (seen !== undefined) {
        if (seen !== checksum) throw new Error(`migration ${set}/${file} was changed after it was applied`);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query(
          'INSERT INTO fabrica_meta.schema_migrations (migration_set, version, checksum) VALUES ($1, $2, $3)',
          [set, file, checksum],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${set}/${file} failed: ${(err as Error).message}`, { cause: err });
      }
      applied.push(file);
    }
    return { applied, alreadyApplied: known.size };
  } finally {
    await client.end();
  }
}
