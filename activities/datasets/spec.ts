import type pg from 'pg';
import type { PartitionWindow } from '../../workflows/partitions.js';
import { PG_TYPES, type ColumnType } from '../formats/format.js';

/** A column of a declared dataset. */
export interface DatasetColumn {
  name: string;
  type: ColumnType;
  /** NULL allowed; default false. */
  nullable?: boolean;
  description?: string;
}

/**
 * A warehouse dataset declared as data: its table, columns (in load order), key and the columns that hold its
 * partition. Load, atomic replace, the ledger, lineage, the partition API and exports work for any declared dataset.
 * A table column that is not declared must have a default (e.g. `refreshed_at`).
 */
export interface DatasetSpec {
  /** Unique name (snake_case), as pipelines' `load.datasets` name it. */
  name: string;
  /** Schema-qualified table. */
  table: string;
  description: string;
  columns: DatasetColumn[];
  /** Row identity (the table's primary key). */
  key: string[];
  /**
   * The columns a partition's rows are found by: the entity column (entity partitionings) and the time column,
   * which holds the partition's start instant (a `timestamp` column) or its local date (a `date` column). Absent for
   * a source's table (`source`), which is not partitioned.
   */
  partitionColumns?: { entity?: string; time: string };
  /** The source sync that writes this table (`maintenance-events`), for a source's dataset. */
  source?: string;
}

/** The partition columns of a pipeline's dataset (an error for a source's table). */
export function partitionColumnsOf(d: DatasetSpec): { entity?: string; time: string } {
  if (!d.partitionColumns) throw new Error(`dataset ${d.name} has no partition columns (a source's table)`);
  return d.partitionColumns;
}

/**
 * The WHERE clause selecting a partition's rows of a dataset, with its parameters numbered from `first`: the entity
 * column, and the time column holding the partition's start instant or its local date.
 */
export function partitionWhere(d: DatasetSpec, window: PartitionWindow, partition: string, first = 1) {
  const pc = partitionColumnsOf(d);
  const timeType = d.columns.find((c) => c.name === pc.time)!.type;
  const time = timeType === 'date' ? window.date : window.start;
  return pc.entity
    ? { sql: `${pc.entity} = $${first} AND ${pc.time} = $${first + 1}`, params: [partition.split('@')[0], time] }
    : { sql: `${pc.time} = $${first}`, params: [time] };
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Problems of one declaration (empty when valid), each naming the dataset and field. */
export function datasetProblems(d: DatasetSpec): string[] {
  const problems: string[] = [];
  const need = (cond: boolean, msg: string) => cond || problems.push(`dataset ${d.name}: ${msg}`);
  need(IDENT.test(d.name), 'name must be snake_case');
  need(/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/.test(d.table), `table "${d.table}" must be schema.table`);
  const names = d.columns.map((c) => c.name);
  d.columns.forEach((c, i) => {
    need(IDENT.test(c.name), `columns[${i}].name "${c.name}" must be snake_case`);
    need(c.type in PG_TYPES, `columns[${i}].type: unknown type "${c.type}"`);
  });
  need(new Set(names).size === names.length, 'column names must be unique');
  for (const k of d.key) need(names.includes(k), `key column "${k}" is not a declared column`);
  if (!d.partitionColumns) {
    need(Boolean(d.source), "partitionColumns is required (only a source's table has none)");
    return problems;
  }
  const { entity, time } = d.partitionColumns;
  need(names.includes(time), `partitionColumns.time "${time}" is not a declared column`);
  const timeType = d.columns.find((c) => c.name === time)?.type;
  need(
    !timeType || timeType === 'timestamp' || timeType === 'date',
    'partitionColumns.time must be a timestamp or date',
  );
  if (entity) need(names.includes(entity), `partitionColumns.entity "${entity}" is not a declared column`);
  return problems;
}

/** PostgreSQL's `format_type` spelling of each column type, as `information_schema` reports it. */
const INFO_TYPES: Readonly<Record<ColumnType, string>> = { ...PG_TYPES };

/**
 * Where the declarations and the database disagree (empty when they match): a missing table, a declared column
 * missing, of another type or nullability, or a table column that is neither declared nor defaulted. Run at worker
 * start-up and by a test, so a declaration and its migration cannot drift.
 */
export async function datasetDrift(db: pg.Pool, datasets: readonly DatasetSpec[]): Promise<string[]> {
  const res = await db.query<{
    tbl: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
    dflt: boolean;
  }>(
    `SELECT table_schema || '.' || table_name AS tbl, column_name, data_type, is_nullable, column_default IS NOT NULL AS dflt
     FROM information_schema.columns WHERE table_schema || '.' || table_name = ANY($1) ORDER BY ordinal_position`,
    [datasets.map((d) => d.table)],
  );
  const problems: string[] = [];
  for (const d of datasets) {
    const actual = new Map(res.rows.filter((r) => r.tbl === d.table).map((r) => [r.column_name, r]));
    if (actual.size === 0) {
      problems.push(`dataset ${d.name}: table ${d.table} does not exist (missing migration?)`);
      continue;
    }
    for (const c of d.columns) {
      const a = actual.get(c.name);
      if (!a) problems.push(`dataset ${d.name}: column ${d.table}.${c.name} does not exist`);
      else if (a.data_type !== INFO_TYPES[c.type])
        problems.push(`dataset ${d.name}: column ${c.name} is ${a.data_type} in ${d.table}, declared ${c.type}`);
      else if ((a.is_nullable === 'YES') !== Boolean(c.nullable))
        problems.push(
          `dataset ${d.name}: column ${c.name} is ${a.is_nullable === 'YES' ? '' : 'NOT '}NULL in ${d.table}, declared ${c.nullable ? 'nullable' : 'not nullable'}`,
        );
    }
    const declared = new Set(d.columns.map((c) => c.name));
    for (const [name, a] of actual)
      if (!declared.has(name) && !a.dflt)
        problems.push(`dataset ${d.name}: column ${d.table}.${name} is not declared and has no default`);
  }
  return problems;
}
