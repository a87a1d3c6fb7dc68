import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/** A folder of migrations and the name its versions are recorded under. */
interface MigrationDir {
  set: string;
  dir: string;
}

/**
 * The migration folders of a set: the core folder `infra/migrations/<set>`, then, for the warehouse, the
 * `migrations/` folder of every declared pipeline that has one (recorded as set `pipeline:<id>`), in pipeline order.
 */
async function migrationDirs(set: MigrationSet): Promise<MigrationDir[]> {
  const core = { set, dir: path.join(projectRoot, 'infra', 'migrations', set) };
  if (set !== 'warehouse') return [core];
  const { DECLARED } = await import('../activities/registry/pipelines.js');
  const flows = DECLARED.map((d) => ({ set: `pipeline:${d.spec.id}`, dir: path.join(d.dir, 'migrations') })).filter(
    (d) => existsSync(d.dir),
  );
  return [core, ...flows];
}

/**
 * Applies the versioned SQL migrations of `set` that the database has not seen yet, each in its own transaction,
 * under an advisory lock so that concurrent starters (API, worker, tests) never race. A migration edited after it
 * was applied stops start-up (its checksum no longer matches).
 */
export async function migrate(databaseUrl: string, set: MigrationSet): Promise<MigrationResult> {
  const dirs = await migrationDirs(set);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`fabrica.migrations.${set}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS fabrica_meta;
      CREATE TABLE IF NOT EXISTS fabrica_meta.schema_migrations (
        migration_set text NOT NULL, version text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (migration_set, version))`);
    const applied: string[] = [];
    let alreadyApplied = 0;
    for (const { set: name, dir } of dirs) {
      const result = await applyDir(client, name, dir);
      applied.push(...result.applied);
      alreadyApplied += result.alreadyApplied;
    }
    return { applied, alreadyApplied };
  } finally {
    await client.end();
  }
}

/** Applies one folder's migrations not applied yet (the caller holds the lock). */
async function applyDir(client: pg.Client, set: string, dir: string): Promise<MigrationResult> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort();
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
    applied.push(`${set}/${file}`);
  }
  return { applied, alreadyApplied: known.size };
}
