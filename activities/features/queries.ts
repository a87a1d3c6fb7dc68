import type { FeatureSetSpec } from '../../workflows/features/spec.js';

/**
 * The warehouse queries that compute feature sets. Each returns exactly the spec's columns (plus the label for
 * training exports) and is run as `COPY (<query>) TO STDOUT`, which takes no bind parameters: every value spliced in
 * is validated here against a strict pattern first, so a query can never carry anything but a date, an instant or an
 * identifier.
 */
export interface FeatureQueryInput {
  /** First and last plant-local day (`YYYY-MM-DD`, inclusive). */
  from: string;
  to: string;
  /** Knowledge cut-off (ISO instant): only data published/known at or before it is used. */
  asOf: string;
  /** Add the label column (training exports only). */
  training: boolean;
  /** Restrict to one entity (online features). */
  entity?: string;
  /**
   * For event-grain sets, the partitions of the range the caller found published only after the cut-off (per entity,
   * the instants of their hours), to leave out. Given (even empty), the query reads the range of hours directly (a
   * BRIN range scan) instead of joining with the ledger.
   */
  excluded?: { entity: string; hours: string[] }[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const ENTITY = /^[A-Za-z0-9_-]{1,32}$/;
/** An IANA zone name as it may appear in SQL literals (`America/Sao_Paulo`). */
const ZONE = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;

/** A literal for a validated value. */
function lit(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new RangeError(`invalid ${what}: ${JSON.stringify(value)}`);
  return `'${value}'`;
}

type QueryBuilder = (spec: FeatureSetSpec, input: FeatureQueryInput) => string;

/**
 * SQL turning an `<entity>@<YYYY-MM-DDTHH>` partition key into its hour's instant, given the SQL of the plant's IANA
 * zone (a literal like `'America/Sao_Paulo'` or a bind parameter like `$5`). The one place the catalog's keys are
 * parsed in SQL.
 */
export function partitionHourSql(key: string, zone: string): string {
  return `((split_part(${key}, '@', 2) || ':00:00')::timestamp AT TIME ZONE ${zone})`;
}

/** SQL of the instant a local day (SQL of a date or date text) starts in the zone. */
function dayStartSql(day: string, zone: string): string {
  return `((${day})::date::timestamp AT TIME ZONE '${zone}')`;
}

/** SQL of the entity of a partition key. */
export function partitionEntitySql(key: string): string {
  return `split_part(${key}, '@', 1)`;
}

/** Partitions of a dataset first published at or before the cut-off, with their hour and entity. */
function available(dataset: string, asOf: string, offset: string): string {
  return `SELECT ${partitionEntitySql('partition_key')} AS entity,
        ${partitionHourSql('partition_key', `'${offset}'`)} AS partition_hour
      FROM ops.load_ledger WHERE dataset = '${dataset}'
      GROUP BY partition_key HAVING min(loaded_at) <= ${asOf}::timestamptz`;
}

/**
 * machine-maintenance-daily v1. Day D spans [D 00:00, D+1 00:00) at the spec's offset; its row is computed as of the
 * end of D (or the cut-off, if earlier):
 * - production facts come from the hourly yield mart, restricted to hours whose event time is before the end of D
 *   (windows D, D-6..D, D-30..D-1) and whose partition was first published by the cut-off;
 * - maintenance records are taken in the latest version whose `updated_at` is before the end of D (and loaded by the
 *   cut-off), so an insert or an update made after D changes nothing as of D; deleted versions drop the record;
 * - the label uses the latest version known at the cut-off: a maintenance starting within the horizon after D.
 */
const machineMaintenanceDailyV1: QueryBuilder = (spec, q) => {
  const off = spec.timeZone;
  if (!ZONE.test(off)) throw new RangeError(`invalid timeZone ${off}`);
  const from = lit(q.from, DAY, 'from');
  const to = lit(q.to, DAY, 'to');
  const asOf = lit(q.asOf, INSTANT, 'asOf');
  const entity = q.entity === undefined ? '' : `AND y.machine_id = ${lit(q.entity, ENTITY, 'entity')}`;
  const dayStart = (day: string) => dayStartSql(day, off);
  const horizon = spec.label?.horizonDays ?? 7;
  const label = q.training
    ? `, EXISTS (
        SELECT 1 FROM (
          SELECT DISTINCT ON (v.id) v.* FROM sources.maintenance_event_versions v
          WHERE v.loaded_at <= ${asOf}::timestamptz AND v.updated_at <= ${asOf}::timestamptz
          ORDER BY v.id, v.updated_at DESC
        ) l
        WHERE NOT l.deleted AND l.machine_id = t.machine_id
          AND l.started_at >= t.day_end AND l.started_at < t.day_end + interval '${horizon} days'
      ) AS label_maintenance_next_7d`
    : '';
  return `
WITH hourly AS (
  SELECT y.machine_id, (y.partition_hour AT TIME ZONE '${off}')::date AS day, y.items, y.scrap,
         y.cycle_ms_mean, y.temp_c_mean, y.vibration_max, y.downtime_minutes
  FROM factory.machine_yield_hourly y
  JOIN (${available('machine_yield_hourly', asOf, off)}) a
    ON a.entity = y.machine_id AND a.partition_hour = y.partition_hour
  WHERE y.partition_hour >= ${dayStart(`${from}::date - 30`)}
    AND y.partition_hour < ${dayStart(`${to}::date + 1`)} ${entity}
),
daily AS (
  SELECT machine_id, day, count(*)::int AS hours, sum(items)::bigint AS items, sum(scrap)::bigint AS scrap,
    sum(cycle_ms_mean * items) FILTER (WHERE cycle_ms_mean IS NOT NULL) AS cycle_w,
    sum(items) FILTER (WHERE cycle_ms_mean IS NOT NULL) AS cycle_n,
    sum(temp_c_mean * items) FILTER (WHERE temp_c_mean IS NOT NULL) AS temp_w,
    sum(items) FILTER (WHERE temp_c_mean IS NOT NULL) AS temp_n,
    max(vibration_max) AS vib_max, sum(vibration_max) AS vib_sum, count(vibration_max) AS vib_n,
    sum(downtime_minutes) AS downtime
  FROM hourly GROUP BY machine_id, day
),
t AS (
  SELECT d.*, ${dayStart('d.day + 1')} AS day_end, ${dayStart('d.day')} AS day_start
  FROM daily d WHERE d.day BETWEEN ${from}::date AND ${to}::date
)
SELECT t.machine_id, t.day AS feature_date, least(t.day_end, ${asOf}::timestamptz) AS as_of,
  t.hours AS hours_observed_1d, t.items AS items_1d,
  t.scrap::float8 / nullif(t.items, 0) AS scrap_rate_1d,
  w7.scrap::float8 / nullif(w7.items, 0) AS scrap_rate_7d,
  t.vib_max AS vibration_max_1d, w7.vib_max AS vibration_max_7d, w7.vib_sum / nullif(w7.vib_n, 0) AS vibration_mean_7d,
  t.temp_w / nullif(t.temp_n, 0) AS temp_mean_1d, w7.temp_w / nullif(w7.temp_n, 0) AS temp_mean_7d,
  w7.cycle_w / nullif(w7.cycle_n, 0) AS cycle_ms_mean_7d, b30.cycle_w / nullif(b30.cycle_n, 0) AS cycle_ms_baseline_30d,
  ((w7.cycle_w / nullif(w7.cycle_n, 0)) / nullif(b30.cycle_w / nullif(b30.cycle_n, 0), 0) - 1) * 100
    AS cycle_time_drift_pct,
  t.downtime::float8 AS downtime_minutes_1d, w7.downtime::float8 AS downtime_minutes_7d,
  m.hours_since AS hours_since_maintenance, m.n30 AS maintenance_count_30d${label}
FROM t
CROSS JOIN LATERAL (
  SELECT sum(items) AS items, sum(scrap) AS scrap, max(vib_max) AS vib_max, sum(vib_sum) AS vib_sum,
    sum(vib_n) AS vib_n, sum(temp_w) AS temp_w, sum(temp_n) AS temp_n, sum(cycle_w) AS cycle_w,
    sum(cycle_n) AS cycle_n, sum(downtime) AS downtime
  FROM daily d WHERE d.machine_id = t.machine_id AND d.day BETWEEN t.day - 6 AND t.day
) w7
CROSS JOIN LATERAL (
  SELECT sum(cycle_w) AS cycle_w, sum(cycle_n) AS cycle_n
  FROM daily d WHERE d.machine_id = t.machine_id AND d.day BETWEEN t.day - 30 AND t.day - 1
) b30
CROSS JOIN LATERAL (
  SELECT
    extract(epoch FROM t.day_end - max(least(coalesce(k.ended_at, t.day_end), t.day_end)))::float8 / 3600
      AS hours_since,
    (count(*) FILTER (WHERE k.started_at >= t.day_start - interval '29 days'))::int AS n30
  FROM (
    SELECT DISTINCT ON (v.id) v.* FROM sources.maintenance_event_versions v
    WHERE v.updated_at < t.day_end AND v.loaded_at <= ${asOf}::timestamptz
    ORDER BY v.id, v.updated_at DESC
  ) k
  WHERE NOT k.deleted AND k.machine_id = t.machine_id AND k.started_at < t.day_end
) m`;
};

/**
 * production-events v1: the dataset's rows in the range, from partitions first published by the cut-off: the range
 * of hours minus the partitions the caller found published later (rows in storage order), or, without that list, a
 * join with the ledger.
 */
const productionEventsV1: QueryBuilder = (spec, q) => {
  const off = spec.timeZone;
  if (!ZONE.test(off)) throw new RangeError(`invalid timeZone ${off}`);
  const from = lit(q.from, DAY, 'from');
  const to = lit(q.to, DAY, 'to');
  const asOf = lit(q.asOf, INSTANT, 'asOf');
  const cols = `e.partition_hour, e.machine_id, e.item_seq, e.ts, e.sku, e.status, e.cycle_ms, e.temp_c,
  e.vibration_mm_s, e.operator, e.energy_wh`;
  const entity = q.entity === undefined ? '' : `AND e.machine_id = ${lit(q.entity, ENTITY, 'entity')}`;
  const start = dayStartSql(from, off);
  const end = dayStartSql(`${to}::date + 1`, off);
  if (q.excluded) {
    const left = q.excluded
      .filter((p) => p.hours.length > 0)
      .map((p) => {
        const hours = p.hours.map((h) => `${lit(h, INSTANT, 'partition hour')}::timestamptz`).join(', ');
        return `AND NOT (e.machine_id = ${lit(p.entity, ENTITY, 'entity')} AND e.partition_hour = ANY (ARRAY[${hours}]))`;
      });
    return `
SELECT ${cols}
FROM factory.production_events e
WHERE e.partition_hour >= ${start} AND e.partition_hour < ${end} ${entity}
${left.join('\n')}`;
  }
  return `
SELECT ${cols}
FROM factory.production_events e
JOIN (${available('production_events', asOf, off)}) a
  ON a.entity = e.machine_id AND a.partition_hour = e.partition_hour
WHERE e.partition_hour >= ${start} AND e.partition_hour < ${end} ${entity}`;
};

const QUERIES: Record<string, QueryBuilder> = {
  'machine-maintenance-daily-v1': machineMaintenanceDailyV1,
  'production-events-v1': productionEventsV1,
};

/** The SELECT computing a feature set over a range (for `COPY (…) TO STDOUT`). */
export function featureQuery(spec: FeatureSetSpec, input: FeatureQueryInput): string {
  const build = QUERIES[spec.query];
  if (!build) throw new Error(`feature set ${spec.id}: no registered query ${spec.query}`);
  return build(spec, input);
}

/** Whether a query id is registered (guard test). */
export function hasFeatureQuery(id: string): boolean {
  return id in QUERIES;
}
