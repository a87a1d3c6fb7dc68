import type pg from 'pg';

/**
 * Fills one working day of `factory.production_events` straight by SQL (no files, no runs): `machines` machines ×
 * hours 06–17 (-03:00) × `itemsPerHour` synthetic items, with the load ledger entries a load would write, so exports
 * see the partitions as published. For benchmarks and tests that need volume fast; the pipeline's own tests use
 * generated files.
 */
export async function fillSyntheticEvents(
  db: Pick<pg.Client, 'query'>,
  o: { day: string; machines: number; itemsPerHour: number },
): Promise<void> {
  await db.query(
    `INSERT INTO factory.production_events (partition_hour, machine_id, item_seq, ts, sku, status, cycle_ms, temp_c,
       vibration_mm_s, operator, energy_wh, line_no, source_sha256)
     SELECT h.hour, m.id, i, h.hour + make_interval(secs => i * 3590.0 / $3), 'SKU-PAN-' || (20 + (i % 3) * 4),
       CASE WHEN i % 53 = 0 THEN 'SCRAP' WHEN i % 97 = 0 THEN 'REWORK' ELSE 'OK' END,
       700 + (i * 7919) % 300, 60 + ((i * 31) % 200) / 10.0, 1 + ((i * 17) % 400) / 100.0,
       (ARRAY['João Silva', 'Inês Conceição', 'Márcia Simões', 'Pedro Costa'])[1 + i % 4],
       CASE WHEN m.n % 3 = 0 THEN 10 + (i % 50) / 10.0 END, i + 2, 'synthetic'
     FROM (SELECT n, 'M' || lpad(n::text, 2, '0') AS id FROM generate_series(1, $2::int) n) m
     CROSS JOIN (SELECT ($1 || ' ' || lpad(hr::text, 2, '0') || ':00:00-03:00')::timestamptz AS hour
                 FROM generate_series(6, 17) hr) h
     CROSS JOIN generate_series(1, $3::int) i`,
    [o.day, o.machines, o.itemsPerHour],
  );
  await db.query(
    `INSERT INTO ops.load_ledger (dataset, partition_key, content_sha256, run_id, rows)
     SELECT 'production_events', 'M' || lpad(m::text, 2, '0') || '@' || $1 || 'T' || lpad(h::text, 2, '0'),
       'synthetic', 'synthetic-fill', $3
     FROM generate_series(1, $2::int) m CROSS JOIN generate_series(6, 17) h`,
    [o.day, o.machines, o.itemsPerHour],
  );
}
